"""Publication figures of a study: what is drawn (``figures.csv``) and writing it all.

Per study: a CONSORT flow diagram, a forest plot of standardised effects, and per analysed
outcome its trajectories, changes from baseline and normal Q-Q plots, each as PNG (300 dpi)
and SVG. Modules: :mod:`~trialflow.figures.data` (what a figure shows),
:mod:`~trialflow.figures.plots` (drawing), :mod:`~trialflow.figures.style` (look and
deterministic saving).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from textwrap import wrap

import numpy as np
import pandas as pd

from trialflow.config import Study
from trialflow.reported import outcome_labels
from trialflow.stats.flow import participant_flow as flow_from_roster

from .data import forest_method, qq_cells, standardised_effects
from .plots import (
    QQ_MAX_POINTS,
    change_figure,
    consort_figure,
    forest_figure,
    no_data_figure,
    qq_figure,
    strip_offsets,
    trajectory_figure,
)
from .style import DPI, FIGURE_FORMATS, arm_palette, figure_rc, figure_style, save_figure

__all__ = [
    "DPI",
    "FIGURE_FORMATS",
    "MANIFEST",
    "QQ_MAX_POINTS",
    "FigureRecord",
    "arm_palette",
    "change_figure",
    "consort_figure",
    "figure_rc",
    "figure_records",
    "figure_style",
    "forest_figure",
    "qq_cells",
    "qq_figure",
    "save_figure",
    "standardised_effects",
    "strip_offsets",
    "trajectory_figure",
    "write_study_figures",
]

MANIFEST = "figures.csv"


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


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


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
            "CONSORT 2010 flow of participants by arm, from participant_flow.csv: screened "
            "and excluded (config), randomised, received and discontinued the intervention, "
            "withdrawn and lost to follow-up (roster), excluded from and analysed in the "
            "primary analysis (the n of the primary model).",
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
                "Normal Q-Q plots of the distributions whose normality the t-tests assume (and "
                "which, with test_selection: auto, chose each test): "
                "within-arm changes (paired t or Wilcoxon; also the between-arm test on change) "
                "and the values at each visit (between-arm test on values, or the test across "
                f"visits), with the Shapiro-Wilk p and the test reported (at most {QQ_MAX_POINTS} "
                "evenly spaced quantiles drawn per panel).",
            ),
        ]
    return records


def _forest_caption(study: Study) -> str:
    ci = f"{100 * (1 - study.analysis.alpha):g}% CI"
    if study.single_arm:
        return (
            "Standardised change from baseline (MMRM change / pooled baseline SD of the "
            f"participants in the model) with {ci} at each later visit; positive = improvement "
            "(sign flipped for lower-is-better outcomes)."
        )
    model = {"ancova": "ANCOVA", "mmrm": "MMRM"}[forest_method(study)]
    return (
        f"Standardised between-arm difference at {study.primary_visit.label}: the {model} "
        "difference (the other model where it is not estimable) divided by the pooled "
        f"within-arm baseline SD of the participants in the model, with {ci}; positive "
        f"favours the comparison arm over {study.reference_arm.label} (sign flipped for "
        "lower-is-better outcomes)."
    )


def write_study_figures(
    study: Study,
    analysis: pd.DataFrame,
    outcomes: pd.DataFrame,
    participants: pd.DataFrame,
    results: pd.DataFrame,
    outdir: str | Path,
    participant_flow: pd.DataFrame | None = None,
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
    participant_flow : pandas.DataFrame, optional
        ``participant_flow.csv``, which the flow diagram draws; without it, the roster's
        counts (no analysed numbers) from :func:`trialflow.stats.flow.participant_flow`.

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
        empty = _nothing_to_draw(record, study, analysis)
        if empty:
            fig = no_data_figure(record.title, empty)
        elif record.kind == "consort":
            if participant_flow is None:
                participant_flow = flow_from_roster(participants, study)
            fig = consort_figure(study, participant_flow)
        elif record.kind == "forest":
            fig = _forest(study, analysis, outcomes, results, record.title)
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
            fig = (
                qq_figure(cells, labels[record.outcome], arm_labels, visit_labels)
                if cells
                else no_data_figure(record.title, "no distribution whose normality was tested")
            )
        paths += save_figure(fig, outdir / record.stem)
    for kind in PER_OUTCOME:  # each kind is a directory output, even with no outcome
        (outdir / kind).mkdir(parents=True, exist_ok=True)
    manifest = outdir / MANIFEST
    pd.DataFrame(
        [r.__dict__ for r in records], columns=["kind", "outcome", "stem", "title", "caption"]
    ).to_csv(manifest, index=False, lineterminator="\n")
    paths.append(manifest)
    return paths


def _forest(study, analysis, outcomes, results, title: str):
    effects = standardised_effects(study, analysis, outcomes, results)
    if not np.isfinite(effects["smd"].to_numpy(dtype=float)).any():
        return no_data_figure(title, "no standardised effect could be estimated")
    ci = f"{100 * (1 - study.analysis.alpha):g}% CI"
    if study.single_arm:
        xlabel, favours = f"Standardised change from baseline ({ci})", ("worse", "better")
    else:
        xlabel = f"Standardised difference at {study.primary_visit.label} ({ci})"
        other = study.arms[1].label if len(study.arms) == 2 else "comparison arm"
        favours = (f"favours {study.reference_arm.label}", f"favours {other}")
    # the order of the n column's numbers, wrapped to the column's width
    n_header = "\n".join(wrap("n (" + " / ".join(arm.label for arm in study.arms) + ")", 24))
    return forest_figure(effects, xlabel, favours, n_header if len(study.arms) > 1 else "n")


#: the per-outcome figure kinds, one directory each
PER_OUTCOME = ("trajectory", "change", "qq")


def _nothing_to_draw(record: FigureRecord, study: Study, analysis: pd.DataFrame) -> str:
    """Why a per-outcome figure has nothing to show (empty when it has)."""
    if record.kind not in PER_OUTCOME:
        return ""
    data = analysis[(analysis["outcome"] == record.outcome) & analysis["value"].notna()]
    if data.empty:
        return "no values recorded for this outcome"
    later = data["visit"] != study.baseline.id
    if record.kind == "change" and not (
        later.any()
        and data.loc[later, "participant_id"].isin(data.loc[~later, "participant_id"]).any()
    ):
        return "no participant has values at baseline and a later visit"
    return ""
