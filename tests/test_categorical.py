"""Categorical outcomes by visit (issue 14): McNemar, Stuart-Maxwell and Fisher against R
(tests/reference/categorical_tests.R), and the counts and shift tables on a hand-made
cohort."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialflow.config import study_from_mapping
from trialflow.stats.categorical import (
    categorical_tests,
    categorical_variables,
    categorise,
    category_counts,
    fisher_test,
    paired_change_test,
    shift_counts,
)

REFERENCE = pd.read_csv(Path(__file__).parent / "reference" / "categorical_tests.csv")


def _table(row) -> np.ndarray:
    counts = [int(v) for v in row["counts"].split(";")]
    return np.array(counts).reshape(int(row["rows"]), int(row["cols"]))


@pytest.mark.parametrize("case", REFERENCE["case"].tolist())
def test_matches_r(case):
    row = REFERENCE.set_index("case").loc[case]
    table = _table(row)
    if row["test"] == "fisher":
        got = fisher_test(table)
        assert got["analysis"] == "fisher_exact"
    else:
        got = paired_change_test(table)
        assert got["analysis"] == row["test"]
        assert got["statistic"] == pytest.approx(row["statistic"], rel=1e-10, abs=1e-12)
        assert got["df"] == row["df"]
    assert got["n"] == table.sum()
    assert got["p_value"] == pytest.approx(row["p_value"], rel=1e-10)


def test_no_discordant_pair_gives_no_statistic():
    got = paired_change_test(np.array([[4, 0], [0, 3]]))
    assert np.isnan(got["statistic"]) and np.isnan(got["p_value"])
    assert got["analysis"] == "mcnemar"


def test_the_defined_levels_fix_the_test():
    # three defined bands, only two observed: still Stuart-Maxwell, here on the 2 x 2 part,
    # which is McNemar's statistic without continuity correction: (5 - 12)^2 / 17
    table = np.array([[10, 5, 0], [12, 3, 0], [0, 0, 0]])
    got = paired_change_test(table, n_levels=3)
    assert got["analysis"] == "stuart_maxwell"
    assert got["statistic"] == pytest.approx(49 / 17, rel=1e-12)
    assert got["df"] == 1


STUDY = study_from_mapping(
    "cat",
    {
        "title": "t",
        "design": "parallel",
        "data_dir": "data",
        "arms": [{"id": "control", "label": "Control"}, {"id": "active", "label": "Active"}],
        "visits": [
            {"id": "baseline", "label": "Baseline", "week": 0, "role": "baseline"},
            {"id": "week8", "label": "Week 8", "week": 8, "role": "end_of_treatment"},
        ],
        "instruments": {"hads": {"type": "hads"}},
        "analysis": {"primary": {"outcome": "hads_anxiety", "visit": "week8", "method": "ancova"}},
    },
)


def _cohort() -> pd.DataFrame:
    # HADS anxiety bands: normal <= 7, borderline 8-10, abnormal >= 11
    before = {"c1": 12, "c2": 9, "c3": 5, "c4": 11, "a1": 12, "a2": 11, "a3": 9, "a4": 13}
    after = {"c1": 12, "c2": 9, "c3": 8, "c4": np.nan, "a1": 6, "a2": 7, "a3": 4, "a4": 10}
    rows = []
    for pid in before:
        arm = "control" if pid.startswith("c") else "active"
        rows.append((pid, arm, "baseline", "hads_anxiety", before[pid]))
        rows.append((pid, arm, "week8", "hads_anxiety", after[pid]))
    return pd.DataFrame(rows, columns=["participant_id", "arm", "visit", "outcome", "value"])


def test_counts_shift_and_tests_by_hand():
    variables = [v for v in categorical_variables(STUDY) if v.id == "hads_anxiety_band"]
    cats = categorise(_cohort(), variables)
    counts = category_counts(cats, STUDY, variables).set_index(["visit", "arm", "category"])
    assert counts.loc[("week8", "control", "borderline"), "n"] == 2
    assert counts.loc[("week8", "control", "borderline"), "n_assessed"] == 3
    assert counts.loc[("week8", "control", "borderline"), "percent"] == pytest.approx(200 / 3)
    assert counts.loc[("week8", "active", "normal"), "n"] == 3
    shift = shift_counts(cats, STUDY, variables, "week8").set_index(
        ["arm", "baseline", "at_visit"]
    )
    assert shift.loc[("active", "abnormal", "normal"), "n"] == 2
    assert shift.loc[("control", "abnormal", "abnormal"), "n"] == 1  # c4 has no week 8
    assert shift["n"].sum() == 7
    tests = categorical_tests(cats, STUDY, variables).set_index(["analysis", "group"])
    # active, baseline x week 8: abnormal->normal 2, abnormal->borderline 1, borderline->normal
    # 1: [[0,0,0],[1,0,0],[2,1,0]] (rows normal, borderline, abnormal); by hand,
    # d = (n1. - n.1, n2. - n.2) = (-3, 0), S = [[3, -1], [-1, 2]], d' S^-1 d = 18/5
    active = tests.loc[("stuart_maxwell", "active")]
    assert active["statistic"] == pytest.approx(18 / 5, rel=1e-12)
    assert active["df"] == 2
    # week 8, arm x band: control (0, 2, 1), active (3, 1, 0);
    # R: fisher.test(matrix(c(0, 2, 1, 3, 1, 0), 2, byrow = TRUE)) -> 0.22857142857142837
    fisher = tests.loc[("fisher_exact", "")]
    assert fisher["n"] == 7
    assert fisher["p_value"] == pytest.approx(0.22857142857142837, rel=1e-10)
    assert fisher["contrast"] == "active - control"
