"""The responder table: per outcome and visit, responders per arm ``n/N (%)`` with the Wilson
interval, and for parallel designs the risk difference (Newcombe interval, Fisher's exact p)
and the baseline-adjusted odds ratio, all quoted from the ``responder`` and
``responder_logistic`` rows of ``results.csv``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trialflow.config import Study
from trialflow.reported import ReportedResults, outcome_labels
from trialflow.stats.contract import RESPONDER_CONTRAST, between_contrast

from .cells import arm_labels, ci_label, effect_cell, ordered_outcomes
from .format import MISSING, format_ci
from .table import Table

__all__ = ["responders_table"]


def _threshold_text(study: Study, outcome: str, higher_is_better: bool) -> str:
    """``"change >= 5"`` or ``"improvement >= 20% of baseline"`` from the config."""
    threshold = study.analysis.responder_thresholds().get(outcome, {})
    if "mid" in threshold:
        mid = threshold["mid"]
        return f"change >= {mid:g}" if higher_is_better else f"change <= {-mid:g}"
    if "percent_improvement" in threshold:
        return f"improvement >= {threshold['percent_improvement']:g}% of baseline"
    return MISSING


def _arm_cell(row: pd.Series | None) -> str:
    """``"13/20 (65.0%; 43.3 to 81.9)"``: responders of N with the Wilson interval in %."""
    if row is None or not np.isfinite(row["n"]):
        return MISSING
    n = int(row["n"])
    if not np.isfinite(row["statistic"]) or n == 0:
        return f"0/{n}" if n == 0 else MISSING
    interval = format_ci(100 * row["estimate"], 100 * row["ci_low"], 100 * row["ci_high"], 1)
    return f"{int(row['statistic'])}/{n} ({interval.replace(' (', '%; ').rstrip(')')})"


def _responder_cells(res: ReportedResults, study: Study, outcome: str, visit: str) -> dict:
    """Per arm ``n/N (%; CI)``, then per other arm the risk difference and the odds ratio."""
    names = arm_labels(study)
    ref = study.reference_arm.id
    ci = ci_label(study)
    row = {}
    for arm in study.arm_ids:
        hit = res.one(
            outcome=outcome,
            visit=visit,
            analysis="responder",
            contrast=RESPONDER_CONTRAST,
            group=arm,
        )
        row[f"{names[arm]}: n/N (%; {ci})"] = _arm_cell(hit)
    for arm in study.arm_ids[1:]:
        vs = f" {names[arm]} vs {names[ref]}" if len(study.arm_ids) > 2 else ""
        contrast = between_contrast(arm, ref)
        diff = res.one(outcome=outcome, visit=visit, analysis="responder", contrast=contrast)
        if diff is not None:  # proportions as percentage points
            diff = diff.copy()
            for key in ("estimate", "ci_low", "ci_high"):
                diff[key] = 100 * diff[key]
        row[f"Risk difference, % points{vs} ({ci}); Fisher p"] = effect_cell(diff, 1)
        odds = res.model(outcome, visit, "responder_logistic", contrast)
        row[f"Adjusted odds ratio{vs} ({ci})"] = effect_cell(odds, 2)
    return row


def responders_table(study: Study, outcomes: pd.DataFrame, results: pd.DataFrame) -> Table:
    """Responders per arm, risk difference and odds ratio per outcome and visit.

    Parameters
    ----------
    study : Study
    outcomes : pandas.DataFrame
        Outcome metadata (labels, ``higher_is_better``).
    results : pandas.DataFrame
        Rows of ``results.csv``.

    Returns
    -------
    Table
        One row per outcome and visit with responder rows, planned outcomes first.
    """
    res = ReportedResults(results, study)
    labels = outcome_labels(outcomes)
    better = dict(zip(outcomes["outcome"], outcomes["higher_is_better"], strict=False))
    names = arm_labels(study)
    ref = study.reference_arm.id
    ci = ci_label(study)
    found = results.loc[results["analysis"] == "responder"]
    rows = []
    for outcome in ordered_outcomes(study, sorted(set(found["outcome"]))):
        for visit in study.post_baseline:
            here = found.loc[(found["outcome"] == outcome) & (found["visit"] == visit.id)]
            if len(here):
                threshold = _threshold_text(study, outcome, bool(better.get(outcome, True)))
                head = {"Outcome": labels.get(outcome, outcome), "Visit": visit.label}
                head["Responder if"] = threshold
                rows.append(head | _responder_cells(res, study, outcome, visit.id))
    frame = (
        pd.DataFrame(rows).fillna(MISSING)
        if rows
        else pd.DataFrame(columns=["Outcome", "Visit", "Responder if"])
    )
    notes = [
        f"n/N (%; {ci}): responders of the participants in the analysis set, Wilson interval; "
        + (
            "a missing status counts as non-response."
            if study.analysis.responders.missing == "non_responder"
            else "participants with a missing status are left out."
        ),
    ]
    if len(study.arm_ids) > 1:
        notes.append(
            f"Risk difference: {', '.join(names[a] for a in study.arm_ids[1:])} minus "
            f"{names[ref]} in percentage points, Newcombe hybrid score interval, Fisher's exact "
            "p; odds ratio: logistic regression of responding adjusted for the baseline value."
        )
    if not rows:
        notes = [
            "No responder analysis: no outcome has a responder threshold "
            "(analysis.minimal_important_difference or responders.thresholds)."
        ]
    return Table(
        name="responders",
        title=f"Responder analyses: {study.title}",
        frame=frame.reset_index(drop=True),
        footnotes=tuple(notes),
        group_column="Outcome",
    )
