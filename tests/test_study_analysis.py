"""A study analysed as its plan says (trialflow.stats.study_analysis).

The default cohorts, with intercurrent events, per-protocol flags and plans added here; the
expected numbers come from the same models fitted directly (statsmodels OLS for the
ANCOVA, the MMRM engine) on data edited by hand as each strategy prescribes.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from trialflow.config import (
    Estimand,
    IntercurrentEvent,
    PlannedAnalysis,
    Study,
)
from trialflow.errors import InputError
from trialflow.stats.contract import has_flag, is_imputation_analysis
from trialflow.stats.mmrm import fit_mmrm
from trialflow.stats.mmrm_analysis import mmrm_control
from trialflow.stats.study_analysis import analyse_planned_study

TORQUE = "back_extensor_peak_torque"


def with_plan(study: Study, **changes) -> Study:
    return dataclasses.replace(study, analysis=dataclasses.replace(study.analysis, **changes))


def row(results: pd.DataFrame, **where) -> pd.Series:
    mask = pd.Series(True, index=results.index)
    for column, value in where.items():
        mask &= results[column] == value
    (index,) = results.index[mask.to_numpy(bool)]
    return results.loc[index]


def direct_ancova(data: pd.DataFrame, outcome: str, visit: str, drop=()) -> pd.Series:
    """value ~ baseline + arm + age by statsmodels on the participants left."""
    d = data.loc[data["outcome"] == outcome]
    wide = d.pivot_table(index="participant_id", columns="visit", values="value")
    wide = wide.join(d.groupby("participant_id")[["arm", "age"]].first())
    wide = wide.drop(index=list(drop)).rename(columns={"baseline": "base", visit: "y"})
    fit = smf.ols("y ~ base + C(arm, Treatment('control')) + age", data=wide.dropna()).fit()
    term = "C(arm, Treatment('control'))[T.exercise]"
    low, high = fit.conf_int().loc[term]
    return pd.Series(
        {"estimate": fit.params[term], "p": fit.pvalues[term], "low": low, "high": high,
         "n": fit.nobs}
    )  # fmt: skip


#: The outcomes kept (the plan's and a few more), so that each run fits few MMRMs.
SPINE_OUTCOMES = [
    TORQUE,
    "endurance_time",
    "qualeffo41_total",
    "mobility_flexion",
    "sf36_pcs",
    "spirometry_fev1",
]


def keep_outcomes(data: dict, outcomes: list[str]) -> dict:
    analysis, meta = data["analysis"], data["outcomes"]
    return data | {
        "analysis": analysis.loc[analysis["outcome"].isin(outcomes)].reset_index(drop=True),
        "outcomes": meta.loc[meta["outcome"].isin(outcomes)].reset_index(drop=True),
    }


@pytest.fixture(scope="module")
def spine(cohort):
    return keep_outcomes(cohort("spine_rct"), SPINE_OUTCOMES)


@pytest.fixture(scope="module")
def spine_results(spine):
    return analyse_planned_study(
        spine["analysis"], spine["outcomes"], spine["participants"], spine["study"]
    )


def test_primary_row_is_flagged_tested_and_matches_a_direct_fit(spine, spine_results):
    results = spine_results.results
    primary = row(results, outcome=TORQUE, visit="week8", analysis="ancova", group="")
    assert primary["flags"] == "primary" and primary["analysis_set"] == "full_analysis"
    direct = direct_ancova(spine["analysis"], TORQUE, "week8")
    assert primary["estimate"] == pytest.approx(direct["estimate"], rel=1e-10)
    assert primary["p_value"] == pytest.approx(direct["p"], rel=1e-8)
    assert primary["n"] == direct["n"]
    # first in the fixed sequence: its adjusted p is its own
    assert primary["p_adjusted"] == primary["p_value"]
    assert primary["note"].startswith("primary analysis (position 1, fixed sequence)")
    # the key secondary analyses follow in declared order, with the running maximum
    keys = results.loc[results["flags"].str.contains("key_secondary")]
    assert keys["outcome"].tolist() == ["endurance_time", "qualeffo41_total"]
    expected = np.maximum.accumulate([primary["p_value"], *keys["p_value"]])[1:]
    np.testing.assert_allclose(keys["p_adjusted"], expected, rtol=1e-12)


def test_confirmatory_rows_stay_out_of_the_exploratory_families(spine_results):
    results = spine_results.results
    ancova = results.loc[
        (results["analysis"] == "ancova")
        & (results["group"] == "")
        & (results["visit"] == "week8")
    ]
    exploratory = ancova.loc[~ancova["flags"].str.contains("primary|key_secondary")]
    # Holm over the exploratory ANCOVA rows at the primary visit only
    p = exploratory["p_value"].to_numpy()
    order = np.argsort(p)
    m = len(p)
    holm = np.minimum(1, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    expected = np.empty(m)
    expected[order] = holm
    np.testing.assert_allclose(exploratory["p_adjusted"], expected, rtol=1e-12)
    assert m == len(ancova) - 3


def test_flow_without_disposition_columns_counts_the_primary_model(spine):
    """Acceptance: with no disposition columns, analysed_primary per arm is the n of the
    primary model per arm."""
    roster = spine["participants"].drop(columns=["last_visit", "withdrawal_reason"])
    out = analyse_planned_study(spine["analysis"], spine["outcomes"], roster, spine["study"])
    flow = out.participant_flow
    assert set(flow["stage"]) == {"randomised", "excluded_from_analysis", "analysed_primary"}
    analysed = flow.loc[flow["stage"] == "analysed_primary"].set_index("arm")["n"]
    means = out.results.loc[
        (out.results["outcome"] == TORQUE)
        & (out.results["visit"] == "week8")
        & (out.results["contrast"] == "adjusted mean")
    ].set_index("group")["n"]
    assert analysed.to_dict() == means.astype(int).to_dict()
    # and by hand: participants with baseline, week 8 and age per arm
    d = spine["analysis"].loc[spine["analysis"]["outcome"] == TORQUE]
    wide = d.pivot_table(index="participant_id", columns="visit", values="value").dropna()
    arm = d.groupby("participant_id")["arm"].first()
    assert analysed.to_dict() == arm.loc[wide.index].value_counts().to_dict()
    primary = out.results.loc[out.results["flags"] == "primary"].iloc[0]
    assert analysed.sum() == primary["n"]


def test_hypothetical_strategy_sets_values_after_the_event_aside(spine):
    roster = spine["participants"].copy()
    roster["ice_visit"] = ""
    roster["ice_type"] = ""
    events = ["S003", "S025", "S030"]
    roster.loc[roster["participant_id"].isin(events), ["ice_visit", "ice_type"]] = [
        "week8",
        "rescue_medication",
    ]
    plan = PlannedAnalysis(
        TORQUE,
        "week8",
        "ancova",
        Estimand(intercurrent_events=(IntercurrentEvent("rescue_medication", "hypothetical"),)),
    )
    study = with_plan(spine["study"], primary=plan, key_secondary=())
    out = analyse_planned_study(spine["analysis"], spine["outcomes"], roster, study)
    primary = out.results.loc[out.results["flags"] == "primary"].iloc[0]
    direct = direct_ancova(spine["analysis"], TORQUE, "week8", drop=events)
    assert primary["estimate"] == pytest.approx(direct["estimate"], rel=1e-10)
    assert primary["ci_low"] == pytest.approx(direct["low"], rel=1e-10)
    assert primary["n"] == direct["n"]
    # only the primary model changed: the exploratory Welch test keeps every participant
    welch = row(
        out.results,
        outcome=TORQUE,
        visit="week8",
        analysis="welch_t",
        contrast="exercise - control",
    )
    assert welch["n"] == 39
    # treatment policy keeps the values: the primary is the plain ANCOVA again
    kept = with_plan(
        study,
        primary=dataclasses.replace(
            plan,
            estimand=Estimand(
                intercurrent_events=(IntercurrentEvent("rescue_medication", "treatment_policy"),)
            ),
        ),
    )
    out = analyse_planned_study(spine["analysis"], spine["outcomes"], roster, kept)
    primary = out.results.loc[out.results["flags"] == "primary"].iloc[0]
    assert primary["estimate"] == pytest.approx(
        direct_ancova(spine["analysis"], TORQUE, "week8")["estimate"], rel=1e-10
    )


def test_an_event_type_without_a_strategy_is_an_input_error(spine):
    roster = spine["participants"].copy()
    roster["ice_visit"] = ["week8"] + [""] * (len(roster) - 1)
    roster["ice_type"] = ["surgery"] + [""] * (len(roster) - 1)
    with pytest.raises(InputError) as caught:
        analyse_planned_study(spine["analysis"], spine["outcomes"], roster, spine["study"])
    (problem,) = caught.value.problems
    assert (problem.row, problem.column, problem.value) == (2, "ice_type", "surgery")
    assert "analysis.primary.estimand.intercurrent_events: discontinued_treatment" in (
        problem.expected
    )


def test_per_protocol_set_and_sensitivity_rows(spine):
    roster = spine["participants"].copy()
    roster["per_protocol"] = "yes"
    off = ["S002", "S024"]
    roster.loc[roster["participant_id"].isin(off), "per_protocol"] = "no"
    study = with_plan(spine["study"], sensitivity_sets=("per_protocol",))
    out = analyse_planned_study(spine["analysis"], spine["outcomes"], roster, study)
    repeated = ~out.results["analysis"].map(is_imputation_analysis)  # not the imputations
    sensitivity = out.results.loc[out.results["flags"].str.contains("sensitivity") & repeated]
    assert sensitivity["outcome"].tolist() == [TORQUE, "endurance_time", "qualeffo41_total"]
    assert (sensitivity["analysis_set"] == "per_protocol").all()
    assert sensitivity["p_adjusted"].isna().all()  # not part of the testing strategy
    first = sensitivity.iloc[0]
    direct = direct_ancova(spine["analysis"], TORQUE, "week8", drop=off)
    assert first["estimate"] == pytest.approx(direct["estimate"], rel=1e-10)
    assert first["note"].startswith("sensitivity analysis on the per protocol set")
    # declared as the primary set instead: every row is on it and the flow says who is out
    on_pp = with_plan(spine["study"], analysis_set="per_protocol")
    out = analyse_planned_study(spine["analysis"], spine["outcomes"], roster, on_pp)
    assert set(out.results["analysis_set"]) == {"per_protocol"}
    primary = out.results.loc[out.results["flags"] == "primary"].iloc[0]
    assert primary["estimate"] == pytest.approx(direct["estimate"], rel=1e-10)
    flow = out.participant_flow.loc[out.participant_flow["stage"] == "excluded_from_analysis"]
    assert ("not per protocol", 1) in set(zip(flow["reason"], flow["n"], strict=True))
    # without the column the per-protocol set is an input error naming it
    with pytest.raises(InputError, match="per_protocol"):
        analyse_planned_study(spine["analysis"], spine["outcomes"], spine["participants"], on_pp)


def test_fixed_sequence_stops_at_the_first_non_rejection(spine):
    study = with_plan(
        spine["study"],
        key_secondary=(
            PlannedAnalysis("mobility_flexion", "week8", "ancova"),  # unchanged by design
            PlannedAnalysis("endurance_time", "week8", "ancova"),
        ),
    )
    out = analyse_planned_study(spine["analysis"], spine["outcomes"], spine["participants"], study)
    keys = out.results.loc[out.results["flags"].str.contains("key_secondary")]
    keys = keys.set_index("outcome")
    mobility, endurance = keys.loc["mobility_flexion"], keys.loc["endurance_time"]
    assert mobility["p_value"] > 0.05
    assert mobility["flags"] == "key_secondary"  # tested, not rejected
    assert has_flag(endurance["flags"], "not_formally_tested")
    assert endurance["p_value"] < 0.05  # significant on its own, but after the stop
    assert endurance["p_adjusted"] == pytest.approx(mobility["p_value"])
    assert "not formally tested" in endurance["note"]


@pytest.fixture(scope="module")
def knee(cohort):
    return keep_outcomes(cohort("knee_sarcopenia"), ["tug_time", "gait_speed"])


def test_single_arm_primary_is_the_mmrm_change_and_while_on_treatment_carries(knee):
    roster = knee["participants"].copy()
    roster["ice_visit"] = ""
    roster["ice_type"] = ""
    events = ["K0004", "K0010", "K0011", "K0100"]
    roster.loc[roster["participant_id"].isin(events), ["ice_visit", "ice_type"]] = [
        "week24",
        "discontinued_treatment",
    ]
    plan = PlannedAnalysis(
        "tug_time",
        "week24",
        "mmrm",
        Estimand(
            intercurrent_events=(
                IntercurrentEvent("discontinued_treatment", "while_on_treatment"),
            )
        ),
    )
    study = with_plan(knee["study"], primary=plan)
    out = analyse_planned_study(knee["analysis"], knee["outcomes"], roster, study)
    primary = out.results.loc[out.results["flags"] == "primary"].iloc[0]
    assert (primary["analysis"], primary["contrast"]) == ("mmrm", "week24 - baseline")
    # by hand: their week-24 value is their week-12 value
    data = knee["analysis"].loc[knee["analysis"]["outcome"] == "tug_time"].copy()
    week12 = data.loc[data["visit"] == "week12"].set_index("participant_id")["value"]
    carried = data["participant_id"].isin(events) & (data["visit"] == "week24")
    data.loc[carried, "value"] = data.loc[carried, "participant_id"].map(week12).to_numpy()
    fit = fit_mmrm(
        data, "value ~ visit", subject="participant_id", time="visit",
        reference={"visit": "baseline"}, control=mmrm_control(study),
    )  # fmt: skip
    grid, lc = fit.lsmeans_matrix(["visit"])
    at = {v: i for i, v in enumerate(grid["visit"])}
    direct = fit.contrast(lc[at["week24"]] - lc[at["baseline"]])
    assert primary["estimate"] == pytest.approx(direct["estimate"].iloc[0], rel=1e-9)
    assert primary["se"] == pytest.approx(direct["se"].iloc[0], rel=1e-6)
    fits = out.model_fits.set_index("outcome")
    assert "discontinued_treatment: while on treatment" in fits.loc["tug_time", "estimand"]
    # the flow: everyone enrolled is in the single-arm model
    flow = out.participant_flow.set_index("stage")
    assert flow.loc["analysed_primary", "n"] == primary["n"] == 375
    assert flow.loc["discontinued_intervention", "n"] == len(events)


def test_responder_primary_with_a_composite_strategy(spine):
    """An event counts as non-response; missing status too (responders.missing default)."""
    roster = spine["participants"].copy()
    roster["ice_visit"] = ""
    roster["ice_type"] = ""
    events = ["S021", "S030", "S035"]
    roster.loc[roster["participant_id"].isin(events), ["ice_visit", "ice_type"]] = [
        "week8",
        "discontinued_treatment",
    ]
    plan = PlannedAnalysis(
        "sf36_pcs",
        "week8",
        "responder",
        Estimand(intercurrent_events=(IntercurrentEvent("discontinued_treatment", "composite"),)),
    )
    study = with_plan(spine["study"], primary=plan, key_secondary=())
    out = analyse_planned_study(spine["analysis"], spine["outcomes"], roster, study)
    primary = out.results.loc[out.results["flags"] == "primary"].iloc[0]
    assert primary["analysis"] == "responder_logistic"
    # by hand: improvement >= 5 (higher is better), events and missing values as 0
    d = spine["analysis"].loc[spine["analysis"]["outcome"] == "sf36_pcs"]
    wide = d.pivot_table(index="participant_id", columns="visit", values="value")
    wide = wide.reindex(roster["participant_id"])
    status = ((wide["week8"] - wide["baseline"]) >= 5).astype(float)
    status[wide.index.isin(events)] = 0.0
    frame = pd.DataFrame(
        {
            "y": status.to_numpy(),
            "treated": (roster["arm"] == "exercise").astype(float).to_numpy(),
            "base": wide["baseline"].to_numpy(),
        }
    ).dropna()
    fit = smf.glm("y ~ treated + base", data=frame, family=sm.families.Binomial()).fit(tol=1e-12)
    assert primary["n"] == len(frame)
    assert primary["estimate"] == pytest.approx(np.exp(fit.params["treated"]), rel=1e-7)
    assert primary["p_value"] == pytest.approx(fit.pvalues["treated"], rel=1e-6)
    assert primary["effect_size_ci_low"] == pytest.approx(
        fit.conf_int().loc["treated", 0], rel=1e-6
    )
    analysed = out.participant_flow.query("stage == 'analysed_primary'")["n"].sum()
    assert analysed == len(frame)


def test_student_t_replaces_welch_between_arms(spine):
    """analysis.between_test: student gives student_t rows (R t.test(var.equal = TRUE))."""
    from scipy import stats

    study = with_plan(spine["study"], between_test="student")
    out = analyse_planned_study(spine["analysis"], spine["outcomes"], spine["participants"], study)
    assert "welch_t" not in set(out.results["analysis"])
    student = row(
        out.results, outcome=TORQUE, visit="week8", analysis="student_t",
        contrast="exercise - control (week8 - baseline)",
    )  # fmt: skip
    d = spine["analysis"].loc[spine["analysis"]["outcome"] == TORQUE]
    wide = d.pivot_table(index="participant_id", columns="visit", values="value")
    change = (wide["week8"] - wide["baseline"]).dropna()
    arm = d.groupby("participant_id")["arm"].first().loc[change.index]
    direct = stats.ttest_ind(change[arm == "exercise"], change[arm == "control"])
    assert student["p_value"] == pytest.approx(direct.pvalue, rel=1e-10)
    assert student["effect_size_name"] == "hedges_g"
    assert np.isfinite(student["effect_size_ci_low"])
    # exploratory: adjusted within its family, with the other Student rows at week 8
    assert np.isfinite(student["p_adjusted"]) and student["flags"] == ""


def test_completers_set_is_defined_per_outcome(spine):
    """analysis_set: completers keeps, per outcome, the participants with every
    post-baseline value; the flow names the missing visit as the reason."""
    study = with_plan(spine["study"], analysis_set="completers")
    out = analyse_planned_study(spine["analysis"], spine["outcomes"], spine["participants"], study)
    assert set(out.results["analysis_set"]) == {"completers"}
    primary = out.results.loc[out.results["flags"] == "primary"].iloc[0]
    # the ANCOVA uses complete cases anyway: the same numbers as on the full analysis set
    assert primary["estimate"] == pytest.approx(
        direct_ancova(spine["analysis"], TORQUE, "week8")["estimate"], rel=1e-10
    )
    # within-arm tests of another outcome use that outcome's completers only
    paired = row(
        out.results, outcome="sf36_pcs", visit="week8", analysis="paired_t", group="exercise"
    )
    d = spine["analysis"].loc[spine["analysis"]["outcome"] == "sf36_pcs"]
    wide = d.pivot_table(index="participant_id", columns="visit", values="value")
    arm = d.groupby("participant_id")["arm"].first()
    complete = wide.loc[wide["week8"].notna() & (arm.loc[wide.index] == "exercise")]
    assert paired["n"] == complete["baseline"].notna().sum()
    flow = out.participant_flow
    excluded = flow.loc[flow["stage"] == "excluded_from_analysis"]
    assert set(excluded["reason"]) == {f"missing {TORQUE} at week8"}
    assert excluded["n"].tolist() == [1, 1]
