"""Normal Q-Q plots of the distributions whose normality chose each test.

One panel: each distribution (a within-arm change, or the values at a visit) is one series
standardised to ``(x - mean) / SD`` against the normal quantiles, so that every series is
judged against the same line ``y = x``; the legend names each series with its n, its
Shapiro-Wilk p and the test it chose. One panel costs a fraction of one panel per
distribution, and reads as well for the handful of distributions an outcome has.
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

__all__ = ["QQ_MAX_POINTS", "qq_figure", "qq_series"]

QQ_MAX_POINTS = 100  # points drawn per distribution at most
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
_WIDTH = 5.6  # inches
_LABEL_WIDTH = 42  # characters of a legend line at 7 pt: two columns across the figure


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


def _series_label(cell: Mapping, arm_labels: Mapping, visit_labels: Mapping, arms: int) -> str:
    if cell.get("kind", "change") == "values":
        what = f"values at {visit_labels.get(cell['contrast'], cell['contrast'])}"
    else:
        later, earlier = split_within_contrast(cell["contrast"])
        what = f"change {visit_labels.get(later, later)} − {visit_labels.get(earlier, earlier)}"
    if arms > 1:  # the arm only where there is more than one
        what = f"{arm_labels.get(cell['arm'], cell['arm'])}: {what}"
    n = len(cell["values"])
    sub = (
        f"n = {n}, Shapiro-Wilk {format_p(cell['shapiro_p'], prefix=True)}"
        if np.isfinite(cell["shapiro_p"])
        else f"n = {n}"
    )
    test = f" → {cell['test']}" if cell["test"] else ""
    return "\n".join(wrap(what, _LABEL_WIDTH) + wrap(f"{sub}{test}", _LABEL_WIDTH))


def qq_figure(
    cells: Sequence[Mapping],
    label: str,
    arm_labels: Mapping[str, str] | None = None,
    visit_labels: Mapping[str, str] | None = None,
) -> Figure:
    """Standardised normal Q-Q plots of the cells from :func:`qq_cells`, in one panel.

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
        One axes, one scatter series per cell in ``cells`` order, labelled (legend) with the
        change or the visit (and the arm when there are several), n, the Shapiro-Wilk p and
        the test reported; the dashed line is ``y = x``.
    """
    arm_labels = dict(arm_labels or {})
    visit_labels = dict(visit_labels or {})
    arms = len({c["arm"] for c in cells})
    labels = [_series_label(c, arm_labels, visit_labels, arms) for c in cells]
    ncol = 2 if len(cells) > 2 else 1
    rows = [labels[i : i + ncol] for i in range(0, len(labels), ncol)]
    legend_lines = sum(max(text.count("\n") + 1 for text in row) for row in rows)
    colours = sns.color_palette("colorblind", max(1, len(cells)))
    with figure_style():
        fig = Figure(figsize=(_WIDTH, 3.4 + 0.125 * legend_lines), layout="constrained")
        ax = fig.add_subplot()
        ax.axline((0.0, 0.0), slope=1.0, color="0.5", lw=0.8, ls="--")
        for i, (cell, text) in enumerate(zip(cells, labels, strict=True)):
            theory, standardised = qq_series(cell["values"])
            ax.scatter(
                theory,
                standardised,
                s=10,
                color=colours[i],
                marker=_MARKERS[i % len(_MARKERS)],
                label=text,
            )
        ax.set_xlabel("Normal quantiles")
        ax.set_ylabel("Standardised value (x − mean) / SD")
        if cells:
            ax.legend(
                loc="upper left",
                bbox_to_anchor=(0.0, -0.14),
                ncol=ncol,
                frameon=False,
                fontsize=7,
                handletextpad=0.3,
                columnspacing=1.0,
                borderaxespad=0.0,
            )
        # 12 characters of 9 pt text per inch
        fig.suptitle("\n".join(wrap(f"Normal Q-Q plots: {label}", int(12 * _WIDTH))), fontsize=9)
    return fig
