"""Degenerate data never crashes and never warns: rows get empty numbers and a note."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers.studies import make_study

from trialflow.config import Study, Visit
from trialflow.stats import (
    RESULT_COLUMNS,
    analyse_study,
    ancova,
    descriptives,
    mann_whitney,
    paired_t,
    shapiro_wilk,
    table1,
    welch_t,
    wilcoxon_signed_rank,
)

pytestmark = pytest.mark.filterwarnings("error")

VISITS = (
    Visit("baseline", "Baseline", 0, "baseline"),
    Visit("week8", "Week 8", 8, "end_of_treatment"),
    Visit("week24", "Week 24", 24, "follow_up"),
)


def study(arms=("control", "exercise"), design="parallel", covariates=()) -> Study:
    visits = [(v.id, v.label, v.week, v.role) for v in VISITS]
    return make_study(
        "tiny", arms, visits, design=design, covariates=covariates, mid={"pain": 1.0}
    )


def long(values: dict[tuple[str, str], list[float]], outcome: str = "pain") -> pd.DataFrame:
    """{(participant, arm): [baseline, week8, week24]} as long analysis data."""
    rows = []
    for (participant, arm), series in values.items():
        for visit, value in zip(VISITS, series, strict=True):
            rows.append(
                {
                    "participant_id": participant,
                    "arm": arm,
                    "visit": visit.id,
                    "week": visit.week,
                    "outcome": outcome,
                    "value": value,
                }
            )
    return pd.DataFrame(rows)


OUTCOMES = pd.DataFrame(
    {"outcome": ["pain"], "label": ["Pain"], "unit": ["cm"], "higher_is_better": [False]}
)


def roster(data: pd.DataFrame, extra_arm: str | None = None) -> pd.DataFrame:
    people = data[["participant_id", "arm"]].drop_duplicates().reset_index(drop=True)
    if extra_arm:
        people = pd.concat([people, pd.DataFrame({"participant_id": ["X1"], "arm": [extra_arm]})])
    return people


def check_contract(results: pd.DataFrame) -> None:
    assert list(results.columns) == list(RESULT_COLUMNS)
    tests = results.loc[results["analysis"] != "responder"]
    empty = tests["p_value"].isna() & tests["estimate"].isna() & tests["statistic"].isna()
    assert (tests.loc[empty, "note"] != "").all(), "a row without numbers lacks a note"


def test_fewer_than_three_pairs():
    data = long(
        {
            ("a1", "control"): [5, 4, np.nan],
            ("a2", "control"): [6, 5, 4],
            ("b1", "exercise"): [5, 2, 1],
            ("b2", "exercise"): [7, np.nan, 2],
        }
    )
    results = analyse_study(data, OUTCOMES, roster(data), study())
    check_contract(results)
    paired = results.query("analysis == 'paired_t'")
    assert paired["note"].str.contains("fewer than 3 complete pairs").all()
    assert paired["statistic"].isna().all()


def test_zero_variance_and_all_tied():
    data = long({(f"p{i}", "control"): [3, 3, 3] for i in range(5)})
    data = pd.concat([data, long({(f"q{i}", "exercise"): [3, 2, 2] for i in range(5)})])
    results = analyse_study(data, OUTCOMES, roster(data), study())
    check_contract(results)
    row = results.query("analysis == 'paired_t' and group == 'control'").iloc[0]
    assert row["note"] == "zero variance of the changes"
    assert row["estimate"] == 0
    row = results.query("analysis == 'wilcoxon_signed_rank' and group == 'control'").iloc[0]
    assert row["note"] == "all changes are zero"
    # the exercise changes are all -1: tied, so R gives no interval either
    row = results.query(
        "analysis == 'wilcoxon_signed_rank' and group == 'exercise' and visit == 'week8'"
    ).iloc[0]
    assert np.isnan(row["ci_low"]) and "not computable" in row["note"]
    welch = results.query("analysis == 'welch_t' and contrast == 'exercise - control'")
    assert welch.iloc[0]["note"] == "zero variance in both arms"
    assert results.query("analysis == 'shapiro_wilk'")["note"].str.contains("equal").any()


def test_all_missing_outcome():
    data = long(
        {(f"p{i}", arm): [np.nan] * 3 for i, arm in enumerate(["control", "exercise"] * 3)}
    )
    results = analyse_study(data, OUTCOMES, roster(data), study())
    check_contract(results)
    # every participant counts, as a non-responder (responders.missing: non_responder):
    # 0/3 against 0/3 is a risk difference of 0 with Fisher's p = 1; nothing else has a p
    responder = results["analysis"] == "responder"
    assert results.loc[~responder, "p_value"].isna().all()
    assert results.loc[responder & (results["group"] == ""), "p_value"].tolist() == [1.0, 1.0]
    assert (results.loc[responder & (results["group"] != ""), "n"] == 3).all()
    assert results.query("analysis == 'ancova'")["note"].str.contains("no complete cases").all()
    logistic = results.query("analysis == 'responder_logistic'")
    assert (
        logistic["note"].str.contains("no participant with a responder status and baseline").all()
    )


def test_one_arm_empty():
    data = long({(f"p{i}", "control"): [5 + i, 4 + 1.3 * i, 3 + 0.5 * i] for i in range(6)})
    results = analyse_study(data, OUTCOMES, roster(data, "exercise"), study())
    check_contract(results)
    between = results.query("analysis in ['welch_t', 'mann_whitney']")
    assert between["note"].str.contains("fewer than 3 observations in an arm").all()
    assert (
        not results.query("analysis == 'paired_t' and group == 'control'")["p_value"].isna().any()
    )
    summary = descriptives(data, participants=roster(data, "exercise"), study=study())
    assert summary.query("arm == 'exercise'")["n_missing"].eq(1).all()


def test_single_arm_with_one_complete_case():
    data = long(
        {
            ("a1", "training"): [5, 4, 3],
            ("a2", "training"): [6, np.nan, 4],
            ("a3", "training"): [np.nan, 5, 4],
        }
    )
    results = analyse_study(
        data, OUTCOMES, roster(data), study(arms=("training",), design="single_arm")
    )
    check_contract(results)
    across = results.query("analysis in ['rm_anova', 'friedman']")
    assert across["note"].str.contains("fewer than 3 complete cases").all()
    assert across["note"].str.contains("not a treatment effect").all()


def test_constant_covariates_give_a_note():
    data = long(
        {
            (f"p{i}", "control" if i % 2 else "exercise"): [i, i + 1.5 * (i % 3), i]
            for i in range(8)
        }
    )
    data["sex"] = "F"
    data["age"] = 60.0
    results = analyse_study(data, OUTCOMES, roster(data), study(covariates=("sex",)))
    check_contract(results)
    notes = results.query("analysis == 'ancova'")["note"]
    assert notes.str.contains("single-level covariate left out: sex").all()
    assert results.query("analysis == 'ancova'")["estimate"].notna().all()
    results = analyse_study(data, OUTCOMES, roster(data), study(covariates=("age",)))
    check_contract(results)
    assert results.query("analysis == 'ancova'")["note"].str.contains("singular design").all()


def test_missing_covariate_column_is_named():
    data = long(
        {
            (f"p{i}", "control" if i % 2 else "exercise"): [i, i + 1.5 * (i % 3), i]
            for i in range(8)
        }
    )
    results = analyse_study(data, OUTCOMES, roster(data), study(covariates=("age",)))
    notes = results.query("analysis == 'ancova'")["note"]
    assert notes.str.contains("covariates not in the data: age").all()
    assert results.query("analysis == 'ancova' and group == ''")["p_value"].notna().all()


def test_single_functions_on_tiny_inputs():
    for frame in (
        paired_t([1.0], [2.0]),
        wilcoxon_signed_rank([], []),
        welch_t([1.0, 2.0], []),
        mann_whitney([np.nan], [1.0, 2.0, 3.0]),
        shapiro_wilk([1.0, np.nan]),
    ):
        assert frame.loc[0, "note"] != ""
        assert np.isnan(frame.loc[0, "p_value"])
    contrasts, means = ancova(
        pd.DataFrame({"arm": ["a", "b"], "value": [1.0, 2.0], "baseline": [0.0, 1.0]}), ["a", "b"]
    )
    assert contrasts.loc[0, "note"] == "no residual degrees of freedom"
    assert means["estimate"].isna().all()


def test_table1_with_empty_arm_and_missing_values():
    people = pd.DataFrame(
        {
            "participant_id": ["a", "b", "c"],
            "arm": ["control"] * 3,
            "age": [60.0, np.nan, 70.0],
            "sex": ["F", None, "M"],
        }
    )
    table = table1(people, study(), smd=True)
    exercise = table.query("arm == 'exercise'")
    assert (exercise["n"] == 0).all() and (exercise["text"] == "").all()
