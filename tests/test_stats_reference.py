"""trialflow.stats against R: every number of tests/reference/classic_tests_*_results.csv
(made by tests/reference/classic_tests.R) must be reproduced to 1e-6 relative, the rank tests'
(which follow R's algorithm step by step) to 1e-9."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers.reference import COMPARED, outcomes_of, read_long, reference, reference_file
from helpers.studies import TIES_STUDY, TIES_VISITS
from helpers.studies import make_study as _make_study

from trialflow.stats import analyse_study, descriptives, rm_anova, single_arm_analyses

KEYS = ["outcome", "visit", "analysis", "contrast", "group"]
RTOL = 1e-6
RANK_TESTS = ["wilcoxon_signed_rank", "mann_whitney", "posthoc_wilcoxon"]
RANK_RTOL = 1e-9
ACROSS = ["rm_anova", "friedman", "posthoc_paired_t", "posthoc_wilcoxon"]

pytestmark = pytest.mark.r_reference


def compare(ours: pd.DataFrame, theirs: pd.DataFrame) -> pd.DataFrame:
    """Every R row must exist in ours and agree wherever R has a number."""
    theirs = theirs.copy()
    theirs["group"] = theirs["group"].astype(str)
    merged = theirs.merge(ours, on=KEYS, how="left", suffixes=("_r", ""), indicator=True)
    missing = merged.loc[merged["_merge"] != "both", KEYS]
    assert missing.empty, f"rows R has and we lack:\n{missing}"
    rtol = np.where(merged["analysis"].isin(RANK_TESTS), RANK_RTOL, RTOL)
    for column in COMPARED:
        r_values = merged[f"{column}_r"].to_numpy(float)
        values = merged[column].to_numpy(float)
        has = ~np.isnan(r_values)
        bad = has & ~np.isclose(values, r_values, rtol=rtol, atol=1e-12)
        assert not bad.any(), (
            f"{column} differs from R:\n"
            f"{merged.loc[bad, [*KEYS, f'{column}_r', column]].to_string()}"
        )
    return merged


def make_study(study_id, arms, visits, design="parallel"):
    return _make_study(study_id, arms, visits, design=design)


@pytest.fixture(scope="module")
def ties_results() -> pd.DataFrame:
    analysis = read_long("ties_missing_long.csv")
    participants = pd.read_csv(
        reference_file("ties_missing_participants.csv"), dtype={"participant_id": str}
    )
    return analyse_study(analysis, outcomes_of(analysis), participants, TIES_STUDY)


def test_sleep_paired_matches_r():
    analysis = read_long("sleep_paired_long.csv")
    study = make_study(
        "sleep", ["sleep"], [("drug1", 0, "baseline"), ("drug2", 1, "end_of_treatment")],
        design="single_arm",
    )  # fmt: skip
    ours = analyse_study(
        analysis,
        outcomes_of(analysis),
        analysis[["participant_id", "arm"]].drop_duplicates(),
        study,
    )
    merged = compare(ours, reference("sleep_paired"))
    # t.test(extra ~ group, data = sleep, paired = TRUE) as printed in ?sleep: t = -4.0621
    paired = merged.loc[merged["analysis"] == "paired_t"].iloc[0]
    assert paired["statistic"] == pytest.approx(4.062127683382037, rel=1e-12)


def test_sleep_two_groups_matches_r():
    analysis = read_long("sleep_groups_long.csv")
    study = make_study("sleep", ["drug1", "drug2"], [("day1", 0, "baseline")])
    roster = analysis[["participant_id", "arm"]].drop_duplicates()
    ours = analyse_study(analysis, outcomes_of(analysis), roster, study)
    compare(ours, reference("sleep_groups"))


def test_ties_missing_matches_r(ties_results):
    theirs = reference("ties_missing")
    parallel = theirs.loc[~theirs["analysis"].isin(ACROSS)]
    merged = compare(ties_results, parallel)
    # the data exercise both branches of R's wilcox.test
    wilcoxon = merged.loc[merged["analysis"].isin(["wilcoxon_signed_rank", "mann_whitney"])]
    assert wilcoxon["note"].str.startswith("exact").any()
    assert wilcoxon["note"].str.startswith("normal").any()


def test_ties_missing_single_arm_analyses_match_r():
    analysis = read_long("ties_missing_long.csv")
    theirs = reference("ties_missing")
    across = theirs.loc[theirs["analysis"].isin(ACROSS)]
    for arm in ("control", "exercise"):
        study = make_study("ties", [arm], TIES_VISITS, design="single_arm")
        ours = single_arm_analyses(analysis.loc[analysis["arm"] == arm], study)
        compare(ours, across.loc[across["group"] == arm])


def test_greenhouse_geisser_epsilon_matches_car():
    analysis = read_long("ties_missing_long.csv")
    theirs = reference("ties_missing").query("analysis == 'rm_anova'")
    for row in theirs.itertuples():
        cells = analysis.loc[(analysis["outcome"] == row.outcome) & (analysis["arm"] == row.group)]
        wide = cells.pivot(index="participant_id", columns="visit", values="value")
        ours = rm_anova(wide[["baseline", "week8", "week24"]]).iloc[0]
        assert ours["eps_gg"] == pytest.approx(row.epsilon, rel=RTOL)
        assert ours["p_gg"] == pytest.approx(row.p_value, rel=RTOL)


def test_wilcoxon_estimates_match_r():
    """``estimate`` is what R prints (the uniroot root in the normal case, reproduced by the
    port of zeroin); ``hodges_lehmann`` is the median of the Walsh averages / differences."""
    from trialflow.stats import rank_sum_test, signed_rank_test

    analysis = read_long("ties_missing_long.csv")
    theirs = reference("ties_missing").query(
        "analysis in ['wilcoxon_signed_rank', 'mann_whitney']"
    )
    wide = {
        outcome: data.pivot(index="participant_id", columns="visit", values="value").join(
            data.groupby("participant_id")["arm"].first()
        )
        for outcome, data in analysis.groupby("outcome")
    }
    checked = 0
    for row in theirs.itertuples():
        w = wide[row.outcome]
        if row.analysis == "wilcoxon_signed_rank":
            later, earlier = row.contrast.split(" - ")
            cell = w.loc[w["arm"] == row.group]
            result = signed_rank_test((cell[later] - cell[earlier]).to_numpy())
        else:
            if "(" in row.contrast:
                continue
            result = rank_sum_test(
                w.loc[w["arm"] == "exercise", row.visit].to_numpy(),
                w.loc[w["arm"] == "control", row.visit].to_numpy(),
            )
        assert result.estimate == pytest.approx(row.estimate, rel=RANK_RTOL)
        assert result.hodges_lehmann == pytest.approx(row.hodges_lehmann, rel=RANK_RTOL)
        checked += 1
    assert checked > 20


def test_descriptives_match_r():
    analysis = read_long("ties_missing_long.csv")
    ours = descriptives(analysis, study=TIES_STUDY)
    theirs = pd.read_csv(reference_file("classic_tests_ties_missing_descriptives.csv"))
    merged = theirs.merge(ours, on=["outcome", "arm", "visit"], suffixes=("_r", ""))
    assert len(merged) == len(theirs) == len(ours)
    for column in ["n", "n_missing", "mean", "sd", "median", "q1", "q3", "min", "max"]:
        np.testing.assert_allclose(merged[column], merged[f"{column}_r"], rtol=RTOL)


@pytest.mark.parametrize("study_id", ["spine_rct", "knee_sarcopenia"])
def test_default_cohort_matches_r(study_id, cohort):
    """The committed default cohorts (tests/reference/export_cohort.py) against R."""
    data = cohort(study_id)
    study = data["study"]
    ours = analyse_study(data["analysis"], data["outcomes"], data["participants"], study)
    theirs = reference(study_id)
    theirs["visit"] = theirs["visit"].astype(str)
    if study.design != "single_arm":  # R computes the across-visit tests for every arm
        theirs = theirs.loc[~theirs["analysis"].isin(ACROSS)]
    merged = compare(ours, theirs)
    _odd_wilcoxon_rows_have_notes_and_flags(merged)
    described = pd.read_csv(reference_file(f"classic_tests_{study_id}_descriptives.csv"))
    summary = descriptives(data["analysis"], study=study)
    merged = described.merge(summary, on=["outcome", "arm", "visit"], suffixes=("_r", ""))
    assert len(merged) == len(described) == len(summary)
    for column in ["n", "n_missing", "mean", "sd", "median", "q1", "q3", "min", "max"]:
        np.testing.assert_allclose(merged[column], merged[f"{column}_r"], rtol=RTOL)


def _odd_wilcoxon_rows_have_notes_and_flags(merged: pd.DataFrame) -> None:
    """Where R's own interval is inverted, (near) zero-width or misses R's estimate, the row
    says so (note) and flags it (flags); no other row does."""
    rows = merged.loc[
        merged["analysis"].isin(["wilcoxon_signed_rank", "mann_whitney", "posthoc_wilcoxon"])
    ]
    low, high, estimate = rows["ci_low_r"], rows["ci_high_r"], rows["estimate_r"]
    odd = (low > high) | (high - low < 1e-3) | (estimate < low) | (estimate > high)
    flagged = rows["note"].str.contains(
        "interval degenerate with heavily tied|estimate outside the normal|achieved 0;"
    )
    assert not (odd & ~flagged).any(), rows.loc[odd & ~flagged, [*KEYS, "note"]].to_string()
    assert not (flagged & ~odd).any(), rows.loc[flagged & ~odd, [*KEYS, "note"]].to_string()
    # flags: a collapsed (or reversed) interval is degenerate, else an estimate outside it
    collapsed = rows["ci_high_r"] - rows["ci_low_r"] < 1e-3
    outside = (estimate < low) | (estimate > high)
    assert rows["flags"].isin(["", "degenerate_interval", "estimate_outside_interval"]).all()
    degenerate = rows["flags"] == "degenerate_interval"
    assert (degenerate == (rows["note"].str.contains("interval degenerate") & collapsed)).all()
    assert not (outside & ~collapsed & (rows["flags"] != "estimate_outside_interval")).any()


def test_hodges_lehmann_helpers_match_r():
    from trialflow.stats import hodges_lehmann_paired, hodges_lehmann_shift

    paired = read_long("sleep_paired_long.csv").pivot(
        index="participant_id", columns="visit", values="value"
    )
    r = reference("sleep_paired").query("analysis == 'wilcoxon_signed_rank'").iloc[0]
    assert hodges_lehmann_paired(paired["drug2"] - paired["drug1"]) == pytest.approx(
        r["hodges_lehmann"], rel=RANK_RTOL
    )
    groups = read_long("sleep_groups_long.csv")
    r = reference("sleep_groups").query("analysis == 'mann_whitney'").iloc[0]
    shift = hodges_lehmann_shift(
        groups.loc[groups["arm"] == "drug2", "value"],
        groups.loc[groups["arm"] == "drug1", "value"],
    )
    assert shift == pytest.approx(r["hodges_lehmann"], rel=RANK_RTOL)
    assert np.isnan(hodges_lehmann_shift([], [1.0]))
