"""Tipping-point analysis: how far must imputed values move before the conclusion changes?

A delta is added to every imputed post-ICE value of one arm (after imputation, as rbmi's
``delta`` and the "five macros"); the analysis is repeated for each delta of a grid. The
tipping point is the delta nearest 0, in the direction unfavourable to that arm (negative
when higher values are better), at which the two-sided p-value reaches alpha. Each
method's inference is a closed-form continuous function of delta (the estimates are linear
in delta; :mod:`.results`), so the tipping point is found exactly by Brent's root finding
between the two grid points that bracket ``p = alpha``, not by interpolation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from .results import ImputationResult

__all__ = ["TippingPointResult", "plot_tipping_point", "tipping_point"]


@dataclass(frozen=True)
class TippingPointResult:
    """``table``: the result rows at every delta (column ``delta``); ``tipping``: per visit
    and contrast the tipping delta (NaN when the grid has no crossing in that direction),
    with the grid points that bracket it."""

    table: pd.DataFrame
    tipping: pd.DataFrame
    arm: str
    alpha: float
    higher_is_better: bool


def tipping_point(
    result: ImputationResult, deltas: Sequence[float], higher_is_better: bool = True
) -> TippingPointResult:
    """Results over a grid of deltas and the tipping point per visit and contrast.

    Parameters
    ----------
    result : ImputationResult
        From :func:`conditional_mean` or :func:`bootstrap_mi` with ``delta_arm`` set.
    deltas : sequence of float
        The grid, added to every imputed post-ICE value of ``result.delta_arm``.
    higher_is_better : bool
        Direction of the outcome; the unfavourable direction for the arm is then negative.
    """
    if result.delta_arm is None:
        raise ValueError("tipping_point needs a result computed with delta_arm set")
    grid = np.unique(np.asarray(deltas, dtype=float))
    if not len(grid):
        raise ValueError("no deltas given")
    table = pd.concat([result.table_at(float(delta)) for delta in grid], ignore_index=True)
    sign = -1.0 if higher_is_better else 1.0
    data = result.setup.data
    rows = []
    for j, visit in enumerate(data.visits):
        for a in range(1, len(data.arms)):

            def gap(delta, a=a, j=j):
                return float(result.inference.at(delta, result.alpha)["p_value"][a - 1, j])

            found, low, high = _tipping(gap, grid, sign, result.alpha)
            rows.append(
                {
                    "visit": visit,
                    "contrast": f"{data.arms[a]} - {data.arms[0]}",
                    "arm": result.delta_arm,
                    "direction": "negative" if sign < 0 else "positive",
                    "tipping_delta": found,
                    "bracket_low": low,
                    "bracket_high": high,
                    "p_at_zero": gap(0.0),
                    "alpha": result.alpha,
                    "search": "Brent root of p(delta) = alpha between the bracketing grid points",
                }
            )
    return TippingPointResult(
        table, pd.DataFrame(rows), result.delta_arm, result.alpha, higher_is_better
    )


def _tipping(p_of, grid, sign, alpha):
    """First crossing of ``p = alpha`` moving from 0 in direction ``sign`` along the grid."""
    side = grid[grid * sign > 0]
    path = np.concatenate([[0.0], side[np.argsort(np.abs(side))]])
    values = np.array([p_of(delta) for delta in path]) - alpha
    if values[0] == 0:
        return 0.0, 0.0, 0.0
    for i in range(1, len(path)):
        if values[i] == 0:
            return float(path[i]), float(path[i]), float(path[i])
        if np.sign(values[i]) != np.sign(values[i - 1]):
            root = brentq(lambda x: p_of(x) - alpha, path[i - 1], path[i], xtol=1e-12, rtol=1e-12)
            low, high = sorted((float(path[i - 1]), float(path[i])))
            return float(root), low, high
    return float("nan"), float("nan"), float("nan")


def plot_tipping_point(
    tipping: TippingPointResult, visit: str, stem: str | Path, contrast: str | None = None
) -> list[Path]:
    """Draw ``<stem>.png``: estimate with CI, and p-value, against delta.

    Saved by :func:`trialflow.figures.save_figure` (deterministic: no timestamps, fixed SVG
    salt). ``contrast`` defaults to the first contrast of ``visit``.
    """
    from matplotlib.figure import Figure

    from ...figures import figure_rc, save_figure

    rows = tipping.table.loc[tipping.table["visit"] == visit]
    if rows.empty:
        raise ValueError(f"visit {visit!r} is not in the tipping-point table")
    contrast = contrast if contrast is not None else str(rows["contrast"].iloc[0])
    rows = rows.loc[rows["contrast"] == contrast].sort_values("delta")
    point = tipping.tipping.loc[
        (tipping.tipping["visit"] == visit) & (tipping.tipping["contrast"] == contrast)
    ].iloc[0]
    from matplotlib import rc_context

    with rc_context(figure_rc()):
        fig = Figure(figsize=(6.0, 3.0))
        left, right = fig.subplots(1, 2)
        delta = rows["delta"].to_numpy()
        left.fill_between(delta, rows["ci_low"], rows["ci_high"], color="0.85", lw=0)
        left.plot(delta, rows["estimate"], color="0.1", marker="o", ms=3)
        left.axhline(0, color="0.5", lw=0.8, ls=":")
        left.set_xlabel(f"delta added to imputed values ({tipping.arm})")
        left.set_ylabel(f"{contrast} at {visit}")
        right.plot(delta, rows["p_value"], color="0.1", marker="o", ms=3)
        right.axhline(tipping.alpha, color="C3", lw=0.8, ls="--")
        right.set_yscale("log")
        right.set_xlabel(f"delta added to imputed values ({tipping.arm})")
        right.set_ylabel("two-sided p-value")
        if np.isfinite(point["tipping_delta"]):
            for axis in (left, right):
                axis.axvline(point["tipping_delta"], color="C3", lw=0.8)
            right.annotate(
                f"tipping point {point['tipping_delta']:.3g}",
                (point["tipping_delta"], tipping.alpha),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize=7,
            )
        fig.tight_layout()
        return save_figure(fig, stem)
