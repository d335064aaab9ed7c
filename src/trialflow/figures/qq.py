"""Normal Q-Q plots of the distributions whose normality chose each test.

One panel per kind of distribution (within-arm changes; values at each visit), each
distribution one series standardised to ``(x - mean) / SD`` against the normal quantiles,
so that every series is judged against the same line ``y = x``; the legend names each series
with its Shapiro-Wilk p and the test it chose. Two panels cost a fraction of one panel per
distribution, and read as well for a handful of distributions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from textwrap import wrap

import numpy as np
import seaborn as sns
from matplotlib.figure import Figure

from trialflow.stats.contract import split_within_contrast
from trialflow.stats.normality import qq_points
from trialflow.tables.format import format_p

from .style import figure_style

__all__ = ["QQ_KINDS", "QQ_MAX_POINTS", "qq_figure", "qq_series"]

QQ_MAX_POINTS = 100  # points drawn per distribution at most
QQ_KINDS = {"change": "Changes", "values": "Values at each visit"}  # panel titles, in order
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")


def qq_series(values: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """The points of one standardised Q-Q series, thinned to :data:`QQ_MAX_POINTS`.

    Normal quantiles at Filliben's positions (:func:`trialflow.stats.qq_points`) against the
    sorted values standardised with their mean and SD (``ddof=1``). Large samples are drawn
    as evenly spaced order statistics, the extremes kept.

    Returns
    -------
    theoretical, standardised : numpy.ndarray
        Empty when there are fewer than two values or no spread.
    """
    theory, ordered, _, _ = qq_points(np.asarray(values, dtype=float))
    sd = float(np.std(ordered, ddof=1)) if len(ordered) > 1 else 0.0
    if not sd > 0:
        return np.array([]), np.array([])
    standardised = (ordered - ordered.mean()) / sd
    if len(ordered) > QQ_MAX_POINTS:
        shown = np.unique(np.round(np.linspace(0, len(ordered) - 1, QQ_MAX_POINTS)).astype(int))
        theory, standardised = theory[shown], standardised[shown]
    return theory, standardised


def _series_label(cell: Mapping, arm_labels: Mapping, visit_labels: Mapping) -> str:
    if cell.get("kind", "change") == "values":
        what = visit_labels.get(cell["contrast"], cell["contrast"])
    else:
        later, earlier = split_within_contrast(cell["contrast"])
        what = f"{visit_labels.get(later, later)} − {visit_labels.get(earlier, earlier)}"
    arm = arm_labels.get(cell["arm"], cell["arm"])
    n = len(cell["values"])
    sub = (
        f"n = {n}, Shapiro-Wilk {format_p(cell['shapiro_p'], prefix=True)}"
        if np.isfinite(cell["shapiro_p"])
        else f"n = {n}"
    )
    test = f" → {cell['test']}" if cell["test"] else ""
    return f"{arm}: {what}\n{sub}{test}"


def qq_figure(
    cells: Sequence[Mapping],
    label: str,
    arm_labels: Mapping[str, str] | None = None,
    visit_labels: Mapping[str, str] | None = None,
) -> Figure:
    """Standardised normal Q-Q plots of the cells from :func:`qq_cells`, one panel per kind.

    Parameters
    ----------
    cells : sequence of mapping
        From :func:`qq_cells` (``arm, kind, contrast, values, test, shapiro_p``).
    label : str
        Outcome label for the figure title.
    arm_labels, visit_labels : mapping, optional
        Printed names of arms and visits.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per kind present (changes first), one scatter series per cell in ``cells``
        order, labelled (legend) with the arm, contrast or visit, n, the Shapiro-Wilk p and
        the test reported.
    """
    arm_labels = dict(arm_labels or {})
    visit_labels = dict(visit_labels or {})
    kinds = [k for k in QQ_KINDS if any(c.get("kind", "change") == k for c in cells)] or ["change"]
    panels = {k: [c for c in cells if c.get("kind", "change") == k] for k in kinds}
    longest = max(len(v) for v in panels.values())
    colours = sns.color_palette("colorblind", max(1, longest))
    with figure_style():
        fig = Figure(
            figsize=(3.4 * len(kinds) + 0.3, 3.3 + 0.3 * max(1, longest)), layout="constrained"
        )
        axes = fig.subplots(1, len(kinds), squeeze=False)[0]
        for ax, kind in zip(axes, kinds, strict=True):
            ax.axline((0.0, 0.0), slope=1.0, color="0.5", lw=0.8, ls="--")
            for i, cell in enumerate(panels[kind]):
                theory, standardised = qq_series(cell["values"])
                ax.scatter(
                    theory,
                    standardised,
                    s=10,
                    color=colours[i % len(colours)],
                    marker=_MARKERS[i % len(_MARKERS)],
                    label=_series_label(cell, arm_labels, visit_labels),
                )
            ax.set_title(QQ_KINDS[kind])
            ax.set_xlabel("Normal quantiles")
            ax.set_ylabel("Standardised value (x − mean) / SD")
            ax.legend(
                loc="upper left",
                bbox_to_anchor=(0.0, -0.16),
                frameon=False,
                fontsize=7,
                handletextpad=0.3,
                borderaxespad=0.0,
            )
        width = int(12 * (3.4 * len(kinds) + 0.3))  # characters that fit across the figure
        fig.suptitle("\n".join(wrap(f"Normal Q-Q plots: {label}", width)), fontsize=9)
    return fig
