"""Statistics the figures draw: the t interval of a mean, the pooled SD and the standardised
difference of the forest plot (against R: tests/reference/figure_statistics.R), and normal
Q-Q points (worked by hand)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers.reference import reference_file
from scipy import stats

from trialflow.stats.descriptives import mean_ci
from trialflow.stats.effect_sizes import pooled_sd, standardised_difference
from trialflow.stats.normality import qq_points

R_RTOL = 1e-12  # R writes 15 significant digits


@pytest.fixture(scope="module")
def r() -> pd.DataFrame:
    frame = pd.read_csv(reference_file("figure_statistics.csv"))
    frame["level"] = frame["level"].fillna(0.0)
    return frame.set_index(["case", "quantity", "level"])["value"]


def sleep(group: int) -> np.ndarray:
    # R's datasets::sleep, extra hours of sleep by drug
    extra = {
        1: [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0],
        2: [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4],
    }
    return np.array(extra[group])


CASES = {
    "sleep_group1": lambda: sleep(1),
    "sleep_group2": lambda: sleep(2),
    "with_na": lambda: np.array([3.1, np.nan, 4.7, 2.2, 5.9, np.nan, 3.3]),
}


@pytest.mark.r_reference
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("level", [0.95, 0.9])
def test_mean_ci_is_r_t_test_interval(r, case, level):
    mean, low, high, n = mean_ci(CASES[case](), level)
    assert n == r[(case, "n", level)]
    assert mean == pytest.approx(r[(case, "mean", level)], rel=R_RTOL)
    assert low == pytest.approx(r[(case, "ci_low", level)], rel=R_RTOL)
    assert high == pytest.approx(r[(case, "ci_high", level)], rel=R_RTOL)


def test_mean_ci_of_too_few_values():
    assert mean_ci([np.nan])[3] == 0 and np.isnan(mean_ci([np.nan])[0])
    mean, low, high, n = mean_ci([5.0])
    assert (mean, n) == (5.0, 1) and np.isnan(low) and np.isnan(high)


def groups(*samples) -> tuple[np.ndarray, np.ndarray]:
    values = np.concatenate([np.asarray(x, dtype=float) for x in samples])
    labels = np.concatenate([[i] * len(x) for i, x in enumerate(samples)])
    return values, labels


@pytest.mark.r_reference
def test_pooled_sd_is_effectsize_sd_pooled(r):
    assert pooled_sd(*groups(sleep(2), sleep(1)))[0] == pytest.approx(
        r[("sleep_groups", "sd_pooled", 0.0)], rel=R_RTOL
    )
    assert pooled_sd(*groups([1.0, 2.0, 3.0], [2.0, 4.0, 6.0, 8.0]))[0] == pytest.approx(
        r[("unequal_groups", "sd_pooled", 0.0)], rel=R_RTOL
    )
    # one group: its own SD; groups of one value add nothing; none left: NaN
    assert pooled_sd(*groups([1.0, 2.0, 3.0], [7.0])) == (pytest.approx(1.0), 2)
    assert np.isnan(pooled_sd(*groups([1.0], [np.nan, 2.0]))[0])


@pytest.mark.r_reference
def test_standardised_difference_is_cohens_d_with_the_interval_scaled(r):
    """The forest plot's effect: a difference and its limits over the pooled SD (with the
    two groups as the 'baseline' values it is R's pooled-SD Cohen's d)."""
    values, labels = groups(sleep(2), sleep(1))
    effect = standardised_difference(
        r[("sleep_groups", "difference", 0.0)],
        r[("sleep_groups", "welch_ci_low", 0.95)],
        r[("sleep_groups", "welch_ci_high", 0.95)],
        values,
        labels,
    )
    sd = r[("sleep_groups", "sd_pooled", 0.0)]
    assert effect["effect_size"] == pytest.approx(r[("sleep_groups", "cohens_d", 0.0)], rel=R_RTOL)
    assert effect["effect_size_ci_low"] == pytest.approx(
        r[("sleep_groups", "welch_ci_low", 0.95)] / sd, rel=R_RTOL
    )
    assert effect["effect_size_name"] == "standardised_difference"


def test_qq_points_use_filliben_positions_and_a_least_squares_line():
    values = np.array([3.0, 1.0, 4.0, 1.5, 9.0])
    theory, ordered, slope, intercept = qq_points(values)
    n = len(values)
    # Filliben's medians of uniform order statistics, by hand
    m = (np.arange(1, n + 1) - 0.3175) / (n + 0.365)
    m[-1] = 0.5 ** (1 / n)
    m[0] = 1 - m[-1]
    np.testing.assert_allclose(theory, stats.norm.ppf(m), rtol=1e-12)
    np.testing.assert_array_equal(ordered, np.sort(values))
    fit = np.polyfit(theory, ordered, 1)
    assert (slope, intercept) == pytest.approx((fit[0], fit[1]), rel=1e-10)
    # two values: plotting positions (i - 0.5) / n and no line
    theory, ordered, slope, intercept = qq_points([2.0, 1.0])
    np.testing.assert_allclose(theory, stats.norm.ppf([0.25, 0.75]))
    assert ordered.tolist() == [1.0, 2.0] and np.isnan(slope) and np.isnan(intercept)
