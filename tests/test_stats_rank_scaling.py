"""Rank tests at scale: the O(n log n) Hodges-Lehmann selection and the merged-rank statistic
against brute force (every Walsh average / pairwise difference written out, ``scipy`` ranks),
R's ``wilcox.test`` at n >= 50 (tests/reference/large_wilcoxon.R), and O(n) memory at 100,000.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trialflow.stats import hodges_lehmann_paired, hodges_lehmann_shift
from trialflow.stats.hodges_lehmann import (
    kth_pair_sum,
    nearest_pairwise_difference,
    nearest_walsh_average,
)
from trialflow.stats.wilcoxon import _rank_sum_and_ties, rank_sum_test, signed_rank_test

REFERENCE = Path(__file__).parent / "reference"
RANK_RTOL = 1e-9
NUMBERS = ["statistic", "p_value", "estimate", "ci_low", "ci_high", "conf_level", "hodges_lehmann"]


def _sample(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "continuous":
        return rng.normal(0.3, 1.0, n)
    if kind == "rounded":  # ties
        return rng.normal(0.3, 1.0, n).round(1)
    if kind == "lattice":  # heavy ties and zeros, steps of 5
        return rng.integers(-2, 5, n) * 5.0
    if kind == "skewed_zeros":
        values = rng.exponential(2.0, n).round(2) - 0.5
        values[rng.random(n) < 0.2] = 0.0
        return values
    return np.full(n, 1.5)  # constant


KINDS = ["continuous", "rounded", "lattice", "skewed_zeros", "constant"]


def _walsh_sums(x: np.ndarray) -> np.ndarray:
    i, j = np.triu_indices(len(x))
    return np.sort(x[i] + x[j])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [2_000, 4_001])
def test_hodges_lehmann_paired_equals_median_of_all_walsh_averages(kind, n):
    d = _sample(kind, n, np.random.default_rng(n))
    brute = np.median(_walsh_sums(d) / 2)
    assert hodges_lehmann_paired(d) == brute  # bit for bit


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("nx", "ny"), [(3_000, 2_000), (2_501, 3), (1, 4_000)])
def test_hodges_lehmann_shift_equals_median_of_all_differences(kind, nx, ny):
    rng = np.random.default_rng(nx + ny)
    x, y = _sample(kind, nx, rng), _sample(kind, ny, rng) - 0.5
    assert hodges_lehmann_shift(x, y) == np.median(np.subtract.outer(x, y))


def test_hodges_lehmann_drops_nan_and_handles_empty():
    d = np.array([np.nan, 1.0, 3.0, np.nan, 8.0])
    # Walsh averages of 1, 3, 8: 1, 2, 3, 4.5, 5.5, 8 -> median 3.75
    assert hodges_lehmann_paired(d) == 3.75
    assert np.isnan(hodges_lehmann_paired([np.nan]))
    # differences of (1, 5) and (2): -1, 3 -> 1
    assert hodges_lehmann_shift([1.0, np.nan, 5.0], [2.0]) == 1.0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_hodges_lehmann_with_infinities_as_numpy_median():
    inf = np.inf
    for d in ([1.0, 2.0, inf], [-inf, 1.0, inf], [-inf, -inf, 0.0]):
        i, j = np.triu_indices(len(d))
        expected = np.median((np.array(d)[i] + np.array(d)[j]) / 2)
        assert hodges_lehmann_paired(d) == expected or np.isnan(expected)
        assert np.isnan(hodges_lehmann_paired(d)) == np.isnan(expected)
    for x, y in (([1.0, inf], [2.0, 3.0]), ([-inf, 1.0], [-inf]), ([inf], [-inf, 2.0])):
        expected = np.median(np.subtract.outer(x, y))
        assert np.isnan(hodges_lehmann_shift(x, y)) == np.isnan(expected)
        assert hodges_lehmann_shift(x, y) == expected or np.isnan(expected)


@pytest.mark.parametrize("kind", ["continuous", "rounded", "lattice"])
def test_kth_pair_sum_equals_sorted_sums_at_every_rank_tried(kind):
    rng = np.random.default_rng(11)
    x = np.sort(_sample(kind, 3_000, rng))
    walsh = _walsh_sums(x)
    first = np.arange(len(x))
    last = len(walsh) - 1
    for k in [0, 1, last // 3, last - 1, last, *rng.integers(0, last, 5)]:
        assert kth_pair_sum(x, x, first, int(k)) == walsh[k]
    y = np.sort(-_sample(kind, 1_500, rng))
    sums = np.sort(np.add.outer(x, y).ravel())
    for k in [0, len(sums) // 2, len(sums) - 1, *rng.integers(0, len(sums), 5)]:
        assert kth_pair_sum(x, y, np.zeros(len(x), dtype=np.int64), int(k)) == sums[k]


@pytest.mark.parametrize("kind", ["continuous", "rounded", "lattice"])
def test_nearest_jump_equals_brute_force(kind):
    rng = np.random.default_rng(5)
    x, y = _sample(kind, 2_000, rng), _sample(kind, 1_200, rng)
    walsh = _walsh_sums(x) / 2
    differences = np.sort(np.subtract.outer(x, y).ravel())
    for value in [*rng.normal(0, 8, 10), walsh[0] - 100, walsh[-1] + 100, 2.5, 5.0]:
        assert nearest_walsh_average(x, value) == walsh[np.argmin(np.abs(walsh - value))]
        expected = differences[np.argmin(np.abs(differences - value))]
        assert nearest_pairwise_difference(x, y, value) == expected


@pytest.mark.parametrize("kind", ["continuous", "rounded", "lattice", "skewed_zeros"])
def test_merged_ranks_equal_scipy_ranks(kind):
    """The statistic at each shift: mid-rank sum of the first sample and the tie term, from a
    linear merge, equal to ranking the pooled sample outright as R's rank() does."""
    rng = np.random.default_rng(3)
    for nx, ny in [(20_000, 15_000), (5_000, 1), (0, 10), (0, 0)]:
        first = np.sort(np.abs(_sample(kind, nx, rng)))
        second = np.sort(np.abs(_sample(kind, ny, rng)) + 0.5)
        ranks = stats.rankdata(np.concatenate([first, second]))
        _, counts = np.unique(ranks, return_counts=True)
        expected = (float(ranks[:nx].sum()), float(np.sum(counts.astype(float) ** 3 - counts)))
        assert _rank_sum_and_ties(first, second) == expected


def _large_cases() -> list[tuple[str, dict]]:
    data = pd.read_csv(REFERENCE / "large_wilcoxon_data.csv")
    results = pd.read_csv(REFERENCE / "large_wilcoxon_results.csv").set_index("case")
    return [
        (case, {"x": rows["x"].dropna().to_numpy(), "y": rows["y"].dropna().to_numpy(),
                "r": results.loc[case]})
        for case, rows in data.groupby("case", sort=False)
    ]  # fmt: skip


LARGE = _large_cases()


@pytest.mark.r_reference
@pytest.mark.parametrize(("name", "case"), LARGE, ids=[name for name, _ in LARGE])
def test_large_samples_match_r(name, case):
    r = case["r"]
    if r["test"] == "signed_rank":
        result = signed_rank_test(case["x"] - case["y"], r["requested_level"])
    else:
        result = rank_sum_test(case["x"], case["y"], r["requested_level"])
    assert not result.exact and result.n == r["n"]
    for column in NUMBERS:
        assert getattr(result, column) == pytest.approx(r[column], rel=RANK_RTOL), column
    # R's own numbers on these lattices are no proper interval; the result says so
    if name == "paired_lattice_3000":
        assert not r["ci_low"] <= r["estimate"] <= r["ci_high"]
        assert result.interval_issue.startswith("estimate outside the normal-approximation")
    elif name == "two_sample_integer_800_600":
        assert result.interval_issue.startswith("normal-approximation interval degenerate")
    else:
        assert result.interval_issue == ""


def _peak_mib(function, *args) -> float:
    tracemalloc.start()
    try:
        function(*args)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("kind", ["continuous", "rounded"])
def test_100k_participants_in_linear_memory(kind):
    """At 100,000 the Walsh averages alone would take 40 GB; the tests take some MiB
    (100,000 doubles are 0.76 MiB)."""
    rng = np.random.default_rng(100)
    d = _sample(kind, 100_000, rng)
    x, y = _sample(kind, 50_000, rng), _sample(kind, 50_000, rng) - 0.2
    assert _peak_mib(signed_rank_test, d) < 40
    assert _peak_mib(rank_sum_test, x, y) < 40
    result = signed_rank_test(d)
    assert result.ci_low < result.estimate < result.ci_high
    assert result.hodges_lehmann == pytest.approx(result.estimate, abs=2e-3)
