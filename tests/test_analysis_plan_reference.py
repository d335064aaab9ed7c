"""The analysis-plan kernel against R (tests/reference/analysis_plan_*.csv, made by
tests/reference/analysis_plan.R): effect sizes with their intervals (effectsize 0.8.3),
Student's t (t.test(var.equal = TRUE)), the baseline-adjusted logistic odds ratio
(glm + confint.default) and the fixed-sequence and Holm decisions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialflow.stats.effect_sizes import (
    cohens_dz_numbers,
    hedges_g_numbers,
    noncentral_t_limits,
    rank_biserial_numbers,
)
from trialflow.stats.logistic import adjusted_odds_ratio
from trialflow.stats.student_t import student_t_numbers
from trialflow.stats.testing import fixed_sequence, holm

REFERENCE = Path(__file__).parent / "reference"
# effectsize stops its Nelder-Mead search ~1e-7 short of the noncentral-t root
EFFECTSIZE_ATOL = 1e-6
# the same limits inverted in R with uniroot(tol = 1e-13)
EXACT_RTOL = 1e-9
RTOL = 1e-6

pytestmark = pytest.mark.r_reference


@pytest.fixture(scope="module")
def samples() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    data = pd.read_csv(REFERENCE / "analysis_plan_samples.csv")
    return {
        case: (
            rows.loc[rows["sample"] == "x", "value"].to_numpy(float),
            rows.loc[rows["sample"] == "y", "value"].to_numpy(float),
        )
        for case, rows in data.groupby("case", sort=False)
    }


@pytest.fixture(scope="module")
def effect_sizes() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "analysis_plan_effect_sizes.csv")


def ours(measure: str, x: np.ndarray, y: np.ndarray) -> dict:
    if measure == "hedges_g":
        return hedges_g_numbers(x, y)
    if measure in ("cohens_dz", "cohens_dz_one_sample"):
        return cohens_dz_numbers(x, y)
    if measure == "rank_biserial":
        return rank_biserial_numbers(x, y)
    return rank_biserial_numbers(x, y, paired=True)


def reference_rows(effect_sizes, measures):
    rows = effect_sizes.loc[effect_sizes["measure"].isin(measures)]
    return [pytest.param(r, id=f"{r.case}-{r.measure}") for r in rows.itertuples()]


EFFECT_CASES = reference_rows(
    pd.read_csv(REFERENCE / "analysis_plan_effect_sizes.csv"),
    ["hedges_g", "cohens_dz", "cohens_dz_one_sample", "rank_biserial", "rank_biserial_paired"],
)


@pytest.mark.parametrize("row", EFFECT_CASES)
def test_effect_size_matches_effectsize(samples, row):
    x, y = samples[row.case]
    numbers = ours(row.measure, x, y)
    assert numbers["effect_size"] == pytest.approx(row.estimate, rel=1e-12, abs=1e-14)
    if abs(row.estimate) == 1:
        # effectsize prints (r, r) at r = +/-1, where atanh is infinite; we give no interval
        assert row.ci_low == row.ci_high == row.estimate
        assert np.isnan(numbers["effect_size_ci_low"]) and "r = +/-1" in numbers["note"]
        return
    limits = [numbers["effect_size_ci_low"], numbers["effect_size_ci_high"]]
    assert limits == pytest.approx([row.ci_low, row.ci_high], rel=0, abs=EFFECTSIZE_ATOL)
    if not np.isnan(row.exact_ci_low):
        assert limits == pytest.approx([row.exact_ci_low, row.exact_ci_high], rel=EXACT_RTOL)


def test_paired_rank_biserial_follows_the_differences(samples, effect_sizes):
    # effectsize 0.8.3's rank_biserial(x, y, paired = TRUE) takes the number of non-zero
    # differences from x; with zero differences its interval differs from
    # rank_biserial(x - y), which we match (test above)
    x, y = samples["paired_zero_changes"]
    rows = effect_sizes.loc[effect_sizes["case"] == "paired_zero_changes"].set_index("measure")
    numbers = rank_biserial_numbers(x, y, paired=True)
    assert numbers["effect_size_ci_low"] == pytest.approx(
        rows.loc["rank_biserial_paired", "ci_low"], rel=1e-12
    )
    assert abs(numbers["effect_size_ci_low"] - rows.loc["rank_biserial_paired_xy", "ci_low"]) > 0.1


def test_noncentral_limits_solve_the_cdf():
    from scipy import stats

    low, high = noncentral_t_limits(2.0, 10)
    assert stats.nct.cdf(2.0, 10, low) == pytest.approx(0.975, abs=1e-12)
    assert stats.nct.cdf(2.0, 10, high) == pytest.approx(0.025, abs=1e-12)


def test_noncentral_limits_of_a_large_paired_study():
    # Cohen's dz of 10,000 simulated pairs: scipy's cdf is NaN at ncp = 49.6 (far in the
    # tail, where it is 1), a point Brent's method visited; the limits still solve the cdf
    from scipy import stats

    t, df = 95.22903075796906, 4749
    low, high = noncentral_t_limits(t, df)
    assert stats.nct.cdf(t, df, low) == pytest.approx(0.975, abs=1e-12)
    assert stats.nct.cdf(t, df, high) == pytest.approx(0.025, abs=1e-12)
    assert 90 < low < t < high < 100


@pytest.mark.parametrize(
    "case",
    [
        "two_normal",
        "two_large_effect",
        "two_negative_unequal",
        "two_tied_scores",
        "two_sleep",
    ],
)
def test_student_t_matches_r(samples, case):
    expected = pd.read_csv(REFERENCE / "analysis_plan_student_t.csv").set_index("case").loc[case]
    numbers = student_t_numbers(*samples[case])
    for column in ["n", "estimate", "se", "df", "ci_low", "ci_high", "statistic", "p_value"]:
        assert numbers[column] == pytest.approx(expected[column], rel=1e-10), column
    assert numbers["effect_size_name"] == "hedges_g"
    assert numbers["effect_size"] == pytest.approx(expected["effect_size"], rel=1e-12)
    for column in ["effect_size_ci_low", "effect_size_ci_high"]:
        assert numbers[column] == pytest.approx(expected[column], abs=EFFECTSIZE_ATOL)


def test_student_t_too_small_follows_the_welch_rule(samples):
    # R gives numbers for 2 + 2 observations; trialflow needs 3 per arm, as for Welch rows
    numbers = student_t_numbers(*samples["two_two_each"])
    assert (
        np.isnan(numbers["p_value"]) and numbers["note"] == "fewer than 3 observations in an arm"
    )
    assert numbers["n"] == 4


def test_logistic_odds_ratio_matches_glm():
    data = pd.read_csv(REFERENCE / "analysis_plan_logistic_data.csv")
    expected = pd.read_csv(REFERENCE / "analysis_plan_logistic.csv")
    for case, rows in data.groupby("case", sort=False):
        arms = list(dict.fromkeys(rows["arm"]))
        result = adjusted_odds_ratio(rows, arms).set_index("arm")
        for r in expected.loc[expected["case"] == case].itertuples():
            row = result.loc[r.arm]
            assert row["n"] == r.n
            assert row["estimate"] == pytest.approx(r.odds_ratio, rel=RTOL)
            assert row["effect_size"] == pytest.approx(r.log_odds_ratio, rel=RTOL)
            assert row["se"] == pytest.approx(r.se, rel=RTOL)
            assert row["statistic"] == pytest.approx(r.z, rel=RTOL)
            assert row["p_value"] == pytest.approx(r.p_value, rel=RTOL)
            assert row["ci_low"] == pytest.approx(r.ci_low, rel=RTOL)
            assert row["ci_high"] == pytest.approx(r.ci_high, rel=RTOL)


@pytest.mark.parametrize("case", ["stops_at_fourth", "first_fails", "all_pass", "boundary"])
def test_testing_strategies_match_r(case):
    expected = pd.read_csv(REFERENCE / "analysis_plan_testing.csv")
    expected = expected.loc[expected["case"] == case]
    p = expected["p_value"].to_numpy(float)
    fixed = fixed_sequence(p, 0.05)
    np.testing.assert_allclose(fixed["p_adjusted"], expected["fixed_p_adjusted"], rtol=1e-15)
    assert fixed["rejected"].tolist() == expected["fixed_rejected"].tolist()
    assert fixed["tested"].tolist() == expected["fixed_tested"].tolist()
    assert (fixed["note"] == "not formally tested").tolist() == (
        ~expected["fixed_tested"]
    ).tolist()
    holm_table = holm(p, 0.05)
    np.testing.assert_allclose(holm_table["p_adjusted"], expected["holm_p_adjusted"], rtol=1e-12)
    assert holm_table["rejected"].tolist() == expected["holm_rejected"].tolist()


def test_reference_records_package_versions():
    versions = pd.read_csv(REFERENCE / "analysis_plan_versions.csv").set_index("package")
    assert versions.loc["effectsize", "version"] == "0.8.3"


@pytest.mark.parametrize(
    "case",
    ["paired_normal", "paired_zero_changes", "paired_large_n", "two_normal", "two_tied_scores"],
)
def test_rank_biserial_equals_the_wilcoxon_rows(samples, case):
    # the effect size the existing Wilcoxon / Mann-Whitney rows carry is the same r
    from trialflow.stats.wilcoxon import rank_sum_test, signed_rank_test

    x, y = samples[case]
    if case.startswith("paired"):
        expected = signed_rank_test(x - y).rank_biserial
        assert rank_biserial_numbers(x, y, paired=True)["effect_size"] == pytest.approx(expected)
    else:
        expected = rank_sum_test(x, y).rank_biserial
        assert rank_biserial_numbers(x, y)["effect_size"] == pytest.approx(expected)
