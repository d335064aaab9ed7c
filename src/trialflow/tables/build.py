"""Building the publication tables: Table 1, outcomes by visit with the randomised comparison
first (Table 2), the between-arm tests (Table 3) and the source papers' layouts
(:mod:`trialflow.tables.classic`).

Every table is a :class:`Table` of display strings (numbers rounded for reading, see
:mod:`trialflow.tables.format`); :mod:`trialflow.tables.writers` writes it. Result cells
come from :class:`trialflow.reported.ReportedResults`, so that every table quotes the row
the analysis reports; which rows are confirmatory comes from their ``flags``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trialflow.config import Study
from trialflow.reported import (
    BETWEEN_TESTS,
    METHOD_NAMES,
    TEST_NAMES,
    ReportedResults,
    analysed_outcomes,
    outcome_labels,
    plan_role,
)
from trialflow.stage_config import config_sha256
from trialflow.stats import descriptives as stats_descriptives
from trialflow.stats.contract import (
    TIPPING_ANALYSIS,
    TIPPING_POINT,
    between_contrast,
    has_flag,
    is_imputation_analysis,
    within_contrast,
)

from .baseline import table1_table
from .cells import (
    DEGENERATE_MARK,
    NONPARAMETRIC_MARK,
    arm_labels,
    ci_label,
    decimals_by_outcome,
    degenerate_note,
    descriptive_lookup,
    drop_empty_columns,
    effect_cell,
    effect_size_cell,
    exploratory_note,
    ordered_outcomes,
    testing_note,
)
from .classic import single_arm_table, within_arm_table
from .format import MISSING, format_ci, format_mean_sd
from .table import Table

__all__ = [
    "DEGENERATE_MARK",
    "NONPARAMETRIC_MARK",
    "SUPPLEMENTARY_TABLES",
    "between_arm_table",
    "build_study_tables",
    "build_supplementary_tables",
    "outcomes_by_visit_table",
    "single_arm_table",
    "within_arm_table",
]

PLAN_COLUMN = "Analysis plan"
_MODELS = (("ancova", "ANCOVA"), ("mmrm", "MMRM"), ("responder_logistic", "Odds ratio"))


def _plan_text(study: Study, outcome: str, visit: str) -> str:
    """``"Primary (ANCOVA)"``, ``"Key secondary 1 (MMRM)"`` or ``"Exploratory"``."""
    if visit == study.baseline.id:
        return MISSING
    roles = [
        f"{role} ({METHOD_NAMES[method]})"
        for method in METHOD_NAMES
        if (role := plan_role(study, outcome, visit, method))
    ]
    return "; ".join(roles) or "Exploratory"


def outcomes_by_visit_table(
    study: Study,
    outcomes: pd.DataFrame,
    results: pd.DataFrame,
    descriptives: pd.DataFrame,
) -> Table:
    """Table 2: outcomes by visit, the randomised comparison first.

    One row per outcome and visit, the planned outcomes first (in the order of the plan).
    Columns: the place in the analysis plan (primary, key secondary k, exploratory); for
    parallel designs the model-based differences against the reference arm (ANCOVA, MMRM,
    and the adjusted odds ratio of a responder analysis) with CI, p and adjusted p, for
    single-arm designs the MMRM change from baseline; then per arm ``mean (SD) [n]`` and the
    mean change from baseline with its t interval (no within-arm test: those are in the
    within-arm table). Sensitivity analyses of the planned comparisons follow their row.

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
    desc = descriptive_lookup(descriptives)
    decimals = decimals_by_outcome(descriptives, study)
    order = ordered_outcomes(study, analysed_outcomes(outcomes, descriptives["outcome"]))
    rows = []
    for outcome in order:
        for visit in study.visits:
            row = {"Outcome": labels[outcome], "Visit": visit.label}
            row[PLAN_COLUMN] = _plan_text(study, outcome, visit.id)
            row |= _model_cells(res, study, outcome, visit.id, decimals[outcome])
            row |= _arm_cells(res, desc, study, outcome, visit.id, decimals[outcome])
            rows.append(row)
            rows += _sensitivity_rows(res, study, labels[outcome], outcome, visit, decimals)
    frame = pd.DataFrame(rows).fillna(MISSING)
    frame = drop_empty_columns(frame, ("Outcome", "Visit"))
    what = (
        "MMRM change from baseline and descriptives"
        if study.single_arm
        else "and arm, randomised comparison first"
    )
    return Table(
        name="table2_outcomes_by_visit",
        title=f"Table 2. Outcomes by visit {what}: {study.title}",
        frame=frame.reset_index(drop=True),
        footnotes=tuple(_outcomes_by_visit_notes(study, res)),
        group_column="Outcome",
    )


def _model_columns(study: Study, arm: str | None = None) -> list[tuple[str, str]]:
    """``(analysis, header)`` of the model-based comparison columns."""
    ci = ci_label(study)
    if study.single_arm:
        return [("mmrm", f"MMRM change from baseline ({ci})")]
    names = arm_labels(study)
    others = study.arm_ids[1:]
    vs = f" {names[arm]} vs {names[study.reference_arm.id]}" if len(others) > 1 else ""
    return [
        (analysis, f"{name}{' difference' if analysis != 'responder_logistic' else ''}{vs} ({ci})")
        for analysis, name in _MODELS
    ]


def _model_cells(
    res: ReportedResults, study: Study, outcome: str, visit: str, decimals: int
) -> dict[str, str]:
    """Table 2: MMRM changes (single arm) or ANCOVA, MMRM and odds-ratio rows (parallel)."""
    cells = {}
    baseline = study.baseline.id
    if study.single_arm:
        arm = study.arm_ids[0]
        ((analysis, head),) = _model_columns(study)
        hit = None
        if visit != baseline:
            hit = res.model(outcome, visit, analysis, within_contrast(visit, baseline), arm)
        return {head: effect_cell(hit, decimals)}
    ref = study.reference_arm.id
    for arm in study.arm_ids[1:]:
        for analysis, head in _model_columns(study, arm):
            hit = None
            if visit != baseline:
                hit = res.model(outcome, visit, analysis, between_contrast(arm, ref))
            cells[head] = effect_cell(hit, 2 if analysis == "responder_logistic" else decimals)
    return cells


def _arm_cells(
    res: ReportedResults, desc: dict, study: Study, outcome: str, visit: str, decimals: int
) -> dict[str, str]:
    """Table 2, per arm: ``mean (SD) [n]`` and the mean change from baseline (paired t CI)."""
    names = arm_labels(study)
    baseline = study.baseline.id
    cells = {}
    for arm in study.arm_ids:
        cell = desc.get((outcome, arm, visit))
        text = MISSING
        if cell is not None and np.isfinite(cell.mean):
            text = f"{format_mean_sd(cell.mean, cell.sd, decimals)} [{int(cell.n)}]"
        cells[f"{names[arm]}: mean (SD) [n]"] = text
        change = None
        if visit != baseline:
            contrast = within_contrast(visit, baseline)
            change = res.one(
                outcome=outcome, visit=visit, group=arm, contrast=contrast, analysis="paired_t"
            )
        cells[f"{names[arm]}: mean change from baseline ({ci_label(study)})"] = (
            MISSING
            if change is None
            else format_ci(change["estimate"], change["ci_low"], change["ci_high"], decimals)
        )
    return cells


def _sensitivity_rows(res: ReportedResults, study: Study, label: str, outcome, visit, decimals):
    """Rows of the sensitivity analyses of ``outcome`` at ``visit`` (model cells only)."""
    rows = []
    found = res.sensitivity
    found = found.loc[(found["outcome"] == outcome) & (found["visit"] == visit.id)]
    for _, hit in found.iterrows():
        if is_imputation_analysis(hit["analysis"]):
            row = _imputation_row(study, label, visit, hit, decimals[outcome])
            rows += [row] if row else []
            continue
        method = "responder" if hit["analysis"] == "responder_logistic" else hit["analysis"]
        role = plan_role(study, outcome, visit.id, method)
        set_name = hit["analysis_set"].replace("_", " ")
        row = {"Outcome": label, "Visit": visit.label}
        row[PLAN_COLUMN] = f"Sensitivity: {role}, {set_name} set"
        arm = hit["contrast"].split(" - ")[0]
        for analysis, head in _model_columns(study, arm):
            if analysis == hit["analysis"]:
                digits = 2 if analysis == "responder_logistic" else decimals[outcome]
                row[head] = effect_cell(hit, digits)
        rows.append(row)
    return rows


_IMPUTATION_METHODS = {"cmi": "conditional mean imputation", "bmi": "multiple imputation"}


def _imputation_row(study: Study, label: str, visit, hit: pd.Series, decimals: int) -> dict:
    """Table 2: a missing-data sensitivity analysis (or the tipping point) of the
    difference, in the ANCOVA column (each completed data set is analysed by the ANCOVA);
    the tipping point's rows at each delta are left to results.csv and the figure."""
    if hit["analysis"] == TIPPING_ANALYSIS and not has_flag(hit["flags"], TIPPING_POINT):
        return {}
    arm = hit["contrast"].split(" - ")[0]
    row = {"Outcome": label, "Visit": visit.label}
    head = dict(_model_columns(study, arm))["ancova"]
    if hit["analysis"] == TIPPING_ANALYSIS:
        options = study.analysis.tipping_point
        shifted = options.arm if options is not None else arm
        if np.isfinite(hit["delta"]):
            row[PLAN_COLUMN] = (
                f"Sensitivity (missing data): tipping point, delta = {hit['delta']:.3g} "
                f"added to imputed values of {shifted}"
            )
            row[head] = effect_cell(hit, decimals)
        else:
            row[PLAN_COLUMN] = "Sensitivity (missing data): no tipping point over the deltas"
        return row
    prefix, _, strategy = hit["analysis"].partition("_")
    method = _IMPUTATION_METHODS[prefix]
    if np.isfinite(hit["n_imputations"]):
        method += f", M = {int(hit['n_imputations'])}"
    row[PLAN_COLUMN] = f"Sensitivity (missing data): {strategy.upper()}, {method}"
    row[head] = effect_cell(hit, decimals)
    return row


def _outcomes_by_visit_notes(study: Study, res: ReportedResults) -> list[str]:
    names = arm_labels(study)
    ref = study.reference_arm.id
    others = study.arm_ids[1:]
    notes = [
        "mean (SD) [n]: n participants with a value at the visit; mean change from baseline "
        "with its t interval (the participants with both visits); within-arm tests are in "
        + (
            "Table 3."
            if study.single_arm
            else "Table 4 (not a randomised comparison)."
            if study.tables.within_arm
            else "results.csv (not a randomised comparison)."
        )
    ]
    if others and {"ancova", "mmrm", "responder_logistic"} & res.used:
        cov = ", ".join(study.covariates)
        notes.append(
            f"Differences are {', '.join(names[a] for a in others)} minus {names[ref]}; "
            "ANCOVA adjusts for the baseline value" + (f" and {cov}" if cov else "") + "; "
            "odds ratio: logistic regression of responding adjusted for the baseline value."
        )
    if "mmrm" in res.used:
        notes.append("MMRM: model, covariance structure and estimand in the Methods.")
    if res.sensitivity["analysis"].map(is_imputation_analysis).any():
        notes.append(
            "Sensitivity (missing data): the ANCOVA difference after imputing missing values "
            "under the strategy named (MAR; J2R jump to reference; CR copy reference; CIR copy "
            "increments in reference; LMCF last mean carried forward), by conditional mean "
            "imputation (jackknife SE, normal approximation) or bootstrapped multiple "
            "imputation (M imputations, Rubin's rules); not part of the testing strategy; "
            "details in the Methods, every delta of the tipping point in results.csv."
        )
    # ties the table to its run: provenance.json records the same hash of the resolved config
    source = f"Configuration SHA-256 {config_sha256(study)[:12]} (provenance.json)."
    return [
        *notes,
        *testing_note(study, res),
        *exploratory_note(study, res),
        *degenerate_note(res),
        source,
    ]


def between_arm_table(
    study: Study,
    outcomes: pd.DataFrame,
    results: pd.DataFrame,
    descriptives: pd.DataFrame,
) -> Table:
    """Table 3 of a parallel study: the between-arm tests of the randomised groups.

    One row per outcome and post-baseline visit (planned outcomes first): the t-test
    (Welch's, or Student's with ``analysis.between_test: student``) of the difference in
    change from baseline and at the visit, with CI, p and adjusted p, and Hedges' g of the
    change with its CI. With ``test_selection`` other than ``parametric`` the Mann-Whitney
    location shifts follow in their own columns. Baseline is not compared (CONSORT).

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
    decimals = decimals_by_outcome(descriptives, study)
    names = arm_labels(study)
    ref = study.reference_arm.id
    ci = ci_label(study)
    tests = [res.t_test]
    if study.analysis.test_selection != "parametric":
        tests.append(BETWEEN_TESTS[1])
    order = ordered_outcomes(study, analysed_outcomes(outcomes, descriptives["outcome"]))
    rows = []
    for outcome in order:
        for visit in study.post_baseline:
            row = {"Outcome": labels[outcome], "Visit": visit.label}
            for arm in study.arm_ids[1:]:
                vs = f" {names[arm]} vs {names[ref]}" if len(study.arm_ids) > 2 else ""
                for test in tests:
                    name = TEST_NAMES[test].replace(" test", "").replace("-test", "")
                    mark = NONPARAMETRIC_MARK if test == BETWEEN_TESTS[1] else ""
                    what = "shift" if mark else "difference"
                    change = res.between_test(outcome, visit.id, arm, ref, True, test)
                    value = res.between_test(outcome, visit.id, arm, ref, False, test)
                    row[f"{name}: {what} in change{vs} ({ci})"] = effect_cell(
                        change, decimals[outcome], mark
                    )
                    row[f"{name}: {what} at visit{vs} ({ci})"] = effect_cell(
                        value, decimals[outcome], mark
                    )
                    effect = "Rank-biserial r" if mark else "Hedges' g"
                    row[f"{effect}, change{vs} ({ci})"] = effect_size_cell(change)
            rows.append(row)
    frame = drop_empty_columns(pd.DataFrame(rows), ("Outcome", "Visit"))
    notes = [
        f"Differences are {', '.join(names[a] for a in study.arm_ids[1:])} minus {names[ref]}"
        f", by {TEST_NAMES[res.t_test]}; Hedges' g with the pooled SD and its noncentral-t "
        "interval.",
    ]
    if len(tests) > 1:
        selection = study.analysis.test_selection
        notes.append(
            f"{NONPARAMETRIC_MARK} Mann-Whitney U test: Hodges-Lehmann-type location shift "
            "(R's wilcox.test) and rank-biserial r; "
            + (
                "adj. p is on the test a Shapiro-Wilk pre-test chose (test_selection = auto: "
                "data-driven)."
                if selection == "auto"
                else "the reported test (test_selection = nonparametric)."
            )
        )
    notes += degenerate_note(res) + exploratory_note(study, res)
    return Table(
        name="table3_tests",
        title=f"Table 3. Between-arm tests (exploratory): {study.title}",
        frame=frame.reset_index(drop=True),
        footnotes=tuple(notes),
        group_column="Outcome",
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
        The long analysis data: needed when ``descriptives`` is not given, and for baseline
        outcome values declared in ``table1.variables``.
    table1 : pandas.DataFrame, optional
        A long Table 1 (``variable, level, arm, summary``) to print instead of the declared
        one.

    Returns
    -------
    list of Table
        Table 1, Table 2 (outcomes by visit), Table 3 (between-arm tests of a parallel
        study, the single-arm table otherwise) and, for a parallel study with
        ``tables.within_arm``, Table 4 (within-arm and baseline tests).
    """
    if descriptives is None:
        if analysis is None:
            raise ValueError("build_study_tables needs descriptives or analysis")
        descriptives = stats_descriptives(analysis, participants, study)
    tables = [
        table1_table(study, participants, table1, outcomes, analysis),
        outcomes_by_visit_table(study, outcomes, results, descriptives),
    ]
    if study.single_arm:
        tables.append(single_arm_table(study, outcomes, results, descriptives))
    else:
        tables.append(between_arm_table(study, outcomes, results, descriptives))
        if study.tables.within_arm:
            tables.append(within_arm_table(study, outcomes, results, descriptives))
    return tables


#: the tables after Tables 1-4, in print order
SUPPLEMENTARY_TABLES = (
    "responders",
    "categorical_by_visit",
    "categorical_shift",
    "harms",
    "mmrm_appendix",
)


def build_supplementary_tables(
    study: Study,
    outcomes: pd.DataFrame,
    participants: pd.DataFrame,
    results: pd.DataFrame,
    analysis: pd.DataFrame,
    adverse_events: pd.DataFrame | None = None,
) -> list[Table]:
    """The responder table, the categorical outcomes by visit and their shift table, the
    harms table and the MMRM appendix (:data:`SUPPLEMENTARY_TABLES`), in print order.

    Parameters
    ----------
    study : Study
    outcomes, participants, results
        As for :func:`build_study_tables`.
    analysis : pandas.DataFrame
        The long analysis data (categories are cut from it; the appendix refits on it).
    adverse_events : pandas.DataFrame, optional
        The validated ``adverse_events.csv``; None when the study has none (not collected).

    Returns
    -------
    list of Table
    """
    # imported here: the appendix imports the MMRM engine, which Tables 1-4 do not need
    from .categorical import categorical_by_visit_table, categorical_shift_table
    from .harms import harms_table
    from .mmrm_appendix import mmrm_appendix_table
    from .responders import responders_table

    return [
        responders_table(study, outcomes, results),
        categorical_by_visit_table(study, analysis),
        categorical_shift_table(study, analysis),
        harms_table(study, adverse_events, participants),
        mmrm_appendix_table(study, analysis, participants, outcomes),
    ]
