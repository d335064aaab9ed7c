"""Multiplicity adjustment of p-values (R's ``p.adjust``) over the families of a study."""

from __future__ import annotations

import numpy as np

METHODS = ("holm", "fdr_bh", "none")


def p_adjust(p_values: np.ndarray, method: str = "holm") -> np.ndarray:
    """Adjusted p-values, as R's ``p.adjust`` (NaN are ignored and stay NaN).

    Parameters
    ----------
    p_values : array_like
    method : {"holm", "fdr_bh", "none"}
        Holm's step-down (family-wise error), Benjamini-Hochberg (false discovery rate; R's
        ``"BH"``/``"fdr"``), or no adjustment.

    Returns
    -------
    ndarray
        Same shape and order as ``p_values``.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    present = ~np.isnan(p)
    values = p[present]
    m = len(values)
    if method == "none" or m == 0:
        out[present] = values
        return out
    if method == "holm":
        order = np.argsort(values, kind="stable")
        adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * values[order]))
    elif method in ("fdr_bh", "BH", "fdr"):
        order = np.argsort(values, kind="stable")[::-1]
        ranks = m - np.arange(m)  # the i of the i-th smallest, walking from the largest
        adjusted = np.minimum(1.0, np.minimum.accumulate(m / ranks * values[order]))
    else:
        raise ValueError(f"unknown multiplicity method {method!r}; expected one of {METHODS}")
    result = np.empty(m)
    result[order] = adjusted
    out[present] = result
    return out
