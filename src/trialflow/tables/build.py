"""Building the publication tables: Table 1, outcomes by visit, and the classic-test layouts.

Every table is a :class:`Table` of display strings (numbers rounded for reading, see
:mod:`trialflow.tables.format`); :mod:`trialflow.tables.writers` writes it. Result cells
come from :class:`trialflow.reported.ReportedResults`, so that every table quotes the test
the analysis reports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trialflow.config import Study
from trialflow.reported import (
    BETWEEN_TESTS,
    NONPARAMETRIC,
    OVERALL_TESTS,
    TEST_NAMES,
    WITHIN_TESTS,
    ReportedResults,
    analysed_outcomes,
    is_degenerate,
    outcome_labels,
)
from trialflow.stats import descriptives as stats_descriptives
from trialflow.stats.contract import between_contrast, within_contrast

from .baseline import table1_table
from .format import MISSING, decimals_for, format_ci, format_mean_sd, format_p
from .table import Table

__all__ = [
    "DEGENERATE_MARK",
    "NONPARAMETRIC_MARK",
    "build_study_tables",
    "classic_tests_table",
    "outcomes_by_visit_table",
    "single_arm_table",
]

NONPARAMETRIC_MARK = "‡"
# a rank-test interval that R's algorithm cannot resolve (heavy ties): the row's flags say so
DEGENERATE_MARK = "§"


# --------------------------------------------------------------------------- cells


def _effect_cell(row: pd.Series | None, decimals: int, mark: str = "") -> str:
    """``"2.1 (0.5 to 3.7); p = 0.023; adj. p = 0.046"`` from one results row."""
    if row is None:
        return MISSING
    parts = []
    est = format_ci(row["estimate"], row["ci_low"], row["ci_high"], decimals)
    if est:
        parts.append(est + mark + (DEGENERATE_MARK if is_degenerate(row) else ""))
    if np.isfinite(row["p_value"]):
        parts.append(format_p(row["p_value"], prefix=True))
    if np.isfinite(row["p_adjusted"]):
        parts.append("adj. " + format_p(row["p_adjusted"], prefix=True))
    if not parts and row["note"]:
        return f"not estimable ({row['note']})"
    return "; ".join(parts)


def _p_cell(row: pd.Series | None) -> str:
    """``"0.023"``, with the adjusted p in brackets and ‡ after a non-parametric test's p."""
    if row is None:
        return MISSING
    text = format_p(row["p_value"])
    if not text:
        return MISSING
    if np.isfinite(row["p_adjusted"]):
        text += f" (adj. {format_p(row['p_adjusted'])})"
    return text + (NONPARAMETRIC_MARK if row["analysis"] in NONPARAMETRIC else "")


def _nonparametric_note(res: ReportedResults) -> list[str]:
    used = [TEST_NAMES[t] for t in NONPARAMETRIC if t in res.used]
    if not used:
        return []
    return [f"{NONPARAMETRIC_MARK} non-parametric test ({', '.join(used)})."] + _degenerate_note(
        res
    )


def _degenerate_note(res: ReportedResults) -> list[str]:
    if not res.degenerate:
        return []
    return [
        f"{DEGENERATE_MARK} confidence interval of the rank test degenerate with heavily tied"
        " data (R's wilcox.test algorithm); see the row's note in results.csv and read the"
        " t-based interval instead."
    ]


def _descriptive_lookup(descriptives: pd.DataFrame) -> dict[tuple[str, str, str], pd.Series]:
    return {(r.outcome, r.arm, r.visit): r for r in descriptives.itertuples(index=False)}


def _decimals_by_outcome(descriptives: pd.DataFrame, study: Study) -> dict[str, int]:
    base = descriptives[descriptives["visit"] == study.baseline.id]
    sd = base.groupby("outcome")["sd"].median()
    fallback = descriptives.groupby("outcome")["sd"].median()
    return {o: decimals_for(sd.get(o, fallback.get(o, np.nan))) for o in fallback.index}


def _arm_labels(study: Study) -> dict[str, str]:
    return {a.id: a.label for a in study.arms}


def _drop_empty_p_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without the p columns that no row fills (tests absent from results)."""
    keep = [c for c in frame.columns if not c.startswith("p ") or frame[c].ne(MISSING).any()]
    return frame[keep] if len(frame) else frame


def _multiplicity_note(study: Study, res: ReportedResults) -> list[str]:
    if not res.has_adjusted():
        return []
    m = study.analysis.multiplicity
    method = {"holm": "Holm", "fdr_bh": "Benjamini-Hochberg (FDR)"}.get(m.method, m.method)
    family = m.family.replace("_", " ")
    return [
        f"adj. p: adjusted for multiplicity by the {method} method within the family '{family}'."
    ]


# --------------------------------------------------------------------------- outcome tables


def outcomes_by_visit_table(
    study: Study,
    outcomes: pd.DataFrame,
    results: pd.DataFrame,
    descriptives: pd.DataFrame,
) -> Table:
    """Outcomes by visit: mean (SD) per arm, within-arm change, between-arm model effects.

    One row per outcome and visit. Per arm: ``mean (SD) [n]`` and the change from baseline
    with 95% CI and p (the paired t or Wilcoxon test that the analysis selected). For
    parallel designs: ANCOVA and MMRM differences versus the reference arm with 95% CI, p and
    the multiplicity-adjusted p where ``results`` has one.

    Parameters
    ----------
    study : Study
    outcomes : pandas.DataFrame
        Outcome metadata (labels, units, direction).
    results : pandas.DataFrame
        Rows of ``results.csv``.
    descriptives : pandas.DataFrame
        ``outcome, arm, visit, n, mean, sd, ...``.

    Returns
    -------
    Table
    """
    res = ReportedResults(results, study)
    labels = outcome_labels(outcomes)
    desc = _descriptive_lookup(descriptives)
    decimals = _decimals_by_outcome(descriptives, study)
    rows = []
    for outcome in analysed_outcomes(outcomes, descriptives["outcome"]):
        for visit in study.visits:
            row = {"Outcome": labels[outcome], "Visit": visit.label}
            row |= _arm_cells(res, desc, study, outcome, visit.id, decimals[outcome])
            row |= _model_cells(res, study, outcome, visit.id, decimals[outcome])
            rows.append(row)
    frame = pd.DataFrame(rows)
    # Columns for analyses absent from results are dropped rather than printed empty
    keep = [c for c in frame.columns if c in ("Outcome", "Visit") or frame[c].ne(MISSING).any()]
    frame = frame[keep] if len(frame) else frame
    return Table(
        name="table2_outcomes_by_visit",
        title=f"Table 2. Outcomes by visit and arm: {study.title}",
        frame=frame.reset_index(drop=True),
        footnotes=tuple(_outcomes_by_visit_notes(study, res)),
        group_column="Outcome",
    )


def _arm_cells(
    res: ReportedResults, desc: dict, study: Study, outcome: str, visit: str, decimals: int
) -> dict[str, str]:
    """Table 2, per arm: ``mean (SD) [n]`` and the reported change from baseline."""
    arm_labels = _arm_labels(study)
    baseline = study.baseline.id
    cells = {}
    for arm in study.arm_ids:
        cell = desc.get((outcome, arm, visit))
        text = MISSING
        if cell is not None and np.isfinite(cell.mean):
            text = f"{format_mean_sd(cell.mean, cell.sd, decimals)} [{int(cell.n)}]"
        cells[f"{arm_labels[arm]}: mean (SD) [n]"] = text
        change = None if visit == baseline else res.within(outcome, visit, baseline, arm)
        wilcoxon = change is not None and change["analysis"] == WITHIN_TESTS[1]
        mark = NONPARAMETRIC_MARK if wilcoxon else ""
        cells[f"{arm_labels[arm]}: change from baseline (95% CI)"] = _effect_cell(
            change, decimals, mark
        )
    return cells


def _model_cells(
    res: ReportedResults, study: Study, outcome: str, visit: str, decimals: int
) -> dict[str, str]:
    """Table 2: MMRM changes (single arm) or ANCOVA and MMRM differences (parallel)."""
    arm_labels = _arm_labels(study)
    ref = study.reference_arm.id
    others = [a for a in study.arm_ids if a != ref]
    baseline = study.baseline.id
    cells = {}
    if not others:  # single arm: the MMRM estimate of each change from baseline
        for arm in study.arm_ids:
            hit = None
            if visit != baseline:
                contrast = within_contrast(visit, baseline)
                hit = res.model(outcome, visit, "mmrm", contrast, group=arm)
            cells[f"{arm_labels[arm]}: MMRM change from baseline (95% CI)"] = _effect_cell(
                hit, decimals
            )
    for arm in others:
        vs = f"{arm_labels[arm]} vs {arm_labels[ref]}" if len(others) > 1 else ""
        for model, name in (("ancova", "ANCOVA"), ("mmrm", "MMRM")):
            contrast = between_contrast(arm, ref)
            hit = None if visit == baseline else res.model(outcome, visit, model, contrast)
            head = f"{name} difference{' ' + vs if vs else ''} (95% CI)"
            cells[head] = _effect_cell(hit, decimals)
    return cells


def _outcomes_by_visit_notes(study: Study, res: ReportedResults) -> list[str]:
    arm_labels = _arm_labels(study)
    ref = study.reference_arm.id
    others = [a for a in study.arm_ids if a != ref]
    notes = ["mean (SD) [n]: n participants with a value at the visit."]
    if res.used & set(WITHIN_TESTS):
        note = (
            "Within-arm change: " + res.used_names(WITHIN_TESTS) + " as selected by the analysis"
            f" (test_selection = {study.analysis.test_selection})"
        )
        if WITHIN_TESTS[1] in res.used:
            note += (
                f"; {NONPARAMETRIC_MARK} marks Wilcoxon rows (estimate as reported by that test)"
            )
        notes.append(note + ".")
    if others and {"ancova", "mmrm"} & res.used:
        cov = ", ".join(study.covariates)
        notes.append(
            f"Differences are {', '.join(arm_labels[a] for a in others)} minus {arm_labels[ref]}; "
            "ANCOVA adjusts for the baseline value" + (f" and {cov}" if cov else "") + "."
        )
    if "mmrm" in res.used:
        notes.append("MMRM: model, covariance structure and estimand in the Methods.")
    return notes + _degenerate_note(res) + _multiplicity_note(study, res)


def classic_tests_table(
    study: Study,
    outcomes: pd.DataFrame,
    results: pd.DataFrame,
    descriptives: pd.DataFrame,
) -> Table:
    """The classic-test table as the source papers lay it out (parallel designs).

    Per outcome one row per arm: mean ± SD at every visit, the within-arm p for each
    post-baseline visit versus baseline (paired t or Wilcoxon, as selected), and the
    between-arm p (Welch t or Mann-Whitney, as selected) at each visit and on the change from
    baseline. A between-arm p compares that row's arm with the reference arm, so it is on
    the non-reference arm's row.

    Parameters
    ----------
    study, outcomes, results, descriptives
        As for :func:`outcomes_by_visit_table`.

    Returns
    -------
    Table
    """
    res = ReportedResults(results, study)
    labels = outcome_labels(outcomes)
    arm_labels = _arm_labels(study)
    desc = _descriptive_lookup(descriptives)
    decimals = _decimals_by_outcome(descriptives, study)
    ref = study.reference_arm.id
    baseline = study.baseline
    rows = []
    for outcome in analysed_outcomes(outcomes, descriptives["outcome"]):
        d = decimals[outcome]
        for arm in study.arm_ids:
            row = {"Outcome": labels[outcome], "Arm": arm_labels[arm]}
            for visit in study.visits:
                cell = desc.get((outcome, arm, visit.id))
                row[f"{visit.label}, mean ± SD"] = (
                    format_mean_sd(cell.mean, cell.sd, d, style="pm")
                    if cell is not None
                    else MISSING
                )
            for visit in study.post_baseline:
                within = res.within(outcome, visit.id, baseline.id, arm)
                row[f"p within arm, {visit.label} vs {baseline.label}"] = _p_cell(within)
            for visit in study.visits:
                hit = None
                if arm != ref:
                    hit = res.between(outcome, visit.id, arm, ref, change=False)
                row[f"p between arms, {visit.label}"] = _p_cell(hit)
            for visit in study.post_baseline:
                hit = None
                if arm != ref:
                    hit = res.between(outcome, visit.id, arm, ref, change=True)
                row[f"p between arms, change to {visit.label}"] = _p_cell(hit)
            rows.append(row)
    frame = _drop_empty_p_columns(pd.DataFrame(rows))
    within = res.used_names(WITHIN_TESTS) or "none"
    between = res.used_names(BETWEEN_TESTS) or "none"
    notes = [
        f"Within-arm p: {within}; between-arm p: {between}; chosen per comparison by "
        f"test_selection = {study.analysis.test_selection}"
        + (
            " (Shapiro-Wilk at alpha = " + f"{study.analysis.alpha:g})"
            if study.analysis.test_selection == "auto"
            else ""
        )
        + ".",
        f"Between-arm p compares the arm of the row with {arm_labels[ref]}.",
    ]
    notes += _nonparametric_note(res) + _multiplicity_note(study, res)
    return Table(
        name="table3_tests",
        title=f"Table 3. Within- and between-arm tests: {study.title}",
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
        As for :func:`outcomes_by_visit_table`.

    Returns
    -------
    Table
    """
    res = ReportedResults(results, study)
    labels = outcome_labels(outcomes)
    desc = _descriptive_lookup(descriptives)
    decimals = _decimals_by_outcome(descriptives, study)
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
            row[f"p {visit.label} vs {baseline.label}"] = _p_cell(
                res.within(outcome, visit.id, baseline.id, arm)
            )
        if eot is not None and fu is not None:
            row[f"p {fu.label} vs {eot.label}"] = _p_cell(res.within(outcome, fu.id, eot.id, arm))
        overall = res.overall(outcome)
        row["p over visits"] = _p_cell(overall)
        rows.append(row)
    frame = _drop_empty_p_columns(pd.DataFrame(rows))
    paired = res.used_names(WITHIN_TESTS) or "none"
    notes = [
        f"Paired comparisons: {paired}, chosen per comparison by test_selection = "
        f"{study.analysis.test_selection}.",
    ]
    if res.used & set(OVERALL_TESTS):
        overall = res.used_names(OVERALL_TESTS)
        notes.append(f"p over visits: {overall}.")
    if eot is not None and fu is not None:
        notes.append(
            f"p {fu.label} vs {eot.label}: was the change maintained after treatment stopped."
        )
    notes += _nonparametric_note(res) + _multiplicity_note(study, res)
    return Table(
        name="table3_tests",
        title=f"Table 3. Outcomes over visits (single arm): {study.title}",
        frame=frame.reset_index(drop=True),
        footnotes=tuple(notes),
    )


def build_study_tables(
    study: Study,
    outcomes: pd.DataFrame,
    participants: pd.DataFrame,
    results: pd.DataFrame,
    descriptives: pd.DataFrame | None = None,
    analysis: pd.DataFrame | None = None,
    table1: pd.DataFrame | None = None,
) -> list[Table]:
    """All tables of a study, in print order.

    Parameters
    ----------
    study : Study
    outcomes : pandas.DataFrame
        Outcome metadata.
    participants : pandas.DataFrame
        The roster.
    results : pandas.DataFrame
        ``results.csv``.
    descriptives : pandas.DataFrame, optional
        ``descriptives.csv``; computed from ``analysis`` with
        :func:`trialflow.stats.descriptives` when missing.
    analysis : pandas.DataFrame, optional
        The long analysis data; needed only when ``descriptives`` is not given.
    table1 : pandas.DataFrame, optional
        A long Table 1 (``variable, level, arm, summary``) to print instead of
        :func:`table1_long`.

    Returns
    -------
    list of Table
        Table 1, Table 2 (outcomes by visit) and Table 3 (classic tests for parallel designs,
        the single-arm table otherwise).
    """
    if descriptives is None:
        if analysis is None:
            raise ValueError("build_study_tables needs descriptives or analysis")
        descriptives = stats_descriptives(analysis, participants, study)
    tables = [
        table1_table(study, participants, table1, outcomes),
        outcomes_by_visit_table(study, outcomes, results, descriptives),
    ]
    if study.design == "single_arm":
        tables.append(single_arm_table(study, outcomes, results, descriptives))
    else:
        tables.append(classic_tests_table(study, outcomes, results, descriptives))
    return tables
