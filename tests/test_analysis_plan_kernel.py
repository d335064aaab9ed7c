"""Hand-worked checks of the analysis-plan kernel (issue 12): effect-size edge cases, testing
strategies, responders, estimands and analysis sets, participant flow and the declared
Table 1. The R-referenced numbers are in test_analysis_plan_reference.py."""

from __future__ import annotations

import dataclasses
import doctest
import importlib
import math

import numpy as np
import pandas as pd
import pytest

from trialflow.config import AnalysisOptions, Arm, ResponderOptions, Study, Visit
from trialflow.errors import InputError
from trialflow.stats import fisher_exact_p, newcombe_interval, wilson_interval
from trialflow.stats.effect_sizes import (
    cohens_dz_numbers,
    hedges_g,
    hedges_g_numbers,
    merge_effect_size,
    noncentral_t_limits,
    pooled_sd,
    rank_biserial_numbers,
    standardised_difference,
)
from trialflow.stats.estimands import (
    analysis_set,
    apply_intercurrent_events,
    intercurrent_events,
    roster_flag,
)
from trialflow.stats.flow import participant_flow
from trialflow.stats.logistic import adjusted_odds_ratio
from trialflow.stats.responders import (
    ResponderThreshold,
    responder_analysis,
    responder_rows,
    responder_status,
    responders,
)
from trialflow.stats.table1 import declared_table1, table1
from trialflow.stats.testing import apply_testing_strategy, fixed_sequence, holm, no_adjustment

NEW_MODULES = [
    "effect_sizes",
    "student_t",
    "logistic",
    "responders",
    "testing",
    "estimands",
    "flow",
    "table1",
]


@pytest.mark.parametrize("name", NEW_MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(f"trialflow.stats.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


def make_study(visits=None, arms=("control", "exercise")) -> Study:
    visits = visits or [
        ("baseline", 0, "baseline"),
        ("week4", 4, "treatment"),
        ("week8", 8, "treatment"),
        ("week12", 12, "end_of_treatment"),
    ]
    return Study(
        id="s",
        title="s",
        design="parallel",
        data_dir="",
        arms=tuple(Arm(a, a) for a in arms),
        visits=tuple(Visit(v, v, w, r) for v, w, r in visits),
        instruments=(),
        analysis=AnalysisOptions(minimal_important_difference={"y": 2}),
    )


# ---- effect sizes: degenerate data and the model-based standardiser ------------------------


def test_effect_sizes_on_degenerate_data_are_empty_with_a_reason():
    g = hedges_g_numbers([1.0], [2.0, 3.0])
    assert math.isnan(g["effect_size"]) and "at least 2 values" in g["note"]
    g = hedges_g_numbers([2.0, 2.0, np.nan], [5.0, 5.0])
    assert math.isnan(g["effect_size"]) and "zero variance" in g["note"]
    dz = cohens_dz_numbers([3.0], [1.0])
    assert math.isnan(dz["effect_size"]) and "at least 2 complete pairs" in dz["note"]
    dz = cohens_dz_numbers([3.0, 4.0, 5.0], [1.0, 2.0, 3.0])
    assert math.isnan(dz["effect_size"]) and "zero variance" in dz["note"]
    r = rank_biserial_numbers([1.0, 2.0], [1.0, 2.0], paired=True)
    assert math.isnan(r["effect_size"]) and "no non-zero difference" in r["note"]
    r = rank_biserial_numbers([1.0, np.nan], [np.nan])
    assert math.isnan(r["effect_size"]) and "empty sample" in r["note"]
    # all differences negative and equal: r = -1 (effectsize 0.8.3 says +1 here), no interval
    r = rank_biserial_numbers([1.0, 2.0, 3.0], [2.0, 3.0, 4.0], paired=True)
    assert r["effect_size"] == -1 and math.isnan(r["effect_size_ci_low"])
    assert all(math.isnan(v) for v in noncentral_t_limits(math.inf, 5))
    assert all(math.isnan(v) for v in noncentral_t_limits(2.0, 0))
    assert all(math.isnan(v) for v in noncentral_t_limits(1e6, 5))
    frame = hedges_g([1, 2, 3], [2, 3, 4])
    assert list(frame.columns) == [
        "effect_size",
        "effect_size_name",
        "effect_size_ci_low",
        "effect_size_ci_high",
        "note",
    ]


def test_paired_rank_biserial_by_hand():
    # differences 2, -1, 0, 3, 3: zero dropped; |d| ranks 2, 1, 3.5, 3.5 -> T+ = 9, T- = 1
    r = rank_biserial_numbers([5, 4, 7, 9, 8], [3, 5, 7, 6, 5], paired=True)
    assert r["effect_size"] == pytest.approx((9 - 1) / 10)
    se = math.sqrt((2 * 64 + 3 * 16 + 4) / 6) / 10
    z = 1.959963984540054
    assert r["effect_size_ci_low"] == pytest.approx(math.tanh(math.atanh(0.8) - z * se))


def test_pooled_baseline_sd_and_standardised_difference_by_hand():
    # arm a: 1, 3 (var 2); arm b: 10, 14, 12 (var 4); arm c: 7 alone (adds nothing)
    sd, df = pooled_sd([1, 3, 10, 14, 12, 7, np.nan], list("aabbbca"))
    assert df == 3 and sd == pytest.approx(math.sqrt((1 * 2 + 2 * 4) / 3))
    row = standardised_difference(2.0, -1.0, 5.0, [1, 3, 10, 14, 12], list("aabbb"))
    assert row["effect_size_name"] == "standardised_difference"
    assert [row["effect_size"], row["effect_size_ci_low"], row["effect_size_ci_high"]] == (
        pytest.approx([2 / sd, -1 / sd, 5 / sd])
    )
    flat = standardised_difference(2.0, 1.0, 3.0, [4, 4, 4, 4], list("aabb"))
    assert math.isnan(flat["effect_size"]) and "zero or undefined" in flat["note"]
    alone = standardised_difference(2.0, 1.0, 3.0, [4, 5], ["a", "b"])
    assert math.isnan(alone["effect_size"])
    assert "no estimate" in standardised_difference(math.nan, 0, 0, [1, 2], "aa")["note"]


def test_merge_effect_size_joins_notes_and_replaces_numbers():
    merged = merge_effect_size(
        {"n": 5, "effect_size": 9.0, "note": "exact"},
        {
            "effect_size": 0.5,
            "effect_size_name": "hedges_g",
            "effect_size_ci_low": 0.1,
            "effect_size_ci_high": 0.9,
            "note": "x",
        },
    )
    assert merged == {
        "n": 5,
        "effect_size": 0.5,
        "note": "exact; x",
        "effect_size_name": "hedges_g",
        "effect_size_ci_low": 0.1,
        "effect_size_ci_high": 0.9,
    }


# ---- testing strategies --------------------------------------------------------------------


def test_fixed_sequence_stops_at_a_missing_p_value():
    table = fixed_sequence([0.01, np.nan, 0.001])
    assert table["rejected"].tolist() == [True, False, False]
    assert table["tested"].tolist() == [True, False, False]
    assert table["note"].tolist() == ["", "no p-value", "not formally tested"]
    assert np.isnan(table["p_adjusted"].iloc[2])
    assert fixed_sequence([]).empty


def test_holm_none_and_dispatch():
    assert holm([0.01, 0.04, 0.03])["p_adjusted"].tolist() == pytest.approx([0.03, 0.06, 0.06])
    table = no_adjustment([0.04, np.nan])
    assert table["rejected"].tolist() == [True, False]
    assert table["tested"].tolist() == [True, False]
    assert apply_testing_strategy([0.2, 0.01], "fixed_sequence")["tested"].tolist() == [
        True,
        False,
    ]
    with pytest.raises(ValueError, match="unknown testing strategy"):
        apply_testing_strategy([0.1], "hochberg")


# ---- responders ----------------------------------------------------------------------------


def test_responder_status_absolute_relative_and_direction():
    five = ResponderThreshold(mid=5)
    # 45.3 - 40.3 is 4.999999999999996 in floating point: still a change of 5
    assert responder_status([40.3, 40, 40, np.nan], [45.3, 44, 46, 50], True, five).tolist() == [
        1.0,
        0.0,
        1.0,
        pytest.approx(np.nan, nan_ok=True),
    ]
    lower = responder_status([20, 20], [15, 16], False, five)
    assert lower.tolist() == [1.0, 0.0]
    # 35 % of |baseline|: baseline -10 (a z-score) improving to -6.5 is +3.5 = 35 %
    rel = ResponderThreshold(percent_improvement=35)
    status = responder_status([20, 20, -10, 0], [27, 26.9, -6.5, 5], True, rel)
    assert status[:3].tolist() == [1.0, 0.0, 1.0] and np.isnan(status[3])
    assert rel.describe(False) == "improvement >= 35% of baseline (decrease)"
    assert five.describe(False) == "change <= -5"
    with pytest.raises(ValueError, match="exactly one"):
        ResponderThreshold(mid=5, percent_improvement=10)
    with pytest.raises(ValueError, match="positive"):
        ResponderThreshold(mid=-2)
    with pytest.raises(ValueError, match="unknown responder threshold"):
        ResponderThreshold.from_config({"mcid": 3})
    assert ResponderThreshold.from_config(4) == ResponderThreshold(mid=4.0)


def test_responder_rows_missing_policies_by_hand():
    status = [1, 0, np.nan, np.nan, 1, 1, 0, np.nan]
    arm = ["c"] * 4 + ["t"] * 4
    rows = responder_rows(status, arm, ["c", "t"], "change >= 2")
    c, t, rd = rows
    assert (c["statistic"], c["n"], t["statistic"], t["n"]) == (1, 4, 2, 4)
    assert (c["ci_low"], c["ci_high"]) == pytest.approx(wilson_interval(1, 4))
    assert "2 missing counted as non-responders" in c["note"]
    assert rd["contrast"] == "t - c" and rd["estimate"] == pytest.approx(0.25)
    assert (rd["ci_low"], rd["ci_high"]) == pytest.approx(newcombe_interval(2, 4, 1, 4))
    # hypergeometric probabilities 5, 30, 30, 5 (/70): every table is as likely or less
    assert rd["p_value"] == pytest.approx(1.0)
    c, t, rd = responder_rows(status, arm, ["c", "t"], "change >= 2", missing="exclude")
    assert (c["statistic"], c["n"], t["statistic"], t["n"]) == (1, 2, 2, 3)
    assert rd["estimate"] == pytest.approx(2 / 3 - 1 / 2)
    assert rd["p_value"] == pytest.approx(fisher_exact_p(np.array([[2, 1], [1, 1]])))
    with pytest.raises(ValueError, match="unknown missing policy"):
        responder_rows(status, arm, ["c", "t"], missing="impute")


def responder_data():
    # y, higher is better, threshold change >= 2
    values = {
        ("a1", "control"): [10, 12, 13, 11],  # +1 at week12: no
        ("a2", "control"): [10, 10, 12, 12],  # +2: yes
        ("a3", "control"): [10, 11, np.nan, np.nan],  # missing at week12
        ("b1", "exercise"): [10, 13, 14, 15],  # +5: yes (composite event at week8)
        ("b2", "exercise"): [10, 12, 12, 13],  # +3: yes
        ("b3", "exercise"): [10, 10, 11, 11],  # +1: no
    }
    rows = []
    for (pid, arm), series in values.items():
        for visit, value in zip(["baseline", "week4", "week8", "week12"], series, strict=True):
            rows.append((pid, arm, visit, "y", value))
    data = pd.DataFrame(rows, columns=["participant_id", "arm", "visit", "outcome", "value"])
    outcomes = pd.DataFrame({"outcome": ["y"], "higher_is_better": [True]})
    roster = pd.DataFrame(
        {
            "participant_id": ["a1", "a2", "a3", "a4", "b1", "b2", "b3"],
            "arm": ["control"] * 4 + ["exercise"] * 3,
            "ice_visit": ["", "", "", "", "week8", "", ""],
            "ice_type": ["", "", "", "", "discontinued_treatment", "", ""],
        }
    )
    return data, outcomes, roster


def test_responder_analysis_counts_everyone_in_the_analysis_set():
    data, outcomes, roster = responder_data()
    study = make_study()
    result = responder_analysis(
        data, outcomes, study, {"y": {"mid": 2}}, participants=roster, adjusted=False
    )
    week12 = result.loc[result["visit"] == "week12"].set_index(["contrast", "group"])
    # control: a2 responds; a1 no; a3 (missing) and a4 (no data at all) are non-responders
    assert week12.loc[("responders", "control"), ["statistic", "n"]].tolist() == [1, 4]
    assert week12.loc[("responders", "exercise"), ["statistic", "n"]].tolist() == [2, 3]
    assert week12.loc[("exercise - control", ""), "estimate"] == pytest.approx(2 / 3 - 1 / 4)
    # composite: b1's event from week8 makes it a non-responder at week8 and week12
    marked = apply_intercurrent_events(data, roster, study, "composite").data
    result = responder_analysis(
        marked, outcomes, study, {"y": {"mid": 2}}, participants=roster, missing="exclude",
        adjusted=False,
    )  # fmt: skip
    week12 = result.loc[result["visit"] == "week12"].set_index(["contrast", "group"])
    assert week12.loc[("responders", "exercise"), ["statistic", "n"]].tolist() == [1, 3]
    assert week12.loc[("responders", "control"), ["statistic", "n"]].tolist() == [1, 2]


def test_study_responders_follow_the_study_options():
    """``responders`` (what analyse_study writes) is responder_analysis with the study's
    thresholds, its missing policy (default non_responder) and, with two arms, the odds
    ratio."""
    data, outcomes, roster = responder_data()
    study = make_study()
    rows = responders(data, outcomes, study, participants=roster)
    assert set(rows["analysis"]) == {"responder", "responder_logistic"}
    week12 = rows.loc[rows["visit"] == "week12"].set_index(["contrast", "group"])
    assert week12.loc[("responders", "control"), ["statistic", "n"]].tolist() == [1, 4]
    assert week12.loc[("responders", "control"), "note"] == (
        "1/4 responders (change >= 2; 2 missing counted as non-responders); Wilson interval"
    )
    same = responder_analysis(data, outcomes, study, {"y": 2}, participants=roster)
    pd.testing.assert_frame_equal(rows, same)
    excluding = dataclasses.replace(
        study,
        analysis=dataclasses.replace(
            study.analysis, responders=ResponderOptions(thresholds={}, missing="exclude")
        ),
    )
    complete = responders(data, outcomes, excluding, participants=roster)
    week12 = complete.loc[complete["visit"] == "week12"].set_index(["contrast", "group"])
    assert week12.loc[("responders", "control"), ["statistic", "n"]].tolist() == [1, 2]


def test_adjusted_rows_are_present_and_separation_is_reported():
    data, outcomes, roster = responder_data()
    result = responder_analysis(data, outcomes, make_study(), {"y": 2}, participants=roster)
    logistic = result.loc[result["analysis"] == "responder_logistic"]
    assert len(logistic) == 3 and (logistic["contrast"] == "exercise - control").all()
    # baselines are all 10: the adjusted model is singular, said so rather than crashing
    assert logistic["note"].str.contains("singular design").all()
    frame = pd.DataFrame({"arm": ["c"] * 4 + ["t"] * 4, "baseline": [1, 2, 3, 4, 1, 2, 3, 4]})
    all_t = adjusted_odds_ratio(frame.assign(responder=[0, 1, 0, 1, 1, 1, 1, 1]), ["c", "t"])
    assert "separation" in all_t.loc[0, "note"] and math.isnan(all_t.loc[0, "estimate"])
    every = adjusted_odds_ratio(frame.assign(responder=1), ["c", "t"])
    assert every.loc[0, "note"] == "every participant responded"
    # responders are exactly those with baseline >= 3: perfect separation on the covariate
    split = adjusted_odds_ratio(frame.assign(responder=[0, 0, 1, 1, 0, 0, 1, 1]), ["c", "t"])
    assert "separation" in split.loc[0, "note"] and math.isnan(split.loc[0, "p_value"])
    nobody = adjusted_odds_ratio(frame.assign(responder=np.nan), ["c", "t"])
    assert nobody.loc[0, "n"] == 0 and "no participant" in nobody.loc[0, "note"]


# ---- estimands -----------------------------------------------------------------------------


def estimand_data():
    study = make_study()
    rows = []
    series = {
        "p1": [10, 11, 12, 13],  # event at week8
        "p2": [20, 21, 22, np.nan],  # event at week4: nothing on treatment after baseline
        "p3": [30, 31, 32, 33],  # no event
    }
    for pid, values in series.items():
        for visit, week, value in zip(
            ["baseline", "week4", "week8", "week12"], [0, 4, 8, 12], values, strict=True
        ):
            if not (pid == "p1" and visit == "week12"):  # p1 has no week12 row at all
                rows.append((pid, "exercise", visit, week, "y", value, 50))
    data = pd.DataFrame(
        rows, columns=["participant_id", "arm", "visit", "week", "outcome", "value", "age"]
    )
    roster = pd.DataFrame(
        {
            "participant_id": ["p1", "p2", "p3"],
            "arm": ["exercise"] * 3,
            "ice_visit": ["week8", "week4", None],
            "ice_type": ["discontinued_treatment", "rescue_medication", ""],
        }
    )
    return study, data, roster


def values_of(data: pd.DataFrame, pid: str) -> dict:
    rows = data.loc[data["participant_id"] == pid]
    return dict(zip(rows["visit"], rows["value"], strict=True))


def test_treatment_policy_keeps_values_and_counts_them():
    study, data, roster = estimand_data()
    result = apply_intercurrent_events(data, roster, study, "treatment_policy")
    pd.testing.assert_frame_equal(result.data[list(data.columns)], data.reset_index(drop=True))
    assert result.data["after_ice"].sum() == 1 + 3  # p1 week8; p2 week4, week8, week12 (NaN)
    counts = result.counts.set_index(["ice_type", "action"])["n"]
    assert counts[("discontinued_treatment", "participants")] == 1
    assert counts[("discontinued_treatment", "values_kept")] == 1
    assert counts[("rescue_medication", "values_kept")] == 2


def test_hypothetical_sets_aside_values_from_the_event_on():
    study, data, roster = estimand_data()
    result = apply_intercurrent_events(data, roster, study, "hypothetical")
    assert values_of(result.data, "p1") == {"baseline": 10, "week4": 11}
    assert values_of(result.data, "p2") == {"baseline": 20}
    assert len(values_of(result.data, "p3")) == 4
    counts = result.counts.set_index(["ice_type", "action"])["n"]
    assert counts[("discontinued_treatment", "values_set_aside")] == 1
    assert counts[("rescue_medication", "values_set_aside")] == 2  # the NaN one is not a value


def test_while_on_treatment_carries_the_last_on_treatment_value():
    study, data, roster = estimand_data()
    result = apply_intercurrent_events(data, roster, study, "while_on_treatment")
    p1 = result.data.loc[result.data["participant_id"] == "p1"].set_index("visit")
    assert p1["value"].to_dict() == {"baseline": 10, "week4": 11, "week8": 11, "week12": 11}
    assert p1["carried_from"].tolist() == ["", "", "week4", "week4"]
    assert p1.loc["week12", "week"] == 12 and p1.loc["week12", "age"] == 50  # added row
    p2 = values_of(result.data, "p2")
    assert p2["baseline"] == 20 and all(np.isnan(p2[v]) for v in ["week4", "week8", "week12"])
    counts = result.counts.set_index(["ice_type", "action"])["n"]
    assert counts[("discontinued_treatment", "values_carried")] == 2
    assert counts[("rescue_medication", "values_missing")] == 3


def test_composite_flags_rows_and_strategies_by_type():
    study, data, roster = estimand_data()
    strategies = {"discontinued_treatment": "composite"}
    result = apply_intercurrent_events(data, roster, study, strategies, default="hypothetical")
    p1 = result.data.loc[result.data["participant_id"] == "p1"].set_index("visit")
    assert p1["ice_non_response"].to_dict() == {
        "baseline": False,
        "week4": False,
        "week8": True,
        "week12": True,
    }
    assert p1.loc["week8", "value"] == 12 and np.isnan(p1.loc["week12", "value"])
    assert values_of(result.data, "p2") == {"baseline": 20}  # rescue -> default hypothetical
    strategy = result.counts.drop_duplicates("ice_type").set_index("ice_type")["strategy"]
    assert strategy.to_dict() == {
        "discontinued_treatment": "composite",
        "rescue_medication": "hypothetical",
    }


def test_strategy_and_ice_visit_errors():
    study, data, roster = estimand_data()
    with pytest.raises(ValueError, match="'principal_stratum' is not supported"):
        apply_intercurrent_events(data, roster, study, "principal_stratum")
    with pytest.raises(ValueError, match="unknown intercurrent-event strategy"):
        apply_intercurrent_events(data, roster, study, {"x": "ignore"})
    bad = roster.assign(ice_visit=["week8", "baseline", "week99"])
    with pytest.raises(InputError) as caught:
        intercurrent_events(bad, study)
    text = str(caught.value)
    assert "participants.csv, row 3, column 'ice_visit': got 'baseline'" in text
    assert "row 4" in text and "week99" in text
    unchanged = apply_intercurrent_events(data, roster.drop(columns="ice_visit"), study)
    assert unchanged.counts.empty and not unchanged.data["after_ice"].any()


def test_roster_flag_values():
    roster = pd.DataFrame({"pp": ["Yes", " no ", "1", "0", "TRUE", "f", "", None, 1.0]})
    flags = roster_flag(roster, "pp")
    assert flags.tolist()[:6] == [True, False, True, False, True, False]
    assert flags.isna().tolist()[6:8] == [True, True] and flags.iloc[8]
    roster = pd.DataFrame(
        {"pp": ["yes", "maybe"], "source_file": "data/pp.csv", "source_row": [2, 3]}
    )
    with pytest.raises(InputError, match=r"data/pp.csv, row 3, column 'pp': got 'maybe'"):
        roster_flag(roster, "pp")


# ---- analysis sets -------------------------------------------------------------------------


def test_analysis_sets_by_hand():
    study = make_study()
    roster = pd.DataFrame(
        {
            "participant_id": ["a", "b", "c", "d", "e"],
            "arm": ["control", "control", "exercise", "exercise", "dropped_arm"],
            "per_protocol": ["yes", "no", "", "y", "yes"],
        }
    )
    rows = []
    for pid, visits in {"a": ["baseline", "week4", "week12"], "b": ["week4", "week8", "week12"],
                        "c": ["baseline", "week4"], "d": ["week12"]}.items():  # fmt: skip
        rows += [(pid, v, "y", 1.0) for v in visits]
    rows.append(("d", "week8", "y", np.nan))
    data = pd.DataFrame(rows, columns=["participant_id", "visit", "outcome", "value"])
    full = analysis_set(roster, data, study)
    assert full.participants["participant_id"].tolist() == ["a", "b", "c", "d"]
    assert full.excluded.empty
    pp = analysis_set(roster, data, study, "per_protocol")
    assert pp.participants["participant_id"].tolist() == ["a", "d"]
    assert pp.excluded.values.tolist() == [
        ["control", "not per protocol", 1],
        ["exercise", "per-protocol status missing", 1],
    ]
    assert set(pp.data["participant_id"]) == {"a", "d"}
    # y is measured at week4, week8 (b only) and week12: only b has all three
    completers = analysis_set(roster, data, study, "completers", outcome="y")
    assert completers.participants["participant_id"].tolist() == ["b"]
    assert completers.excluded.values.tolist() == [
        ["control", "missing y at week8", 1],
        ["exercise", "missing y at week4", 1],
        ["exercise", "missing y at week8", 1],
    ]
    through = analysis_set(roster, data, study, "completers", "y", through_visit="week4")
    assert through.participants["participant_id"].tolist() == ["a", "b", "c"]
    with pytest.raises(ValueError, match="per outcome"):
        analysis_set(roster, data, study, "completers")
    with pytest.raises(ValueError, match="unknown analysis set"):
        analysis_set(roster, data, study, "safety")
    with pytest.raises(ValueError, match="roster column 'per_protocol'"):
        analysis_set(roster.drop(columns="per_protocol"), data, study, "per_protocol")


# ---- participant flow ----------------------------------------------------------------------


def test_participant_flow_by_hand():
    study = make_study()
    roster = pd.DataFrame(
        {
            "participant_id": [f"p{i}" for i in range(8)],
            "arm": ["control"] * 4 + ["exercise"] * 4,
            "received_allocation": ["yes", "yes", "yes", "no", "1", "1", "1", ""],
            "ice_type": ["", "Discontinued treatment", "", "", "rescue_medication",
                         "discontinued_treatment", "discontinued-intervention", ""],
            "withdrawal_reason": ["", "moved away", "Lost to follow-up", "", "", "adverse event",
                                  "adverse event", "lost_to_follow_up"],
        }
    )  # fmt: skip
    exclusions = pd.DataFrame({"arm": ["exercise"], "reason": ["not per protocol"], "n": [1]})
    flow = participant_flow(
        roster,
        study,
        analysed={"control": 2, "exercise": 1},
        exclusions=exclusions,
        screening={"screened": 20, "excluded": {"declined": 7, "not eligible": 5}},
    )
    model = "not in the primary model (outcome, baseline or covariate missing)"
    assert flow.values.tolist() == [
        ["all", "screened", 20, ""],
        ["all", "excluded", 7, "declined"],
        ["all", "excluded", 5, "not eligible"],
        ["control", "randomised", 4, ""],
        ["exercise", "randomised", 4, ""],
        ["control", "received_allocation", 3, ""],
        ["exercise", "received_allocation", 3, ""],
        ["control", "discontinued_intervention", 1, ""],
        ["exercise", "discontinued_intervention", 2, ""],
        ["control", "withdrawn", 1, "moved away"],
        ["exercise", "withdrawn", 2, "adverse event"],
        ["control", "lost_to_follow_up", 1, ""],
        ["exercise", "lost_to_follow_up", 1, ""],
        ["control", "excluded_from_analysis", 2, model],
        ["exercise", "excluded_from_analysis", 1, "not per protocol"],
        ["exercise", "excluded_from_analysis", 2, model],
        ["control", "analysed_primary", 2, ""],
        ["exercise", "analysed_primary", 1, ""],
    ]


def test_participant_flow_without_disposition_columns():
    study = make_study()
    roster = pd.DataFrame({"participant_id": list("abc"), "arm": ["control", "exercise", "x"]})
    flow = participant_flow(roster, study, analysed={"control": 1, "exercise": 1})
    assert flow["stage"].tolist() == [
        "randomised",
        "randomised",
        "excluded_from_analysis",
        "excluded_from_analysis",
        "analysed_primary",
        "analysed_primary",
    ]
    analysed = flow.loc[flow["stage"] == "analysed_primary"].set_index("arm")["n"]
    assert analysed.to_dict() == {"control": 1, "exercise": 1}
    assert (flow.loc[flow["stage"] == "excluded_from_analysis", "n"] == 0).all()
    assert participant_flow(roster, study)["stage"].tolist() == ["randomised", "randomised"]
    with pytest.raises(ValueError, match="1 randomised, 2 analysed"):
        participant_flow(roster, study, analysed={"control": 2, "exercise": 1})


# ---- declared Table 1 ----------------------------------------------------------------------


def table1_roster():
    return pd.DataFrame(
        {
            "participant_id": list("abcdef"),
            "arm": ["control"] * 3 + ["exercise"] * 3,
            "age": [60, 64, np.nan, 70, 71, 75],
            "sex": ["F", "F", "M", "F", None, "M"],
            "smoker": [1, 1, 1, 1, 1, np.nan],  # a 0/1 variable where everyone is 1
            "grade": [1, 2, 2, 2, 1, 1],  # numeric with two levels
            "last_visit": ["week12"] * 6,
            "per_protocol": ["yes"] * 6,
        }
    )


def test_declared_table1_defaults_by_hand():
    study = make_study()
    table = declared_table1(table1_roster(), study)
    assert list(dict.fromkeys(table["variable"])) == ["age", "sex", "smoker", "grade"]
    age = table.loc[table["variable"] == "age"].set_index(["summary", "arm"])
    assert age.loc[("mean_sd", "control"), ["n", "value", "text"]].tolist() == [
        2,
        62.0,
        f"62.0 ({math.sqrt(8):.1f})",
    ]
    assert age.loc[("mean_sd", "all"), "value"] == pytest.approx(68.0)
    assert age.loc[("missing", "control"), ["n", "value", "text"]].tolist() == [3, 1, "1"]
    assert age.loc[("missing", "exercise"), "value"] == 0
    smoker = table.loc[(table["variable"] == "smoker") & (table["arm"] == "all")]
    assert smoker[["level", "summary", "text"]].values.tolist() == [
        ["0", "n_pct", "0 (0.0%)"],
        ["1", "n_pct", "5 (100.0%)"],
        ["", "missing", "1"],
    ]
    grade = table.loc[(table["variable"] == "grade") & (table["arm"] == "control")]
    assert grade[["level", "text"]].values.tolist() == [
        ["1", "1 (33.3%)"],
        ["2", "2 (66.7%)"],
        ["", "0"],
    ]
    sex = table.loc[(table["variable"] == "sex") & (table["arm"] == "exercise")]
    assert sex[["level", "n", "value"]].values.tolist() == [["F", 2, 1], ["M", 2, 1], ["", 3, 1]]
    assert "p_value" not in table.columns
    assert not table["text"].str.contains(r"\[1.0, 1.0\]").any()


def test_declared_table1_overrides_baseline_outcomes_and_errors():
    study = make_study()
    roster = table1_roster()
    analysis = pd.DataFrame(
        {
            "participant_id": list("abcdef"),
            "visit": "baseline",
            "outcome": "y",
            "value": [1.0, 2.0, 4.0, 3.0, 5.0, np.nan],
        }
    )
    table = declared_table1(
        roster, study, ["y", "age"], {"y": "median_iqr", "age": "median_iqr"}, analysis
    )
    y = table.loc[(table["variable"] == "y") & (table["summary"] == "median_iqr")]
    control = y.loc[y["arm"] == "control"].iloc[0]
    assert [control["value"], control["spread_low"], control["spread_high"]] == [2.0, 1.5, 3.0]
    assert control["text"] == "2.0 [1.5, 3.0]"
    missing = table.loc[(table["variable"] == "y") & (table["summary"] == "missing")]
    assert missing.set_index("arm")["value"].to_dict() == {"control": 0, "exercise": 1, "all": 1}
    with pytest.raises(ValueError, match="not numeric"):
        declared_table1(roster, study, ["sex"], {"sex": "mean_sd"})
    with pytest.raises(ValueError, match="neither roster columns nor outcomes"):
        declared_table1(roster, study, ["bmi"])
    with pytest.raises(ValueError, match="unknown Table 1 summary"):
        declared_table1(roster, study, ["age"], {"age": "mean"})
    one = declared_table1(roster.iloc[:1], study, ["age"], {"age": "mean_sd"})
    control = one.loc[(one["arm"] == "control") & (one["summary"] == "mean_sd")].iloc[0]
    assert control["text"] == "60.0 (NA)"


def test_existing_table1_keeps_its_rule():
    # the undeclared Table 1 still picks mean (SD) / median [IQR] by Shapiro-Wilk
    table = table1(table1_roster(), make_study())
    assert set(table.loc[table["variable"] == "smoker", "summary"]) == {"median_iqr"}
