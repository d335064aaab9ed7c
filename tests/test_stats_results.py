"""The results contract: columns, order, test selection, multiplicity families, CSV, Table 1."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from helpers.reference import REFERENCE, outcomes_of, reference
from helpers.studies import TIES_STUDY

from trialflow.config import Multiplicity
from trialflow.stats import (
    RESULT_COLUMNS,
    analyse_study,
    family_members,
    select_reported,
    sort_results,
    table1,
    write_results_csv,
)

PAIRS = {
    "paired_t": "wilcoxon_signed_rank",
    "welch_t": "mann_whitney",
}


@pytest.fixture(scope="module")
def data(ties_data):
    analysis = ties_data["analysis"]
    return analysis, outcomes_of(analysis), ties_data["participants"]


def run(data, **analysis_options) -> pd.DataFrame:
    options = dataclasses.replace(TIES_STUDY.analysis, **analysis_options)
    study = dataclasses.replace(TIES_STUDY, analysis=options)
    return analyse_study(*data, study)


def test_contract_columns_and_deterministic_order(data):
    first, second = run(data), run(data)
    assert list(first.columns) == list(RESULT_COLUMNS)
    pd.testing.assert_frame_equal(first, second)
    pd.testing.assert_frame_equal(sort_results(first, TIES_STUDY), first)
    assert first["outcome"].is_monotonic_increasing
    for _, rows in first.groupby("outcome"):
        visits = rows["visit"].map({"baseline": 0, "week8": 1, "week24": 2, "": 3})
        assert visits.is_monotonic_increasing
    assert set(first["study"]) == {"ties"}


def test_parametric_and_nonparametric_selection(data):
    results = run(data)
    parametric = select_reported(results, "parametric")
    nonparametric = select_reported(results, "nonparametric")
    is_parametric = results["analysis"].isin(PAIRS)
    is_nonparametric = results["analysis"].isin(PAIRS.values())
    assert parametric[is_parametric].all() and not parametric[is_nonparametric].any()
    assert nonparametric[is_nonparametric].all() and not nonparametric[is_parametric].any()
    others = ~(is_parametric | is_nonparametric)
    assert parametric[others].all() and nonparametric[others].all()
    with pytest.raises(ValueError, match="test_selection"):
        select_reported(results, "bayesian")


def test_auto_selection_follows_r_shapiro_wilk(data):
    """auto: parametric iff R's shapiro.test p >= 0.05 in every cell the test involves."""
    results = run(data)
    reported = select_reported(results, "auto")
    r_shapiro = reference("ties_missing").query("analysis == 'shapiro_wilk'")
    p = {(r.outcome, r.visit, r.contrast, r.group): r.p_value for r in r_shapiro.itertuples()}
    checked = 0
    for i, row in results.iterrows():
        if row["analysis"] == "paired_t":
            cells = [(row["outcome"], row["visit"], row["contrast"], row["group"])]
        elif row["analysis"] == "welch_t":
            change = row["contrast"].partition(" (")[2].rstrip(")") or "values"
            cells = [(row["outcome"], row["visit"], change, g) for g in ("exercise", "control")]
        else:
            continue
        normal = all(p.get(cell, np.nan) >= 0.05 for cell in cells)
        twin = results.index[
            (results["analysis"] == PAIRS[row["analysis"]])
            & (
                results[["outcome", "visit", "contrast", "group"]]
                == row[["outcome", "visit", "contrast", "group"]]
            ).all(axis=1)
        ]
        assert reported[i] == normal
        assert reported[twin[0]] == (not normal)
        checked += 1
    assert checked == 36
    assert 0 < reported[results["analysis"] == "welch_t"].sum() < 18  # both kinds occur


def _holm(p: list[float]) -> np.ndarray:
    # Holm (1979) step-down, written out independently of trialflow.stats.p_adjust
    order = np.argsort(p)
    m = len(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, (m - rank) * p[i])
        adjusted[i] = min(1.0, running)
    return adjusted


def test_primary_visit_family_is_holm_over_outcomes(data):
    results = run(data)
    reported = select_reported(results, "auto")
    members = family_members(results, TIES_STUDY)
    between = results.loc[
        reported
        & results["analysis"].isin(["welch_t", "mann_whitney"])
        & (results["contrast"] == "exercise - control")
        & (results["visit"] == "week8")
    ]
    assert len(between) == 3  # one reported test per outcome at the primary visit
    assert members[between.index].nunique() == 1
    np.testing.assert_allclose(
        results.loc[between.index, "p_adjusted"], _holm(list(between["p_value"])), rtol=1e-12
    )
    ancova = results.query("analysis == 'ancova' and group == '' and visit == 'week8'")
    np.testing.assert_allclose(ancova["p_adjusted"], _holm(list(ancova["p_value"])), rtol=1e-12)
    # the family holds nothing else
    assert members.notna().sum() == 3 + 3 + 3  # values, changes from baseline, ANCOVA
    outside = results.loc[members.isna() & ~results["analysis"].str.startswith("posthoc")]
    assert outside["p_adjusted"].isna().all()


@pytest.mark.parametrize(
    ("family", "sizes"),
    [("all_visits", {6}), ("per_outcome", {2})],
)
def test_other_families(data, family, sizes):
    results = run(data, multiplicity=Multiplicity("fdr_bh", family))
    study = dataclasses.replace(
        TIES_STUDY,
        analysis=dataclasses.replace(
            TIES_STUDY.analysis, multiplicity=Multiplicity("fdr_bh", family)
        ),
    )
    members = family_members(results, study)
    assert set(members.dropna().value_counts()) == sizes
    assert results.loc[members.notna(), "p_adjusted"].notna().all()


def test_method_none_copies_p(data):
    results = run(data, multiplicity=Multiplicity("none", "primary_visit"))
    adjusted = results["p_adjusted"].notna() & ~results["analysis"].str.startswith("posthoc")
    assert adjusted.sum() == 9
    np.testing.assert_array_equal(
        results.loc[adjusted, "p_adjusted"], results.loc[adjusted, "p_value"]
    )


def test_write_results_csv_is_deterministic(data, tmp_path):
    results = run(data)
    first, second = tmp_path / "a" / "results.csv", tmp_path / "b.csv"
    write_results_csv(results, first)
    write_results_csv(results.copy(), second)
    raw = first.read_bytes()
    assert raw == second.read_bytes()
    assert b"\r" not in raw
    assert raw.decode().splitlines()[0] == ",".join(RESULT_COLUMNS)
    back = pd.read_csv(first, keep_default_na=False)
    estimate = pd.to_numeric(back["estimate"].replace("", np.nan))
    np.testing.assert_allclose(estimate, results["estimate"], rtol=1e-9)
    with pytest.raises(ValueError, match="contract columns"):
        write_results_csv(results.drop(columns="note"), tmp_path / "c.csv")


def test_table1_matches_r_descriptives_and_counts(data):
    analysis, _, participants = data
    table = table1(participants, TIES_STUDY, analysis=analysis, smd=True)
    described = pd.read_csv(REFERENCE / "classic_tests_ties_missing_descriptives.csv")
    r_shapiro = reference("ties_missing").query(
        "analysis == 'shapiro_wilk' and visit == 'baseline' and contrast == 'values'"
    )
    for outcome in ("score", "speed", "sparse"):
        normal = (r_shapiro.loc[r_shapiro["outcome"] == outcome, "p_value"] >= 0.05).all()
        for arm in ("control", "exercise"):
            row = table.loc[(table["variable"] == outcome) & (table["arm"] == arm)].iloc[0]
            cell = (described["outcome"] == outcome) & (described["arm"] == arm)
            r = described.loc[cell & (described["visit"] == "baseline")].iloc[0]
            assert row["summary"] == ("mean_sd" if normal else "median_iqr")
            if normal:
                assert row[["value", "spread_low"]].tolist() == pytest.approx(
                    [r["mean"], r["sd"]], rel=1e-9
                )
            else:
                assert row[["value", "spread_low", "spread_high"]].tolist() == pytest.approx(
                    [r["median"], r["q1"], r["q3"]], rel=1e-9
                )
    sex = table.query("variable == 'sex' and level == 'F'").set_index("arm")
    counts = participants.groupby("arm")["sex"].apply(lambda s: int((s == "F").sum()))
    assert sex.loc["control", "value"] == counts["control"]
    assert sex.loc["exercise", "value"] == counts["exercise"]
    assert sex.loc["all", "value"] == counts.sum()
    assert sex.loc["all", "text"] == f"{counts.sum()} ({100 * counts.sum() / 23:.1f}%)"
    age = participants.groupby("arm")["age"]
    expected_smd = (age.mean()["exercise"] - age.mean()["control"]) / np.sqrt(
        (age.var()["exercise"] + age.var()["control"]) / 2
    )
    assert table.query("variable == 'age'")["smd"].iloc[0] == pytest.approx(expected_smd)
    assert "p_value" not in table.columns  # CONSORT: no baseline significance tests
