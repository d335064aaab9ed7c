"""Standardised effects: an estimate and its interval on the scale of a standard deviation.

The forest plot puts outcomes with different units side by side by dividing each effect by
the baseline standard deviation (pooled over the arms compared), signed so that positive
means improvement: a Cohen's d on the baseline scale.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = ["baseline_sd", "pooled_sd", "standardise"]


def pooled_sd(groups: Iterable[Sequence[float]]) -> float:
    """Pooled standard deviation ``sqrt(sum (n_i - 1) s_i^2 / sum (n_i - 1))``.

    As R's ``effectsize::sd_pooled(x, y)`` for two groups; one group gives its own SD.
    Missing values are dropped; groups with fewer than two values add nothing.

    Parameters
    ----------
    groups : iterable of sequences of float

    Returns
    -------
    float
        NaN when no group has two values.

    Examples
    --------
    >>> round(pooled_sd([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0, 8.0]]), 6)
    2.097618
    """
    arrays = [np.asarray(g, dtype=float) for g in groups]
    arrays = [a[np.isfinite(a)] for a in arrays]
    arrays = [a for a in arrays if len(a) > 1]
    dof = sum(len(a) - 1 for a in arrays)
    if dof <= 0:
        return np.nan
    return float(np.sqrt(sum((len(a) - 1) * a.var(ddof=1) for a in arrays) / dof))


def baseline_sd(analysis: pd.DataFrame, outcome: str, baseline: str, arms: Sequence[str]) -> float:
    """The :func:`pooled_sd` of ``outcome`` at the ``baseline`` visit over ``arms``.

    Parameters
    ----------
    analysis : DataFrame
        Long analysis data: ``arm, visit, outcome, value``.
    outcome, baseline : str
        Outcome id and baseline visit id.
    arms : sequence of str
        The arms compared (one arm for a single-arm study).

    Returns
    -------
    float
    """
    base = analysis[(analysis["outcome"] == outcome) & (analysis["visit"] == baseline)]
    base = base[base["arm"].isin(arms)].dropna(subset=["value"])
    return pooled_sd(g["value"].to_numpy() for _, g in base.groupby("arm", sort=True))


def standardise(
    estimate: float, ci_low: float, ci_high: float, sd: float, direction: float = 1.0
) -> tuple[float, float, float]:
    """An effect and its interval divided by ``sd`` and signed by ``direction``.

    Parameters
    ----------
    estimate, ci_low, ci_high : float
        The effect and its confidence limits, in the outcome's units.
    sd : float
        The standard deviation to divide by; zero, NaN or missing gives NaN.
    direction : float
        ``1`` when higher values are better, ``-1`` when lower are (so that positive
        always means improvement).

    Returns
    -------
    tuple of float
        ``(smd, low, high)`` with ``low <= high`` (a sign flip swaps the limits).

    Examples
    --------
    >>> standardise(2.0, 1.0, 3.0, sd=4.0, direction=-1.0)
    (-0.5, -0.75, -0.25)
    """
    scale = direction / sd if sd and np.isfinite(sd) else np.nan
    lo, hi = ci_low * scale, ci_high * scale
    return estimate * scale, min(lo, hi), max(lo, hi)
