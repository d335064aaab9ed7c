"""The MMRM engine: linear models with correlated residuals within subject across visits.

Fits match SAS PROC MIXED (``REPEATED / TYPE=...``): REML or ML, unstructured and
structured covariance matrices, Satterthwaite and Kenward-Roger inference, Type 3 tests and
LS-means. The likelihood is evaluated from per-missingness-pattern sufficient statistics,
so the cost of an optimisation step does not grow with the number of subjects.

Entry points: :func:`fit_mmrm` (options in one :class:`MMRMControl`), or
:func:`prepare_mmrm` then :func:`fit_prepared` to look at the data before fitting. Lower
level, for code that builds on the likelihood: :class:`PatternStats`, :func:`evaluate`,
:func:`optimise`.
"""

from .covariance import STRUCTURES, CovarianceStructure, get_structure
from .design import Design, parse_formula
from .fit import (
    DDF_METHODS,
    SAS_CONVH,
    ConvergenceError,
    FitAttempt,
    MMRMControl,
    MMRMData,
    fit_mmrm,
    fit_prepared,
    optimise,
    prepare_mmrm,
)
from .grouped import GroupedStructure, expand_time, grouped_structure
from .likelihood import PatternStats, evaluate
from .results import MMRMResults

__all__ = [
    "DDF_METHODS",
    "SAS_CONVH",
    "STRUCTURES",
    "ConvergenceError",
    "CovarianceStructure",
    "Design",
    "FitAttempt",
    "GroupedStructure",
    "MMRMControl",
    "MMRMData",
    "MMRMResults",
    "PatternStats",
    "evaluate",
    "expand_time",
    "fit_mmrm",
    "fit_prepared",
    "get_structure",
    "grouped_structure",
    "optimise",
    "parse_formula",
    "prepare_mmrm",
]
