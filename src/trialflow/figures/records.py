"""What a study's figures are, before anything is drawn: the rows of ``figures.csv``."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from trialflow.config import Study
from trialflow.reported import outcome_labels

from .data import forest_method
from .qq import QQ_MAX_POINTS

__all__ = ["MANIFEST", "MANIFEST_COLUMNS", "FigureRecord", "figure_records", "safe_name"]

MANIFEST = "figures.csv"
MANIFEST_COLUMNS = ("kind", "outcome", "stem", "title", "caption")


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
        File name without extension (``<stem>.png``, ``<stem>.svg``).
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


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def figure_records(
    study: Study, analysis: pd.DataFrame, outcomes: pd.DataFrame
) -> list[FigureRecord]:
    """What :func:`write_study_figures` writes, in report order (without drawing anything)."""
    labels = outcome_labels(outcomes)
    present = set(analysis["outcome"].unique())
    order = [o for o in outcomes["outcome"].drop_duplicates() if o in present]
    sample = study.figures.trajectory_sample
    records = [
        FigureRecord(
            "consort",
            "",
            "consort/consort",
            "Participant flow",
            "CONSORT 2010 flow of participants by arm, from participant_flow.csv: screened "
            "and excluded (config), randomised, received and discontinued the intervention, "
            "withdrawn and lost to follow-up (roster), excluded from and analysed in the "
            "primary analysis (the n of the primary model).",
        ),
        FigureRecord(
            "forest",
            "",
            "forest/forest",
            "Standardised effects across outcomes",
            _forest_caption(study),
        ),
    ]
    for outcome in order:
        label = labels[outcome]
        safe = safe_name(outcome)
        records += [
            FigureRecord(
                "trajectory",
                outcome,
                f"trajectory/{safe}",
                f"{label}: trajectories",
                "Mean with t-based 95% CI by arm and week from every participant; faint lines "
                f"are individual participants (a random sample of {sample} per arm, seed "
                f"{study.figures.seed}, where an arm has more).",
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
                "which, with test_selection: auto, chose each test), each "
                "standardised ((x − mean) / SD) so that normal data lie on the dashed line "
                "y = x: within-arm changes (paired t or Wilcoxon; also the between-arm test on "
                "change) and the values at each visit (between-arm test on values, or the test "
                "across visits); the legend gives each distribution's n, Shapiro-Wilk p and the "
                f"test reported (at most {QQ_MAX_POINTS} evenly spaced quantiles drawn each).",
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
