"""What a study's figures are, before anything is drawn: the rows of ``figures.csv``."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from trialflow.config import Study
from trialflow.reported import outcome_labels

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
            "CONSORT-style flow of participants by arm from the roster's disposition columns "
            "(last visit attended, withdrawal reason).",
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
                "Normal Q-Q plots of the distributions whose normality chose each test, each "
                "standardised ((x − mean) / SD) so that normal data lie on the dashed line "
                "y = x: within-arm changes (paired t or Wilcoxon; also the between-arm test on "
                "change) and the values at each visit (between-arm test on values, or the test "
                "across visits); the legend gives each distribution's n, Shapiro-Wilk p and the "
                f"test reported (at most {QQ_MAX_POINTS} evenly spaced quantiles drawn each).",
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
