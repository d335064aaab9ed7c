"""The MMRM engine: linear models with correlated residuals within subject across visits.

Fits match SAS PROC MIXED (``REPEATED / TYPE=...``): REML or ML, unstructured and
structured covariance matrices, Satterthwaite and Kenward-Roger inference, Type 3 tests and
LS-means. The likelihood is evaluated from per-missingness-pattern sufficient statistics,
so the cost of an optimisation step does not grow with the number of subjects.
"""

from .covariance import STRUCTURES, CovarianceStructure, get_structure
from .design import Design, parse_formula
from .fit import ConvergenceError, FitAttempt, fit_mmrm
from .grouped import GroupedStructure, expand_time, grouped_structure
from .results import MMRMResults

__all__ = [
    "STRUCTURES",
    "ConvergenceError",
    "CovarianceStructure",
    "Design",
    "FitAttempt",
    "GroupedStructure",
    "MMRMResults",
    "expand_time",
    "fit_mmrm",
    "get_structure",
    "grouped_structure",
    "parse_formula",
]
