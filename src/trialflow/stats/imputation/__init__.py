"""Missing-data sensitivity analyses: multiple imputation under MAR, reference-based
imputation (J2R, CR, CIR, LMCF; Carpenter, Roger and Kenward 2013) and the tipping point.

Two methods, with the definitions of the R package rbmi:

- :func:`conditional_mean` -- conditional mean imputation with jackknife standard errors
  (Wolbers et al. 2022), deterministic;
- :func:`bootstrap_mi` -- bootstrapped-REML multiple imputation ("approximate Bayesian")
  pooled by Rubin's rules with Barnard-Rubin degrees of freedom.

Both fit the imputation model (an MMRM with every mean term interacting with visit,
unstructured covariance shared or per arm) with the MMRM engine, impute each participant
under its strategy, analyse the completed data by the ANCOVA at each post-baseline visit
and return an :class:`ImputationResult` whose ``table`` holds one tidy row per visit and
contrast ``<arm> - <first arm>``. :func:`tipping_point` repeats an analysis over a grid of
deltas added to one arm's imputed post-ICE values and finds where significance is lost.
"""

from .bootstrap import bootstrap_mi
from .conditional_mean import conditional_mean
from .data import POST_ICE, REFERENCE_BASED, STRATEGIES, derive_monotone_ice, resolve_strategies
from .model import COVARIANCE, ImputationFitError
from .pooling import jackknife_se, rubin_pool
from .results import TABLE_COLUMNS, ImputationResult
from .tipping_point import TippingPointResult, plot_tipping_point, tipping_point

__all__ = [
    "COVARIANCE",
    "POST_ICE",
    "REFERENCE_BASED",
    "STRATEGIES",
    "TABLE_COLUMNS",
    "ImputationFitError",
    "ImputationResult",
    "TippingPointResult",
    "bootstrap_mi",
    "conditional_mean",
    "derive_monotone_ice",
    "jackknife_se",
    "plot_tipping_point",
    "resolve_strategies",
    "rubin_pool",
    "tipping_point",
]
