"""Missing-data sensitivity analyses: MAR and reference-based imputation, tipping point."""

from .conditional_mean import conditional_mean
from .data import POST_ICE, REFERENCE_BASED, STRATEGIES, resolve_strategies

__all__ = ["POST_ICE", "REFERENCE_BASED", "STRATEGIES", "conditional_mean", "resolve_strategies"]
