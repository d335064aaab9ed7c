"""Drawing the figures: trajectories, change from baseline, forest plot, flow diagram.

Each function takes tidy data (from :mod:`trialflow.figures.data` or the analysis data) and
returns a :class:`matplotlib.figure.Figure` drawn in :func:`~trialflow.figures.style.figure_style`.
Means are drawn with t-based 95% confidence intervals (:func:`trialflow.stats.mean_ci`), the
interval the within-arm paired t-test reports, rather than seaborn's bootstrap, which would
depend on a random seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from textwrap import wrap

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch

from trialflow.config import Study
from trialflow.stats.descriptives import mean_ci
from trialflow.tables.format import format_ci

from .data import changes, outcome_wide, trajectory_lines, trajectory_summary
from .style import arm_palette, figure_style

__all__ = [
    "INDIVIDUALS",
    "RASTER_POINTS",
    "TRAJECTORY_SAMPLE",
    "change_figure",
    "consort_figure",
    "forest_figure",
    "no_data_figure",
    "strip_offsets",
    "trajectory_figure",
]

TRAJECTORY_SAMPLE = 200  # individual lines per arm at most (figures.trajectory_sample)
INDIVIDUALS = "_individuals"  # label of the faint lines' collections (kept out of the legend)
TRAJECTORY_SIZE = (5.0, 3.4)  # inches: 1500 x 1020 pixels at 300 dpi
RASTER_POINTS = 2000  # a strip with more dots is a raster image inside an SVG


def _arms(analysis: pd.DataFrame, arm_order: Sequence[str] | None) -> list[str]:
    present = list(analysis["arm"].unique())  # in order of appearance, without a Python loop
    if arm_order is None:
        return sorted(present)
    return [a for a in arm_order if a in present]


def _visits_by_week(analysis: pd.DataFrame) -> list[str]:
    weeks = analysis.groupby("visit", sort=True)["week"].min().sort_values(kind="stable")
    return list(weeks.index)


# Over 80 lines only through its numpydoc docstring; the code itself is shorter.
def trajectory_figure(
    analysis: pd.DataFrame,
    outcome: str,
    label: str | None = None,
    arm_order: Sequence[str] | None = None,
    arm_labels: Mapping[str, str] | None = None,
    sample: int = TRAJECTORY_SAMPLE,
    seed: int = 1,
) -> Figure:
    """Mean with 95% CI over weeks by arm, individual trajectories faint behind.

    The means and intervals use every participant; the faint lines are at most ``sample``
    participants per arm (a seeded random sample, :func:`trajectory_lines`), drawn as one
    :class:`~matplotlib.collections.LineCollection` per arm, so the figure costs the same
    for 100 or 100,000 participants.

    Parameters
    ----------
    analysis : pandas.DataFrame
        Long analysis data (``participant_id, arm, visit, week, outcome, value``).
    outcome : str
        Outcome id to draw.
    label : str, optional
        Y-axis label (with unit and direction); defaults to the outcome id.
    arm_order : sequence of str, optional
        Arm ids in legend order (reference first); defaults to sorted ids.
    arm_labels : mapping, optional
        Arm id to printed label.
    sample : int
        Individual lines per arm at most.
    seed : int
        Seed of the sample.

    Returns
    -------
    matplotlib.figure.Figure
    """
    data = analysis[analysis["outcome"] == outcome]
    arms = _arms(data, arm_order)
    arm_labels = dict(arm_labels or {})
    palette = arm_palette(arms)
    weeks = sorted(data["week"].dropna().unique())
    span = (max(weeks) - min(weeks)) if len(weeks) > 1 else 1.0
    # arms are nudged sideways so their intervals do not hide each other
    offsets = {a: (i - (len(arms) - 1) / 2) * span * 0.015 for i, a in enumerate(arms)}
    summary = trajectory_summary(data, arms)
    lines = trajectory_lines(data, arms, sample, seed)
    # many lines: fainter, so the means stay readable
    faint = float(np.clip(10 / max(1, sum(len(v[0]) for v in lines.values())), 0.03, 0.18))
    with figure_style():
        fig = Figure(figsize=TRAJECTORY_SIZE, layout="constrained")
        ax = fig.add_subplot()
        for arm in arms:
            colour = palette[arm]
            ax.add_collection(
                LineCollection(
                    lines[arm][0],
                    colors=[colour],
                    alpha=faint,
                    linewidths=0.6,
                    label=INDIVIDUALS,
                )
            )
            s = summary[summary["arm"] == arm]
            mean, low, high = (s[c].to_numpy(dtype=float) for c in ("mean", "ci_low", "ci_high"))
            ax.errorbar(
                s["week"].to_numpy(dtype=float) + offsets[arm],
                mean,
                yerr=[mean - low, high - mean],
                color=colour,
                lw=2,
                marker="o",
                ms=5,
                capsize=3,
                label=f"{arm_labels.get(arm, arm)} (n = {int(s['n'].iloc[0]) if len(s) else 0})",
            )
        ax.autoscale_view()
        ax.set_xticks(weeks)
        ax.set_xticklabels([f"{w:g}" for w in weeks])
        ax.set_xlabel("Week")
        ax.set_ylabel("\n".join(wrap(label or outcome, 45)))
        handles, texts = ax.get_legend_handles_labels()
        handles.append(Line2D([], [], color="0.5", lw=0.6))
        texts.append(_individuals_text(lines, sample))
        # a fixed place: "best" would test every line against the legend box
        ax.legend(
            handles,
            texts,
            frameon=False,
            title="Mean (95% CI)",
            title_fontsize=8,
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
        )
    return fig


def _individuals_text(lines: Mapping[str, tuple[list, int]], sample: int) -> str:
    """Legend text for the faint lines: every participant, or the sample drawn."""
    if all(total <= sample for _, total in lines.values()):
        return "Individual participants"
    return "\n".join(wrap(f"Individuals: random {sample} per arm", 24))


def strip_offsets(values: Sequence[float], width: float, bins: int = 30) -> np.ndarray:
    """Horizontal offsets that lay close values side by side: a deterministic beeswarm.

    Values are grouped into ``bins`` equal bins over their range; within a bin, points are
    spaced evenly around zero, the fullest bin spanning ``width``. Random jitter would change
    the figure's bytes from run to run.

    Parameters
    ----------
    values : sequence of float
    width : float
        Total spread of the fullest bin, in x-axis units.
    bins : int
        Number of bins over the range of ``values``.

    Returns
    -------
    numpy.ndarray
        One offset per value, in input order.
    """
    x = np.asarray(values, dtype=float)
    offsets = np.zeros(len(x))
    if len(x) < 2:
        return offsets
    lo, hi = float(x.min()), float(x.max())
    which = (
        np.zeros(len(x), dtype=int)
        if hi == lo
        else np.minimum(((x - lo) / (hi - lo) * bins).astype(int), bins - 1)
    )
    fullest = int(np.bincount(which).max())
    order = np.argsort(x, kind="stable")
    for b in np.unique(which):
        idx = order[which[order] == b]
        offsets[idx] = (np.arange(len(idx)) - (len(idx) - 1) / 2) * width / max(fullest - 1, 1)
    return offsets


# Over 80 lines only through its numpydoc docstring; the code itself is shorter.
def change_figure(
    analysis: pd.DataFrame,
    outcome: str,
    baseline_visit: str,
    label: str | None = None,
    arm_order: Sequence[str] | None = None,
    arm_labels: Mapping[str, str] | None = None,
    visit_labels: Mapping[str, str] | None = None,
    wide: pd.DataFrame | None = None,
) -> Figure:
    """Change from baseline by arm at each later visit: every participant plus mean (95% CI).

    Parameters
    ----------
    analysis : pandas.DataFrame
        Long analysis data.
    outcome : str
        Outcome id.
    baseline_visit : str
        Visit id of baseline.
    label : str, optional
        Outcome label (unit, direction) for the y-axis.
    arm_order, arm_labels
        As for :func:`trajectory_figure`.
    visit_labels : mapping, optional
        Visit id to printed label; visits are ordered by week.
    wide : pandas.DataFrame, optional
        :func:`~trialflow.figures.data.outcome_wide` of the outcome's rows, when at hand.

    Returns
    -------
    matplotlib.figure.Figure
    """
    data = analysis[analysis["outcome"] == outcome]
    arms = _arms(data, arm_order)
    arm_labels = dict(arm_labels or {})
    visit_labels = dict(visit_labels or {})
    palette = arm_palette(arms)
    visits = [v for v in _visits_by_week(data) if v != baseline_visit]
    if wide is None:
        wide = outcome_wide(data) if len(data) else pd.DataFrame()
    width = 0.8 / max(1, len(arms))
    with figure_style():
        fig = Figure(
            figsize=(2.6 + 1.2 * len(visits) * max(2, len(arms)) / 2, 3.4), layout="constrained"
        )
        ax = fig.add_subplot()
        ax.axhline(0, color="0.5", lw=0.8, ls="--")
        for j, arm in enumerate(arms):
            for i, visit in enumerate(visits):
                change = changes(data, arm, visit, baseline_visit, wide).to_numpy()
                centre = i + (j - (len(arms) - 1) / 2) * width
                # participants on the left of the slot, the summary on the right, so
                # neither hides the other
                spread = strip_offsets(change, width * 0.5)
                dots = centre - width * 0.15 + spread
                ax.scatter(
                    dots,
                    change,
                    s=10,
                    color=palette[arm],
                    alpha=0.45,
                    lw=0,
                    # thousands of dots: one image in an SVG rather than one element each
                    rasterized=len(change) > RASTER_POINTS,
                )
                mean, low, high, n = mean_ci(change)
                if n:
                    ax.errorbar(
                        [centre + width * 0.25],
                        [mean],
                        yerr=[[mean - low], [high - mean]] if n > 1 else None,
                        color=palette[arm],
                        marker="D",
                        ms=6,
                        lw=2,
                        capsize=4,
                        label=arm_labels.get(arm, arm) if i == 0 else None,
                    )
        ax.set_xticks(range(len(visits)))
        ax.set_xticklabels(["\n".join(wrap(visit_labels.get(v, v), 14)) for v in visits])
        ax.set_xlim(-0.6, len(visits) - 0.4)
        ax.set_ylabel("\n".join(wrap(f"Change from baseline: {label or outcome}", 45)))
        ax.legend(
            frameon=False,
            title="Mean change (95% CI)",
            title_fontsize=8,
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
        )
    return fig


def forest_figure(
    effects: pd.DataFrame,
    xlabel: str,
    favours: tuple[str, str] | None = None,
    n_header: str = "n",
) -> Figure:
    """Forest plot of standardised effects (one row per outcome and comparison), with the
    estimate and interval as text and the n per arm in columns beside it.

    Parameters
    ----------
    effects : pandas.DataFrame
        From :func:`standardised_effects`.
    xlabel : str
        What the x-axis shows.
    favours : tuple of str, optional
        Texts for the left and right of zero, e.g. ``("favours control", "favours exercise")``;
        each is drawn on its own side of the null line.
    n_header : str
        Header of the n column (e.g. ``"n (control/exercise)"``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    comparisons = list(dict.fromkeys(effects["comparison"]))
    outcomes = list(dict.fromkeys(effects["label"]))
    palette = dict(
        zip(comparisons, sns.color_palette("colorblind", max(1, len(comparisons))), strict=False)
    )
    step = 0.7 / max(1, len(comparisons))
    with figure_style():
        fig = Figure(
            figsize=(9.5, 1.5 + 0.28 * max(1, len(outcomes)) * max(1, len(comparisons))),
            layout="constrained",
        )
        ax, columns = fig.subplots(1, 2, sharey=True, width_ratios=[3, 2])
        ax.axvline(0, color="0.4", lw=0.8)
        for k, comparison in enumerate(comparisons):
            sub = effects[effects["comparison"] == comparison]
            y = np.array([outcomes.index(lbl) for lbl in sub["label"]], dtype=float)
            y += (k - (len(comparisons) - 1) / 2) * step
            _forest_series(ax, sub, y, palette[comparison], comparison)
            _forest_columns(columns, sub, y)
        ax.set_yticks(range(len(outcomes)))
        ax.set_yticklabels(["\n".join(wrap(o, 50)) for o in outcomes])
        ax.set_ylim(max(1, len(outcomes)) - 0.5, -0.5)
        if not outcomes:  # no model-based effect in the results (e.g. no model fitted)
            ax.text(0.5, 0.5, "no model-based effects", ha="center", transform=ax.transAxes)
        ax.set_xlabel(xlabel)
        low, high = ax.get_xlim()
        room = 0.3 * (high - low)  # the null line inside, with room for the labels either side
        ax.set_xlim(min(low, -room), max(high, room))
        if favours:  # at the null line, each on its own side
            at_zero = ax.get_xaxis_transform()
            ax.text(0, 1.01, f"← {favours[0]} ", transform=at_zero, **_FAVOURS_LEFT)
            ax.text(0, 1.01, f" {favours[1]} →", transform=at_zero, **_FAVOURS_RIGHT)
        columns.axis("off")
        for x, header in ((0.0, "Estimate (CI)"), (0.72, n_header)):
            columns.text(x, 1.01, header, transform=columns.transAxes, **_FAVOURS_RIGHT)
        if len(comparisons) > 1:
            fig.legend(*ax.get_legend_handles_labels(), frameon=False, loc="outside lower center")
    return fig


# the left label ends at the null line, the right one starts there
_FAVOURS_LEFT = {"ha": "right", "va": "bottom", "fontsize": 8}
_FAVOURS_RIGHT = {"ha": "left", "va": "bottom", "fontsize": 8}


def _forest_columns(columns, effects: pd.DataFrame, y: np.ndarray) -> None:
    """The numbers beside the graphic: ``0.76 (0.43 to 1.09)`` and the n per arm."""
    for row, height in zip(effects.itertuples(index=False), y, strict=True):
        text = format_ci(row.smd, row.smd_low, row.smd_high, 2) or "not estimable"
        columns.text(0.0, height, text, va="center", fontsize=8)
        columns.text(0.72, height, row.n_by_arm, va="center", fontsize=8)


def _forest_series(ax, effects: pd.DataFrame, y: np.ndarray, colour, label: str) -> None:
    """One comparison's effects as squares with horizontal interval bars at heights ``y``."""
    ok = np.isfinite(effects["smd"].to_numpy(dtype=float))
    smd = effects["smd"].to_numpy(dtype=float)[ok]
    low = effects["smd_low"].to_numpy(dtype=float)[ok]
    high = effects["smd_high"].to_numpy(dtype=float)[ok]
    # clipped at zero: a rank-based estimate can sit outside its own interval
    err = np.clip(
        np.vstack(
            [
                smd - np.where(np.isfinite(low), low, smd),
                np.where(np.isfinite(high), high, smd) - smd,
            ]
        ),
        0.0,
        None,
    )
    ax.errorbar(smd, y[ok], xerr=err, fmt="s", ms=4, color=colour, lw=1.2, capsize=2, label=label)


def consort_figure(study: Study, flow: pd.DataFrame) -> Figure:
    """CONSORT 2010 flow diagram: enrolment, allocation, follow-up, analysis.

    Parameters
    ----------
    study : Study
    flow : pandas.DataFrame
        ``participant_flow.csv`` (``arm, stage, n, reason``; from
        :func:`trialflow.stats.flow.participant_flow`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    top, levels = _consort_text(study, flow)
    wrapped = [
        [sum((wrap(line, _CONSORT_WRAP) or [""] for line in box), []) for box in level]
        for level in levels
    ]
    top = sum((wrap(line, _CONSORT_WRAP) or [""] for line in top), [])
    gap = 1.6  # in text lines
    heights = [max(len(box) for box in level) + 1.0 for level in wrapped]
    top_h = len(top) + 1.0
    total_lines = top_h + gap + sum(heights) + gap * len(heights)
    ncol = len(study.arm_ids)
    with figure_style():
        fig = Figure(figsize=(max(4.0, 3.1 * ncol), 0.16 * total_lines + 0.3))
        ax = fig.add_axes((0.01, 0.01, 0.98, 0.98))
        ax.set_xlim(0, ncol)
        ax.set_ylim(total_lines, 0)
        ax.axis("off")
        _flow_box(ax, ncol / 2, 0.2, min(ncol, 2.2) * 0.8, top_h - 0.2, top, bold=True)
        y = top_h + gap
        prev_bottom = [top_h] * ncol
        for level, h in zip(wrapped, heights, strict=True):
            for i, lines in enumerate(level):
                x = i + 0.5
                _flow_box(ax, x, y, 0.9, h, lines)
                x_from = ncol / 2 if y == top_h + gap else x
                _flow_arrow(ax, x_from, prev_bottom[i], x, y)
                prev_bottom[i] = y + h
            y += h + gap
    return fig


_CONSORT_WRAP = 44  # characters per line in a flow box


def _stage(flow: pd.DataFrame, arm: str, stage: str) -> pd.DataFrame:
    return flow[(flow["arm"] == arm) & (flow["stage"] == stage)]


def _count_lines(flow: pd.DataFrame, arm: str, stage: str, title: str) -> list[str]:
    """``title (n = k)`` and one ``– reason: n`` line per reason of a stage (none if absent)."""
    rows = _stage(flow, arm, stage)
    if rows.empty:
        return []
    lines = [f"{title} (n = {int(rows['n'].sum())})"]
    for r in rows.itertuples(index=False):
        if r.reason and r.n:
            lines += wrap(f"– {r.reason}: {r.n}", _CONSORT_WRAP, subsequent_indent="  ")
    return lines


def _consort_text(study: Study, flow: pd.DataFrame) -> tuple[list[str], list[list[list[str]]]]:
    """The top box and, per level of the diagram, each arm's box as lines of text."""
    flow = flow.assign(reason=flow["reason"].fillna("").astype(str), n=flow["n"].astype(int))
    arms = study.arm_ids
    labels = {a.id: a.label for a in study.arms}
    parallel = not study.single_arm
    top = _count_lines(flow, "all", "screened", "Assessed for eligibility")
    top += _count_lines(flow, "all", "excluded", "Excluded")
    total = int(flow.loc[flow["stage"] == "randomised", "n"].sum())
    top.append(f"{'Randomised' if parallel else 'Enrolled'} (n = {total})")
    allocation = "Allocated to" if parallel else "Treated with"
    levels: list[list[list[str]]] = [
        [
            [f"{allocation} {labels[a]} (n = {int(_stage(flow, a, 'randomised')['n'].sum())})"]
            + _count_lines(flow, a, "received_allocation", "Received the allocated intervention")
            for a in arms
        ]
    ]
    follow_up = [
        ["Follow-up"]
        + _count_lines(flow, a, "discontinued_intervention", "Discontinued the intervention")
        + _count_lines(flow, a, "lost_to_follow_up", "Lost to follow-up")
        + _count_lines(flow, a, "withdrawn", "Withdrew")
        for a in arms
    ]
    if any(len(box) > 1 for box in follow_up):
        levels.append(follow_up)
    if (flow["stage"] == "analysed_primary").any():
        levels.append(
            [
                ["Analysis"]
                + _count_lines(flow, a, "analysed_primary", "Analysed in the primary analysis")
                + _count_lines(flow, a, "excluded_from_analysis", "Excluded from the analysis")
                for a in arms
            ]
        )
    else:
        levels.append(
            [["Analysis", "no primary analysis declared (exploratory study)"]] * len(arms)
        )
    return top, levels


def _flow_box(
    ax, x: float, y: float, w: float, h: float, lines: list[str], bold: bool = False
) -> None:
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y),
            w,
            h,
            boxstyle="round,pad=0,rounding_size=0.05",
            fc="white",
            ec="0.2",
            lw=0.8,
        )
    )
    ax.text(
        x,
        y + h / 2,
        "\n".join(lines),
        ha="center",
        va="center",
        fontsize=7.5,
        linespacing=1.25,
        weight="bold" if bold else "normal",
    )


def _flow_arrow(ax, x0: float, y0: float, x1: float, y1: float) -> None:
    ax.annotate(
        "",
        xy=(x1, y1),
        xytext=(x0, y0),
        arrowprops={"arrowstyle": "-|>", "color": "0.2", "lw": 0.8},
    )


def no_data_figure(title: str, reason: str) -> Figure:
    """A figure that says there is nothing to draw, and why (an outcome without values, an
    arm without follow-up): a run on degenerate but legal data still writes every figure.

    Parameters
    ----------
    title : str
        What the figure would have shown.
    reason : str
        Why it is empty, e.g. "no values recorded for this outcome".

    Returns
    -------
    matplotlib.figure.Figure
    """
    with figure_style():
        fig = Figure(figsize=(6.0, 2.4), layout="constrained")
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.text(0.5, 0.62, "No data", ha="center", va="center", fontsize=16, weight="bold")
        text = "\n".join(wrap(f"{title}: {reason}", 70))
        ax.text(0.5, 0.3, text, ha="center", va="center", fontsize=9)
    return fig
