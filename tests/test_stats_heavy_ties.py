"""Wilcoxon on heavily tied discrete data (scores in steps of 5), against R.

tests/reference/heavy_ties.R writes the data and what ``wilcox.test(conf.int = TRUE)`` returns:
normal-approximation intervals of (near) zero width, with lower > upper, or missing their own
estimate by ``tol.root``. trialflow reproduces R's numbers and says so in the note.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trialflow.stats.between import mann_whitney_numbers
from trialflow.stats.paired import signed_rank_numbers
from trialflow.stats.wilcoxon import rank_sum_test, signed_rank_test

REFERENCE = Path(__file__).parent / "reference"
RTOL = 1e-9
COLUMNS = ["statistic", "p_value", "estimate", "ci_low", "ci_high", "conf_level", "hodges_lehmann"]

pytestmark = pytest.mark.r_reference


def _cases() -> list[tuple[str, dict]]:
    data = pd.read_csv(REFERENCE / "heavy_ties_data.csv")
    results = pd.read_csv(REFERENCE / "heavy_ties_results.csv").set_index("case")
    cases = []
    for case, rows in data.groupby("case", sort=False):
        x, y = rows["x"].dropna().to_numpy(), rows["y"].dropna().to_numpy()
        cases.append((case, {"x": x, "y": y, "r": results.loc[case]}))
    return cases


CASES = _cases()


def _test(case: dict):
    if case["r"]["test"] == "signed_rank":
        return signed_rank_test(case["x"] - case["y"])
    return rank_sum_test(case["x"], case["y"])


def _numbers(case: dict) -> dict:
    if case["r"]["test"] == "signed_rank":
        return signed_rank_numbers(case["x"], case["y"])
    return mann_whitney_numbers(case["x"], case["y"])


@pytest.mark.parametrize(("name", "case"), CASES, ids=[name for name, _ in CASES])
def test_heavy_ties_reproduce_r(name, case):
    result = _test(case)
    r = case["r"]
    assert not result.exact
    for column in COLUMNS:
        assert getattr(result, column) == pytest.approx(r[column], rel=RTOL, abs=1e-12), column
    # the contract row carries R's numbers too, estimate included
    numbers = _numbers(case)
    for column in ["statistic", "p_value", "estimate", "ci_low", "ci_high"]:
        assert numbers[column] == pytest.approx(r[column], rel=RTOL, abs=1e-12), column


@pytest.mark.parametrize(("name", "case"), CASES, ids=[name for name, _ in CASES])
def test_heavy_ties_rows_say_what_is_wrong(name, case):
    r = case["r"]
    result = _test(case)
    note = _numbers(case)["note"]
    jump = f"at {r['jump']:g}"
    alternative = "paired t" if r["test"] == "signed_rank" else "Welch t"
    assert note.startswith("normal approximation with continuity correction; ")
    assert jump in result.interval_issue and result.interval_issue in note
    assert f"interpret with the {alternative} interval" in note
    if name.endswith("outside"):
        assert not r["ci_low"] <= r["estimate"] <= r["ci_high"]  # so in R, too
        assert "estimate outside the normal-approximation interval" in note
    else:
        assert "normal-approximation interval degenerate with heavily tied data" in note
        assert abs(r["ci_high"] - r["ci_low"]) < 2e-4
        # R's own W leaps over both critical values at the jump: no d is accepted except
        # perhaps the jump itself, so R's interval can only be that point
        z = stats.norm.isf(0.025)
        assert r["w_below"] > z and r["w_above"] < -z
        assert r["ci_low"] == pytest.approx(r["jump"], abs=2e-4)
        assert r["ci_high"] == pytest.approx(r["jump"], abs=2e-4)
    if name == "paired_inverted":
        assert r["ci_low"] > r["ci_high"] and result.ci_low > result.ci_high
        assert "lower limit above upper limit" in note
        assert r["w_at"] > z  # nothing is accepted: the inverted test gives an empty set
    if abs(r["hodges_lehmann"] - r["estimate"]) > 1e-3:
        assert f"Hodges-Lehmann estimate {r['hodges_lehmann']:g}" in note
    else:
        assert "Hodges-Lehmann" not in note


def test_knee_hss_pain_situation():
    """Zero changes pull the Hodges-Lehmann estimate (2.5) away from R's estimate and interval
    (5, zero changes dropped): the row reports R's 5 and names 2.5 in the note."""
    case = dict(CASES)["paired_zeros"]
    numbers = _numbers(case)
    assert numbers["estimate"] == pytest.approx(5, abs=1e-4)
    note = numbers["note"]
    assert "Hodges-Lehmann estimate 2.5 (median of all Walsh averages, zero changes" in note


def test_proper_intervals_get_no_interval_note():
    rng = np.random.default_rng(7)
    before = rng.normal(50, 10, 80).round()
    after = before + rng.normal(3, 5, 80).round()
    note = signed_rank_numbers(after, before)["note"]
    assert note == "normal approximation with continuity correction"
    note = mann_whitney_numbers(after, before)["note"]
    assert note == "normal approximation with continuity correction"
