"""Single functions of trialflow.stats against R (tests/reference/classic_tests_misc.csv,
made by tests/reference/classic_tests.R): p.adjust, chisq.test, fisher.test, prop.test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialflow.stats import (
    categorical_association,
    fisher_exact_p,
    newcombe_interval,
    p_adjust,
    wilson_interval,
)

REFERENCE = Path(__file__).parent / "reference"
RTOL = 1e-6
P_VALUES = [0.01, 0.04, np.nan, 0.03, 0.005, 0.04, 0.5, 0.2]

pytestmark = pytest.mark.r_reference


@pytest.fixture(scope="module")
def r_values() -> dict[str, float]:
    misc = pd.read_csv(REFERENCE / "classic_tests_misc.csv")
    return dict(zip(misc["name"], misc["value"], strict=True))


@pytest.mark.parametrize(("method", "prefix"), [("holm", "holm"), ("fdr_bh", "bh")])
def test_p_adjust_matches_r(r_values, method, prefix):
    expected = [r_values[f"{prefix}_{i + 1}"] for i in range(len(P_VALUES))]
    np.testing.assert_allclose(p_adjust(P_VALUES, method), expected, rtol=RTOL)


def test_p_adjust_none_and_unknown():
    np.testing.assert_array_equal(p_adjust(P_VALUES, "none"), P_VALUES)
    with pytest.raises(ValueError, match="unknown multiplicity method"):
        p_adjust(P_VALUES, "bonferroni-ish")


def _long_table(table: list[list[int]]) -> tuple[pd.Series, pd.Series]:
    groups, values = [], []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            groups += [f"g{i}"] * count
            values += [f"v{j}"] * count
    return pd.Series(groups), pd.Series(values)


# R's matrix(c(...), 2) fills by column; these are the same tables by row
TABLES = {
    "yates_2x2": [[12, 7], [5, 14]],
    "pearson_2x3": [[20, 12, 9], [15, 18, 11]],
    "fisher_2x2": [[3, 1], [1, 3]],
    "fisher_2x4": [[3, 1, 2, 0], [0, 4, 5, 2]],
}


@pytest.mark.parametrize("name", ["yates_2x2", "pearson_2x3"])
def test_chi_square_matches_r(r_values, name):
    row = categorical_association(*_long_table(TABLES[name])).iloc[0]
    assert row["analysis"] == "chi_square"
    assert row["statistic"] == pytest.approx(r_values[f"{name}_statistic"], rel=RTOL)
    assert row["df"] == r_values[f"{name}_df"]
    assert row["p_value"] == pytest.approx(r_values[f"{name}_p"], rel=RTOL)


@pytest.mark.parametrize("name", ["fisher_2x2", "fisher_2x4"])
def test_fisher_matches_r(r_values, name):
    assert fisher_exact_p(np.array(TABLES[name])) == pytest.approx(r_values[f"{name}_p"], rel=RTOL)
    row = categorical_association(*_long_table(TABLES[name])).iloc[0]
    assert row["analysis"] == "fisher_exact"
    assert row["p_value"] == pytest.approx(r_values[f"{name}_p"], rel=RTOL)


@pytest.mark.parametrize(("k", "n"), [(0, 12), (12, 12), (5, 17), (1, 3)])
def test_wilson_matches_prop_test(r_values, k, n):
    low, high = wilson_interval(k, n)
    assert low == pytest.approx(r_values[f"wilson_{k}_{n}_low"], rel=RTOL, abs=1e-15)
    assert high == pytest.approx(r_values[f"wilson_{k}_{n}_high"], rel=RTOL)


def test_newcombe_is_built_from_wilson(r_values):
    # method 10 combines the two Wilson intervals (R's prop.test(correct = FALSE))
    low, high = newcombe_interval(5, 17, 0, 12)
    p1 = 5 / 17
    expected_low = p1 - np.hypot(p1 - r_values["wilson_5_17_low"], r_values["wilson_0_12_high"])
    expected_high = p1 + np.hypot(r_values["wilson_5_17_high"] - p1, 0.0)
    assert low == pytest.approx(expected_low, rel=RTOL)
    assert high == pytest.approx(expected_high, rel=RTOL)


@pytest.mark.parametrize(
    ("counts", "published"),
    [
        ((56, 70, 48, 80), (0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.1705, 0.8090)),
        ((5, 56, 0, 29), (-0.0381, 0.1926)),
        ((0, 10, 0, 20), (-0.1611, 0.2775)),
        ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ],
)
def test_newcombe_matches_published_examples(counts, published):
    # Newcombe (1998), Statistics in Medicine 17:873-890, table II, method 10 (4 decimals)
    assert tuple(round(v, 4) for v in newcombe_interval(*counts)) == published
