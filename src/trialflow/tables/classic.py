"""The source papers' test layouts: the within-arm and baseline table of a parallel study
(Table 4, ``tables.within_arm``) and the single-arm table (Table 3 of a single-arm study).

Both quote the test each comparison reports (:func:`trialflow.stats.select_reported` with
``test_selection``), p-values only; the randomised comparison of a parallel study is in
Tables 2 and 3 (:mod:`trialflow.tables.build`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trialflow.config import Study
from trialflow.reported import (
    BETWEEN_TESTS,
    OVERALL_TESTS,
    WITHIN_TESTS,
    ReportedResults,
    analysed_outcomes,
    outcome_labels,
)

from .cells import (
    arm_labels,
    decimals_by_outcome,
    descriptive_lookup,
    drop_empty_columns,
    exploratory_note,
    nonparametric_note,
    p_cell,
)
from .format import MISSING, format_mean_sd
from .table import Table

__all__ = ["single_arm_table", "within_arm_table"]


def _selection_note(study: Study) -> str:
    selection = study.analysis.test_selection
    if selection == "auto":
        return (
            "chosen per comparison by a Shapiro-Wilk pre-test at alpha = "
            f"{study.analysis.alpha:g} (test_selection = auto: data-driven, as the source "
            "papers did)"
        )
    return f"test_selection = {selection}"


def within_arm_table(
    study: Study,
    outcomes: pd.DataFrame,
    results: pd.DataFrame,
    descriptives: pd.DataFrame,
) -> Table:
    """Table 4 of a parallel study: within-arm and baseline tests in the source papers'
    layout.

    Per outcome one row per arm: mean ± SD at every visit, the within-arm p for each
    post-baseline visit versus baseline, and the between-arm p at each visit (baseline
    included) and on the change from baseline. A between-arm p compares that row's arm with
    the reference arm, so it is on the non-reference arm's row. Within-arm changes are not
    randomised comparisons and baseline differences are chance by design (CONSORT); the
    table is descriptive and written only with ``tables.within_arm: true``.

    Parameters
    ----------
    study, outcomes, results, descriptives
        As for :func:`trialflow.tables.outcomes_by_visit_table`.

    Returns
    -------
    Table
    """
    res = ReportedResults(results, study)
    labels = outcome_labels(outcomes)
    names = arm_labels(study)
    desc = descriptive_lookup(descriptives)
    decimals = decimals_by_outcome(descriptives, study)
    ref = study.reference_arm.id
    baseline = study.baseline
    rows = []
    for outcome in analysed_outcomes(outcomes, descriptives["outcome"]):
        d = decimals[outcome]
        for arm in study.arm_ids:
            row = {"Outcome": labels[outcome], "Arm": names[arm]}
            for visit in study.visits:
                cell = desc.get((outcome, arm, visit.id))
                row[f"{visit.label}, mean ± SD"] = (
                    format_mean_sd(cell.mean, cell.sd, d, style="pm")
                    if cell is not None
                    else MISSING
                )
            for visit in study.post_baseline:
                within = res.within(outcome, visit.id, baseline.id, arm)
                row[f"p within arm, {visit.label} vs {baseline.label}"] = p_cell(within)
            for visit in study.visits:
                hit = None if arm == ref else res.between(outcome, visit.id, arm, ref, False)
                row[f"p between arms, {visit.label}"] = p_cell(hit)
            for visit in study.post_baseline:
                hit = None if arm == ref else res.between(outcome, visit.id, arm, ref, True)
                row[f"p between arms, change to {visit.label}"] = p_cell(hit)
            rows.append(row)
    frame = drop_empty_columns(pd.DataFrame(rows), ("Outcome", "Arm"))
    within = res.used_names(WITHIN_TESTS) or "none"
    between = res.used_names((res.t_test, BETWEEN_TESTS[1])) or "none"
    notes = [
        f"Within-arm p: {within}; between-arm p: {between}; {_selection_note(study)}.",
        f"Between-arm p compares the arm of the row with {names[ref]}; at "
        f"{baseline.label} it compares randomised groups, whose differences are chance "
        "(CONSORT advises against such tests).",
        "Within-arm changes are not randomised comparisons; the randomised comparison is in "
        "Tables 2 and 3.",
    ]
    notes += nonparametric_note(res) + exploratory_note(study, res)
    return Table(
        name="table4_within_arm",
        title=(
            "Table 4. Within-arm and baseline tests in the source papers' layout "
            f"(descriptive): {study.title}"
        ),
        frame=frame.reset_index(drop=True),
        footnotes=tuple(notes),
        group_column="Outcome",
    )


def single_arm_table(
    study: Study,
    outcomes: pd.DataFrame,
    results: pd.DataFrame,
    descriptives: pd.DataFrame,
) -> Table:
    """The single-arm table: one row per outcome, visits as columns.

    Columns: mean ± SD at each visit; p of each post-baseline visit versus baseline; p of
    follow-up versus end of treatment (whether the effect was maintained); the overall p over
    visits (repeated-measures ANOVA or Friedman) when ``results`` has one.

    Parameters
    ----------
    study, outcomes, results, descriptives
        As for :func:`trialflow.tables.outcomes_by_visit_table`.

    Returns
    -------
    Table
    """
    res = ReportedResults(results, study)
    labels = outcome_labels(outcomes)
    desc = descriptive_lookup(descriptives)
    decimals = decimals_by_outcome(descriptives, study)
    arm = study.reference_arm.id
    baseline = study.baseline
    eot, fu = study.end_of_treatment, study.follow_up
    rows = []
    for outcome in analysed_outcomes(outcomes, descriptives["outcome"]):
        d = decimals[outcome]
        row = {"Outcome": labels[outcome]}
        for visit in study.visits:
            cell = desc.get((outcome, arm, visit.id))
            text = MISSING
            if cell is not None and np.isfinite(cell.mean):
                text = format_mean_sd(cell.mean, cell.sd, d, style="pm")
            row[f"{visit.label}, mean ± SD"] = text
        for visit in study.post_baseline:
            row[f"p {visit.label} vs {baseline.label}"] = p_cell(
                res.within(outcome, visit.id, baseline.id, arm)
            )
        if eot is not None and fu is not None:
            row[f"p {fu.label} vs {eot.label}"] = p_cell(res.within(outcome, fu.id, eot.id, arm))
        row["p over visits"] = p_cell(res.overall(outcome))
        rows.append(row)
    frame = drop_empty_columns(pd.DataFrame(rows), ("Outcome",))
    paired = res.used_names(WITHIN_TESTS) or "none"
    notes = [f"Paired comparisons: {paired}; {_selection_note(study)}."]
    if res.used & set(OVERALL_TESTS):
        notes.append(f"p over visits: {res.used_names(OVERALL_TESTS)}.")
    if eot is not None and fu is not None:
        notes.append(
            f"p {fu.label} vs {eot.label}: was the change maintained after treatment stopped."
        )
    notes.append(
        "An uncontrolled change from baseline is not a treatment effect; the study's primary "
        "analysis (MMRM change from baseline) is in Table 2."
    )
    notes += nonparametric_note(res) + exploratory_note(study, res)
    return Table(
        name="table3_tests",
        title=f"Table 3. Outcomes over visits (single arm, exploratory): {study.title}",
        frame=frame.reset_index(drop=True),
        footnotes=tuple(notes),
    )
