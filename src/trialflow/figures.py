"""Publication figures: trajectories, change from baseline, forest plot, flow diagram, Q-Q plots.

Figures are built on :class:`matplotlib.figure.Figure` objects (no pyplot state, so nothing
depends on the interactive backend) and saved as PNG at 300 dpi and SVG. Saving is
deterministic: fixed SVG hash salt, no date or software stamps, text kept as text in SVG,
DejaVu Sans (shipped with matplotlib) for every label.

Means are drawn with t-based 95% confidence intervals (mean ± t(0.975, n-1) · SD/√n),
the same interval the within-arm paired t-test reports, rather than seaborn's bootstrap,
which would depend on a random seed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from textwrap import wrap

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch
from scipy import stats

from trialflow.config import Study
from trialflow.stats.contract import VALUES_CONTRAST
from trialflow.tables import TEST_NAMES, WITHIN_TESTS, _Results, format_p, outcome_labels

__all__ = [
    "DPI",
    "KIND_DIRS",
    "MANIFEST",
    "QQ_MAX_POINTS",
    "FIGURE_FORMATS",
    "FigureRecord",
    "arm_palette",
    "change_figure",
    "consort_figure",
    "figure_rc",
    "flow_counts",
    "forest_figure",
    "mean_ci",
    "qq_cells",
    "qq_figure",
    "save_figure",
    "strip_offsets",
    "standardised_effects",
    "trajectory_figure",
    "write_study_figures",
]

DPI = 300
FIGURE_FORMATS = ("png", "svg")
MANIFEST = "figures.csv"
KIND_DIRS = ("trajectory", "change", "qq")  # per-outcome figures, one subdirectory each
QQ_MAX_POINTS = 100


@dataclass(frozen=True)
class FigureRecord:
    """One written figure, as listed in ``figures.csv``.

    Attributes
    ----------
    kind : str
        ``trajectory``, ``change``, ``qq``, ``forest`` or ``consort``.
    outcome : str
        Outcome id, empty for study-level figures.
    stem : str
        File name without extension (``<stem>.png`` and ``<stem>.svg``).
    title : str
        Short title, used as the report heading.
    caption : str
        One or two sentences saying what is drawn.
    """

    kind: str
    outcome: str
    stem: str
    title: str
    caption: str


def figure_rc() -> dict:
    """Matplotlib settings for every trialflow figure (style plus determinism)."""
    rc = dict(sns.axes_style("ticks"))
    rc.update(
        {
            "font.family": "DejaVu Sans",
            "font.size": 9,
            "axes.titlesize": 9,
            "axes.labelsize": 9,
            "legend.fontsize": 8,
            "xtick.labelsize": 8,
            "ytick.labelsize": 8,
            "axes.spines.top": False,
            "axes.spines.right": False,
            # a fixed salt makes SVG ids repeatable; text stays editable text in the SVG
            "svg.hashsalt": "trialflow",
            "svg.fonttype": "none",
            "savefig.dpi": DPI,
        }
    )
    return rc


@contextmanager
def _style():
    with rc_context(figure_rc()):
        yield


def save_figure(fig: Figure, stem: str | Path) -> list[Path]:
    """Save ``fig`` as ``<stem>.png`` (300 dpi) and ``<stem>.svg``, byte-identical on rerun.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    stem : path-like
        Output path without extension; the parent directory is created.

    Returns
    -------
    list of pathlib.Path
        The PNG and the SVG.
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    with _style():
        fig.savefig(png, dpi=DPI, format="png", metadata={"Software": None})
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return [png, svg]


def arm_palette(arm_ids: Sequence[str]) -> dict[str, tuple[float, float, float]]:
    """Colour-blind-safe colour per arm, reference arm grey-blue first."""
    colours = sns.color_palette("colorblind", max(3, len(arm_ids)))
    order = [7, 0, 1, 2, 3, 4, 5, 6, 8, 9] if len(colours) >= 10 else list(range(len(colours)))
    return {arm: tuple(colours[order[i % len(order)]]) for i, arm in enumerate(arm_ids)}


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float, int]:
    """Mean with a t-based confidence interval.

    Parameters
    ----------
    values : sequence of float
        Missing values are dropped.
    level : float
        Confidence level.

    Returns
    -------
    tuple
        ``(mean, low, high, n)``; the interval is NaN for fewer than two values.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return (np.nan, np.nan, np.nan, 0)
    mean = float(x.mean())
    if n < 2:
        return (mean, np.nan, np.nan, n)
    half = stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / np.sqrt(n)
    return (mean, mean - half, mean + half, n)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _arms(analysis: pd.DataFrame, arm_order: Sequence[str] | None) -> list[str]:
    present = list(dict.fromkeys(analysis["arm"]))
    if arm_order is None:
        return sorted(present)
    return [a for a in arm_order if a in present]


def _visits_by_week(analysis: pd.DataFrame) -> list[str]:
    weeks = analysis.groupby("visit", sort=True)["week"].min().sort_values(kind="stable")
    return list(weeks.index)


def trajectory_figure(
    analysis: pd.DataFrame,
    outcome: str,
    label: str | None = None,
    arm_order: Sequence[str] | None = None,
    arm_labels: Mapping[str, str] | None = None,
) -> Figure:
    """Mean with 95% CI over weeks by arm, individual trajectories faint behind.

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
    # many participants: fainter lines so the means stay readable
    faint = float(np.clip(10 / max(1, data["participant_id"].nunique()), 0.03, 0.18))
    with _style():
        fig = Figure(figsize=(6.0, 4.0), layout="constrained")
        ax = fig.add_subplot()
        for arm in arms:
            sub = data[data["arm"] == arm].sort_values(["participant_id", "week"])
            colour = palette[arm]
            for _, person in sub.groupby("participant_id", sort=True):
                person = person.dropna(subset=["value"])
                ax.plot(person["week"], person["value"], color=colour, alpha=faint, lw=0.6)
            summary = [mean_ci(g["value"]) + (w,) for w, g in sub.groupby("week", sort=True)]
            mean = np.array([s[0] for s in summary])
            low = np.array([s[1] for s in summary])
            high = np.array([s[2] for s in summary])
            x = np.array([s[4] for s in summary]) + offsets[arm]
            n0 = summary[0][3] if summary else 0
            ax.errorbar(
                x,
                mean,
                yerr=[mean - low, high - mean],
                color=colour,
                lw=2,
                marker="o",
                ms=5,
                capsize=3,
                label=f"{arm_labels.get(arm, arm)} (n = {n0})",
            )
        ax.set_xticks(weeks)
        ax.set_xticklabels([f"{w:g}" for w in weeks])
        ax.set_xlabel("Week")
        ax.set_ylabel("\n".join(wrap(label or outcome, 45)))
        ax.legend(frameon=False, title="Mean (95% CI)", title_fontsize=8)
    return fig


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


def _changes(data: pd.DataFrame, arm: str, visit: str, against: str) -> pd.Series:
    sub = data[data["arm"] == arm]
    wide = sub.pivot_table(index="participant_id", columns="visit", values="value", sort=True)
    if visit not in wide.columns or against not in wide.columns:
        return pd.Series(dtype=float)
    return (wide[visit] - wide[against]).dropna()


def change_figure(
    analysis: pd.DataFrame,
    outcome: str,
    baseline_visit: str,
    label: str | None = None,
    arm_order: Sequence[str] | None = None,
    arm_labels: Mapping[str, str] | None = None,
    visit_labels: Mapping[str, str] | None = None,
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
    width = 0.8 / max(1, len(arms))
    with _style():
        fig = Figure(
            figsize=(3.2 + 1.4 * len(visits) * max(2, len(arms)) / 2, 4.0), layout="constrained"
        )
        ax = fig.add_subplot()
        ax.axhline(0, color="0.5", lw=0.8, ls="--")
        for j, arm in enumerate(arms):
            for i, visit in enumerate(visits):
                change = _changes(data, arm, visit, baseline_visit).to_numpy()
                centre = i + (j - (len(arms) - 1) / 2) * width
                # participants on the left of the slot, the summary on the right, so
                # neither hides the other
                spread = strip_offsets(change, width * 0.5)
                dots = centre - width * 0.15 + spread
                ax.scatter(dots, change, s=10, color=palette[arm], alpha=0.45, lw=0)
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


def _pooled_baseline_sd(
    analysis: pd.DataFrame, outcome: str, baseline: str, arms: Sequence[str]
) -> float:
    base = analysis[(analysis["outcome"] == outcome) & (analysis["visit"] == baseline)]
    base = base[base["arm"].isin(arms)].dropna(subset=["value"])
    groups = [g["value"].to_numpy() for _, g in base.groupby("arm", sort=True) if len(g) > 1]
    dof = sum(len(g) - 1 for g in groups)
    if dof <= 0:
        return np.nan
    return float(np.sqrt(sum((len(g) - 1) * g.var(ddof=1) for g in groups) / dof))


def standardised_effects(
    study: Study, analysis: pd.DataFrame, outcomes: pd.DataFrame, results: pd.DataFrame
) -> pd.DataFrame:
    """Standardised effects for the forest plot, oriented so that positive = improvement.

    Parallel designs: the between-arm difference at the primary visit from ANCOVA (else
    MMRM, else the Welch/Mann-Whitney difference in change) divided by the pooled baseline SD
    of the two arms; its 95% CI is scaled the same way. Single-arm designs: the within-arm
    change from baseline at each later visit (paired test selected by the analysis) divided
    by the baseline SD. Lower-is-better outcomes have their sign flipped.

    Parameters
    ----------
    study, analysis, outcomes, results
        The study, long analysis data, outcome metadata and ``results.csv`` rows.

    Returns
    -------
    pandas.DataFrame
        ``outcome, label, comparison, source, estimate, ci_low, ci_high, p_value, sd,
        direction, smd, smd_low, smd_high``; sorted in outcome-metadata order.
    """
    res = _Results(results, study)
    labels = outcome_labels(outcomes)
    higher = dict(
        zip(outcomes["outcome"], outcomes["higher_is_better"].astype(bool), strict=False)
    )
    arm_labels = {a.id: a.label for a in study.arms}
    ref = study.reference_arm.id
    baseline = study.baseline.id
    present = set(analysis["outcome"])
    order = [o for o in outcomes["outcome"].drop_duplicates() if o in present]
    rows = []
    for outcome in order:
        direction = 1.0 if higher.get(outcome, True) else -1.0
        if study.design == "single_arm":
            arm = ref
            sd = _pooled_baseline_sd(analysis, outcome, baseline, [arm])
            hits = [
                (
                    f"{v.label} vs {study.baseline.label}",
                    res.within(outcome, v.id, baseline, arm),
                    sd,
                )
                for v in study.post_baseline
            ]
        else:
            visit = study.primary_visit.id
            hits = []
            for arm in study.arm_ids[1:]:
                sd = _pooled_baseline_sd(analysis, outcome, baseline, [ref, arm])
                candidates = [
                    res.model(outcome, visit, "ancova", f"{arm} - {ref}"),
                    res.model(outcome, visit, "mmrm", f"{arm} - {ref}"),
                    res.between(outcome, visit, arm, ref, change=True),
                ]
                # a degenerate row (empty estimate) gives way to the next analysis
                found = [c for c in candidates if c is not None]
                usable = [c for c in found if np.isfinite(c["estimate"])]
                hit = (usable or found or [None])[0]
                hits.append((f"{arm_labels[arm]} vs {arm_labels[ref]}", hit, sd))
        for comparison, hit, sd in hits:
            if hit is None:
                continue
            scale = direction / sd if sd and np.isfinite(sd) else np.nan
            lo, hi = hit["ci_low"] * scale, hit["ci_high"] * scale
            rows.append(
                {
                    "outcome": outcome,
                    "label": labels[outcome],
                    "comparison": comparison,
                    "source": hit["analysis"],
                    "estimate": hit["estimate"],
                    "ci_low": hit["ci_low"],
                    "ci_high": hit["ci_high"],
                    "p_value": hit["p_value"],
                    "sd": sd,
                    "direction": direction,
                    "smd": hit["estimate"] * scale,
                    "smd_low": min(lo, hi),
                    "smd_high": max(lo, hi),
                }
            )
    columns = ["outcome", "label", "comparison", "source", "estimate", "ci_low", "ci_high"]
    columns += ["p_value", "sd", "direction", "smd", "smd_low", "smd_high"]
    return pd.DataFrame(rows, columns=columns)


def forest_figure(
    effects: pd.DataFrame, xlabel: str, favours: tuple[str, str] | None = None
) -> Figure:
    """Forest plot of standardised effects (one row per outcome and comparison).

    Parameters
    ----------
    effects : pandas.DataFrame
        From :func:`standardised_effects`.
    xlabel : str
        What the x-axis shows.
    favours : tuple of str, optional
        Texts for the left and right of zero, e.g. ``("favours control", "favours exercise")``.

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
    with _style():
        fig = Figure(
            figsize=(7.0, 1.3 + 0.28 * max(1, len(outcomes)) * max(1, len(comparisons))),
            layout="constrained",
        )
        ax = fig.add_subplot()
        ax.axvline(0, color="0.4", lw=0.8)
        for k, comparison in enumerate(comparisons):
            sub = effects[effects["comparison"] == comparison]
            y = np.array([outcomes.index(lbl) for lbl in sub["label"]], dtype=float)
            y += (k - (len(comparisons) - 1) / 2) * step
            ok = np.isfinite(sub["smd"].to_numpy(dtype=float))
            smd = sub["smd"].to_numpy(dtype=float)[ok]
            low = sub["smd_low"].to_numpy(dtype=float)[ok]
            high = sub["smd_high"].to_numpy(dtype=float)[ok]
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
            ax.errorbar(
                smd,
                y[ok],
                xerr=err,
                fmt="s",
                ms=4,
                color=palette[comparison],
                lw=1.2,
                capsize=2,
                label=comparison,
            )
        ax.set_yticks(range(len(outcomes)))
        ax.set_yticklabels(["\n".join(wrap(o, 50)) for o in outcomes])
        ax.set_ylim(len(outcomes) - 0.5, -0.5)
        ax.set_xlabel(xlabel)
        if favours:
            ax.text(
                0.0,
                1.01,
                f"← {favours[0]}",
                transform=ax.transAxes,
                ha="left",
                va="bottom",
                fontsize=8,
            )
            ax.text(
                1.0,
                1.01,
                f"{favours[1]} →",
                transform=ax.transAxes,
                ha="right",
                va="bottom",
                fontsize=8,
            )
        if len(comparisons) > 1:
            ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def flow_counts(
    study: Study, participants: pd.DataFrame, analysis: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Participant flow by arm and visit from the roster's disposition columns.

    A participant attended every visit up to ``last_visit`` (blank means the last visit of the
    study) and left before the next one with ``withdrawal_reason`` (blank means "not
    recorded"). Analysed = participants with at least one non-missing outcome value.

    Parameters
    ----------
    study : Study
    participants : pandas.DataFrame
        Roster with ``arm`` and optionally ``last_visit`` and ``withdrawal_reason``.
    analysis : pandas.DataFrame, optional
        Long analysis data, for the analysed count (all allocated when not given).

    Returns
    -------
    pandas.DataFrame
        ``arm, stage, visit, n, reasons`` where ``stage`` is ``allocated``, ``attended``,
        ``withdrawn`` (before ``visit``), ``analysed``; ``reasons`` is ``"reason: n; ..."``.
    """
    roster = participants.copy()
    index = {v.id: i for i, v in enumerate(study.visits)}
    last = (
        roster["last_visit"]
        if "last_visit" in roster.columns
        else pd.Series(np.nan, index=roster.index)
    )
    roster["_last"] = last.map(index).fillna(len(study.visits) - 1).astype(int)
    reason = (
        roster["withdrawal_reason"]
        if "withdrawal_reason" in roster.columns
        else pd.Series("", index=roster.index)
    )
    roster["_reason"] = (
        reason.fillna("").astype(str).str.strip().replace("", "reason not recorded")
    )
    analysed_ids = None
    if analysis is not None:
        analysed_ids = set(analysis.dropna(subset=["value"])["participant_id"])
    rows = []
    for arm in study.arm_ids:
        sub = roster[roster["arm"] == arm]
        rows.append({"arm": arm, "stage": "allocated", "visit": "", "n": len(sub), "reasons": ""})
        for k, visit in enumerate(study.visits):
            if k > 0:
                left = sub[sub["_last"] == k - 1]
                counts = Counter(left["_reason"])
                reasons = "; ".join(f"{r}: {counts[r]}" for r in sorted(counts))
                rows.append(
                    {
                        "arm": arm,
                        "stage": "withdrawn",
                        "visit": visit.id,
                        "n": len(left),
                        "reasons": reasons,
                    }
                )
            rows.append(
                {
                    "arm": arm,
                    "stage": "attended",
                    "visit": visit.id,
                    "n": int((sub["_last"] >= k).sum()),
                    "reasons": "",
                }
            )
        n_analysed = (
            len(sub)
            if analysed_ids is None
            else int(sub["participant_id"].isin(analysed_ids).sum())
        )
        rows.append({"arm": arm, "stage": "analysed", "visit": "", "n": n_analysed, "reasons": ""})
    return pd.DataFrame(rows, columns=["arm", "stage", "visit", "n", "reasons"])


def consort_figure(
    study: Study, participants: pd.DataFrame, analysis: pd.DataFrame | None = None
) -> Figure:
    """CONSORT-style flow diagram: enrolment, allocation, each visit with losses, analysis.

    Parameters
    ----------
    study : Study
    participants : pandas.DataFrame
        The roster with its disposition columns.
    analysis : pandas.DataFrame, optional
        Long analysis data for the analysed counts.

    Returns
    -------
    matplotlib.figure.Figure
    """
    flow = flow_counts(study, participants, analysis)
    arms = study.arm_ids
    labels = {a.id: a.label for a in study.arms}
    wrap_at = 44

    def get(arm: str, stage: str, visit: str = "") -> pd.Series:
        hit = flow[(flow["arm"] == arm) & (flow["stage"] == stage) & (flow["visit"] == visit)]
        return hit.iloc[0]

    total = int(flow[flow["stage"] == "allocated"]["n"].sum())
    top = [f"{'Randomised' if study.design == 'parallel' else 'Enrolled'} (n = {total})"]
    levels: list[list[list[str]]] = []  # level -> arm -> lines
    allocation = "Allocated to" if study.design == "parallel" else "Treated with"
    levels.append([[f"{allocation} {labels[a]} (n = {get(a, 'allocated').n})"] for a in arms])
    levels.append(
        [
            [study.baseline.label, f"Attended: n = {get(a, 'attended', study.baseline.id).n}"]
            for a in arms
        ]
    )
    for visit in study.post_baseline:
        level = []
        for a in arms:
            gone = get(a, "withdrawn", visit.id)
            lines = [visit.label, f"Attended: n = {get(a, 'attended', visit.id).n}"]
            lines.append(f"Lost or withdrew before this visit: n = {gone.n}")
            for part in filter(None, gone.reasons.split("; ")):
                lines += wrap(f"– {part}", wrap_at, subsequent_indent="  ")
            level.append(lines)
        levels.append(level)
    levels.append(
        [
            [f"Analysed (n = {get(a, 'analysed').n})", "participants with any outcome data"]
            for a in arms
        ]
    )
    wrapped = [
        [sum((wrap(line, wrap_at) or [""] for line in box), []) for box in level]
        for level in levels
    ]

    gap = 1.6  # in text lines
    heights = [max(len(box) for box in level) + 1.0 for level in wrapped]
    top_h = 2.0
    total_lines = top_h + gap + sum(heights) + gap * len(heights)
    ncol = len(arms)
    with _style():
        fig = Figure(figsize=(max(4.0, 3.1 * ncol), 0.16 * total_lines + 0.3))
        ax = fig.add_axes((0.01, 0.01, 0.98, 0.98))
        ax.set_xlim(0, ncol)
        ax.set_ylim(total_lines, 0)
        ax.axis("off")

        def box(
            x: float, y: float, w: float, h: float, lines: list[str], bold: bool = False
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

        def arrow(x0: float, y0: float, x1: float, y1: float) -> None:
            ax.annotate(
                "",
                xy=(x1, y1),
                xytext=(x0, y0),
                arrowprops={"arrowstyle": "-|>", "color": "0.2", "lw": 0.8},
            )

        box(ncol / 2, 0.2, min(ncol, 2.2) * 0.8, top_h - 0.2, top, bold=True)
        y = top_h + gap
        prev_bottom = [top_h] * ncol
        for level, h in zip(wrapped, heights, strict=True):
            for i, lines in enumerate(level):
                x = i + 0.5
                box(x, y, 0.9, h, lines)
                x_from = ncol / 2 if y == top_h + gap else x
                arrow(x_from, prev_bottom[i], x, y)
                prev_bottom[i] = y + h
            y += h + gap
    return fig


def qq_cells(
    study: Study, analysis: pd.DataFrame, results: pd.DataFrame, outcome: str
) -> list[dict]:
    """The distributions whose normality chose a test, for Q-Q plots.

    Two kinds of cell, as in the pipeline's selection rule
    (:func:`trialflow.stats.select_reported`):

    * ``change``: per arm, each within-arm change (``later - earlier``) that ``results``
      tested with a paired t or Wilcoxon test (all post-baseline visits versus baseline when
      it has none). These also decide the between-arm test on change.
    * ``values``: per arm and visit, the values, wherever ``results`` has a Shapiro-Wilk row
      for them. They decide the between-arm test on values (parallel designs) or the test
      across visits (single-arm designs).

    Returns
    -------
    list of dict
        ``arm, kind, contrast`` (``later - earlier`` or the visit id), ``values``, ``test``
        (name of the reported test that the cell fed, or empty) and ``shapiro_p`` (the
        Shapiro-Wilk p of the matching results row, or NaN).
    """
    res = _Results(results, study)
    mine = res.res[res.res["outcome"] == outcome]
    shapiro = mine[mine["analysis"] == "shapiro_wilk"]
    arm_rank = {a: i for i, a in enumerate(study.arm_ids)}
    visit_rank = {v: i for i, v in enumerate(study.visit_ids)}

    def shapiro_p(arm: str, visit: str, contrast: str) -> float:
        hit = shapiro[(shapiro["group"] == arm) & (shapiro["visit"] == visit)]
        hit = hit[hit["contrast"] == contrast]
        return float(hit["p_value"].iloc[0]) if len(hit) else np.nan

    def name(row: pd.Series | None) -> str:
        return TEST_NAMES.get(row["analysis"], "") if row is not None else ""

    within = mine[mine["analysis"].isin(WITHIN_TESTS)]
    pairs = sorted(
        {(r.group, r.visit, r.contrast) for r in within.itertuples(index=False)},
        key=lambda t: (arm_rank.get(t[0], 99), visit_rank.get(t[1], 99), t[2]),
    )
    if not pairs:
        pairs = [
            (a, v.id, f"{v.id} - {study.baseline.id}")
            for a in study.arm_ids
            for v in study.post_baseline
        ]
    data = analysis[analysis["outcome"] == outcome]
    cells = []
    for arm, visit, contrast in pairs:
        later, _, earlier = (part.strip() for part in contrast.partition(" - "))
        values = _changes(data, arm, later, earlier)
        if len(values):
            cells.append(
                {
                    "arm": arm,
                    "kind": "change",
                    "contrast": contrast,
                    "values": values.to_numpy(dtype=float),
                    "test": name(res.within(outcome, later, earlier, arm)),
                    "shapiro_p": shapiro_p(arm, visit, contrast),
                }
            )
    value_cells = shapiro.loc[shapiro["contrast"] == VALUES_CONTRAST, ["group", "visit"]]
    ref = study.reference_arm.id
    other = next((a for a in study.arm_ids if a != ref), None)
    for arm, visit in sorted(
        set(value_cells.itertuples(index=False, name=None)),
        key=lambda t: (arm_rank.get(t[0], 99), visit_rank.get(t[1], 99)),
    ):
        values = data.loc[(data["arm"] == arm) & (data["visit"] == visit), "value"].dropna()
        if len(values) == 0:
            continue
        if study.design == "single_arm" or other is None:
            test = res.overall(outcome)
        else:
            test = res.between(outcome, visit, other, ref, change=False)
        cells.append(
            {
                "arm": arm,
                "kind": "values",
                "contrast": visit,
                "values": values.to_numpy(dtype=float),
                "test": name(test),
                "shapiro_p": shapiro_p(arm, visit, VALUES_CONTRAST),
            }
        )
    return cells


def qq_figure(
    cells: Sequence[Mapping],
    label: str,
    arm_labels: Mapping[str, str] | None = None,
    visit_labels: Mapping[str, str] | None = None,
) -> Figure:
    """Normal Q-Q plots of the cells from :func:`qq_cells`: one row per arm and kind.

    Parameters
    ----------
    cells : sequence of mapping
        From :func:`qq_cells`.
    label : str
        Outcome label for the figure title.
    arm_labels, visit_labels : mapping, optional
        Printed names of arms and visits.

    Returns
    -------
    matplotlib.figure.Figure
    """
    arm_labels = dict(arm_labels or {})
    visit_labels = dict(visit_labels or {})
    rows = list(dict.fromkeys((c["arm"], c.get("kind", "change")) for c in cells))
    columns = {
        row: [c for c in cells if (c["arm"], c.get("kind", "change")) == row] for row in rows
    }
    palette = arm_palette(list(dict.fromkeys(c["arm"] for c in cells)))
    nrow = max(1, len(rows))
    ncol = max([1, *(len(v) for v in columns.values())])
    with _style():
        fig = Figure(figsize=(2.6 * ncol + 0.4, 2.5 * nrow + 0.5), layout="constrained")
        axes = fig.subplots(nrow, ncol, squeeze=False)
        for ax in axes.flat:
            ax.set_visible(False)
        for r, row in enumerate(rows):
            for c, cell in enumerate(columns[row]):
                ax = axes[r, c]
                ax.set_visible(True)
                values = np.sort(cell["values"])
                if len(values) >= 3:
                    (theory, ordered), (slope, intercept, _) = stats.probplot(values, dist="norm")
                    ax.plot(theory, intercept + slope * theory, color="0.4", lw=0.8)
                else:
                    theory = stats.norm.ppf((np.arange(1, len(values) + 1) - 0.5) / len(values))
                    ordered = values
                # large samples: evenly spaced order statistics (extremes kept) keep the
                # SVG small without changing what the plot shows
                shown = np.unique(np.round(np.linspace(0, len(values) - 1, QQ_MAX_POINTS)))
                shown = shown.astype(int) if len(values) > QQ_MAX_POINTS else slice(None)
                ax.scatter(theory[shown], ordered[shown], s=12, color=palette[cell["arm"]])
                if row[1] == "values":
                    what, ylabel = (
                        f"{visit_labels.get(cell['contrast'], cell['contrast'])} values",
                        "Value",
                    )
                else:
                    later, _, earlier = cell["contrast"].partition(" - ")
                    what = (
                        f"{visit_labels.get(later, later)} − {visit_labels.get(earlier, earlier)}"
                    )
                    ylabel = "Change"
                sub = (
                    f"Shapiro-Wilk {format_p(cell['shapiro_p'], prefix=True)}"
                    if np.isfinite(cell["shapiro_p"])
                    else f"n = {len(values)}"
                )
                test = f"\n→ {cell['test']}" if cell["test"] else ""
                arm = arm_labels.get(cell["arm"], cell["arm"])
                ax.set_title(f"{arm}: {what}\n{sub}{test}", fontsize=8)
                ax.set_xlabel("Normal quantiles")
                ax.set_ylabel(ylabel)
        width = int(12 * (2.6 * ncol + 0.4))  # characters that fit across the figure
        fig.suptitle("\n".join(wrap(f"Normal Q-Q plots: {label}", width)), fontsize=9)
    return fig


def figure_records(
    study: Study, analysis: pd.DataFrame, outcomes: pd.DataFrame
) -> list[FigureRecord]:
    """What :func:`write_study_figures` writes, in report order (without drawing anything)."""
    labels = outcome_labels(outcomes)
    present = set(analysis["outcome"])
    order = [o for o in outcomes["outcome"].drop_duplicates() if o in present]
    records = [
        FigureRecord(
            "consort",
            "",
            "consort",
            "Participant flow",
            "CONSORT-style flow of participants by arm from the roster's disposition columns "
            "(last visit attended, withdrawal reason).",
        ),
        FigureRecord(
            "forest", "", "forest", "Standardised effects across outcomes", _forest_caption(study)
        ),
    ]
    for outcome in order:
        label = labels[outcome]
        safe = _safe(outcome)
        records += [
            FigureRecord(
                "trajectory",
                outcome,
                f"trajectory/{safe}",
                f"{label}: trajectories",
                "Mean with t-based 95% CI by arm and week; faint lines are individual participants.",
            ),
            FigureRecord(
                "change",
                outcome,
                f"change/{safe}",
                f"{label}: change from baseline",
                "Change from baseline at each later visit by arm: every participant (dots) "
                "and mean change with 95% CI (diamonds).",
            ),
            FigureRecord(
                "qq",
                outcome,
                f"qq/{safe}",
                f"{label}: normality diagnostics",
                "Normal Q-Q plots of the distributions whose normality chose each test: "
                "within-arm changes (paired t or Wilcoxon; also the between-arm test on change) "
                "and the values at each visit (between-arm test on values, or the test across "
                f"visits), with the Shapiro-Wilk p and the test reported (at most {QQ_MAX_POINTS} "
                "evenly spaced quantiles drawn per panel).",
            ),
        ]
    return records


def _forest_caption(study: Study) -> str:
    if study.design == "single_arm":
        return (
            "Standardised change from baseline (mean change / baseline SD) with 95% CI at each "
            "later visit; positive = improvement (sign flipped for lower-is-better outcomes)."
        )
    return (
        f"Standardised between-arm difference at {study.primary_visit.label}: ANCOVA adjusted "
        "difference (MMRM, else the Welch/Mann-Whitney change difference, when ANCOVA is absent) "
        "divided by the pooled baseline SD, with 95% CI; positive favours "
        f"the comparison arm over {study.reference_arm.label} (sign flipped for lower-is-better outcomes)."
    )


def write_study_figures(
    study: Study,
    analysis: pd.DataFrame,
    outcomes: pd.DataFrame,
    participants: pd.DataFrame,
    results: pd.DataFrame,
    outdir: str | Path,
) -> list[Path]:
    """Draw and write every figure of a study, plus the manifest ``figures.csv``.

    Files in ``outdir`` (each figure as ``.png`` at 300 dpi and ``.svg``): ``consort`` and
    ``forest``, and per analysed outcome ``trajectory/<outcome>``, ``change/<outcome>`` and
    ``qq/<outcome>`` (one subdirectory per kind, so that each kind can be one Snakemake
    ``directory()`` output with its own report caption). ``figures.csv`` lists ``kind,
    outcome, stem, title, caption`` in report order; :mod:`trialflow.report` reads it.

    Parameters
    ----------
    study, analysis, outcomes, participants, results
        The study, long analysis data, outcome metadata, roster and ``results.csv`` rows.
    outdir : path-like
        Output directory, created if needed.

    Returns
    -------
    list of pathlib.Path
        Every file written (figures in manifest order, then the manifest).
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    labels = outcome_labels(outcomes)
    arm_labels = {a.id: a.label for a in study.arms}
    visit_labels = {v.id: v.label for v in study.visits}
    paths: list[Path] = []
    records = figure_records(study, analysis, outcomes)
    for record in records:
        if record.kind == "consort":
            fig = consort_figure(study, participants, analysis)
        elif record.kind == "forest":
            effects = standardised_effects(study, analysis, outcomes, results)
            if study.design == "single_arm":
                xlabel, favours = "Standardised change from baseline (95% CI)", ("worse", "better")
            else:
                xlabel = f"Standardised difference at {study.primary_visit.label} (95% CI)"
                other = study.arms[1].label if len(study.arms) == 2 else "comparison arm"
                favours = (f"favours {study.reference_arm.label}", f"favours {other}")
            fig = forest_figure(effects, xlabel, favours)
        elif record.kind == "trajectory":
            fig = trajectory_figure(
                analysis, record.outcome, labels[record.outcome], study.arm_ids, arm_labels
            )
        elif record.kind == "change":
            fig = change_figure(
                analysis,
                record.outcome,
                study.baseline.id,
                labels[record.outcome],
                study.arm_ids,
                arm_labels,
                visit_labels,
            )
        else:
            cells = qq_cells(study, analysis, results, record.outcome)
            fig = qq_figure(cells, labels[record.outcome], arm_labels, visit_labels)
        paths += save_figure(fig, outdir / record.stem)
    manifest = outdir / MANIFEST
    pd.DataFrame(
        [r.__dict__ for r in records], columns=["kind", "outcome", "stem", "title", "caption"]
    ).to_csv(manifest, index=False, lineterminator="\n")
    paths.append(manifest)
    return paths
