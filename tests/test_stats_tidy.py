"""Reshaping the long analysis data: the one-pass wide tables equal the per-outcome ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialflow.config import AnalysisOptions, Arm, Study, Visit
from trialflow.stats._tidy import first_by_participant, wide_by_visit, wide_tables

STUDY = Study(
    id="t",
    title="t",
    design="parallel",
    data_dir="",
    arms=(Arm("control", "Control"), Arm("exercise", "Exercise")),
    visits=(
        Visit("baseline", "Baseline", 0, "baseline"),
        Visit("week8", "Week 8", 8, "end_of_treatment"),
        Visit("week24", "Week 24", 24, "follow_up"),
    ),
    instruments=(),
    covariates=("age",),
    analysis=AnalysisOptions(),
)


def _long(n: int = 300, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = [f"P{i:04d}" for i in rng.permutation(n)]
    rows = [
        (pid, "exercise" if int(pid[1:]) % 2 else "control", visit, outcome, value)
        for pid in ids
        for visit in ("baseline", "week8", "week24")
        for outcome, value in (("b_score", rng.normal()), ("a_score", rng.integers(0, 5) * 5.0))
        if rng.random() > 0.1  # some visits missed
    ]
    frame = pd.DataFrame(rows, columns=["participant_id", "arm", "visit", "outcome", "value"])
    frame["age"] = frame["participant_id"].str[1:].astype(int) % 50 + 40.0
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def _awkward(frame: pd.DataFrame) -> pd.DataFrame:
    """Duplicate (participant, visit) rows to average, missing values and arms, and a visit
    outside the study."""
    rng = np.random.default_rng(2)
    duplicates = frame.sample(25, random_state=3).assign(value=lambda f: f["value"] + 0.3)
    unscheduled = frame.sample(10, random_state=4).assign(visit="unscheduled")
    awkward = pd.concat([frame, duplicates, unscheduled], ignore_index=True)
    awkward.loc[rng.random(len(awkward)) < 0.05, "value"] = np.nan
    awkward.loc[rng.random(len(awkward)) < 0.05, "arm"] = np.nan
    return awkward.sample(frac=1.0, random_state=5).reset_index(drop=True)


@pytest.mark.parametrize("shape", ["plain", "awkward", "missing_id", "object_keys"])
def test_wide_tables_equal_wide_by_visit_outcome_by_outcome(shape):
    frame = _long()
    if shape != "plain":
        frame = _awkward(frame)
    if shape == "missing_id":  # falls back to grouping outcome by outcome
        frame.loc[7, "participant_id"] = np.nan
    if shape == "object_keys":
        frame = frame.astype({"participant_id": object, "visit": object, "outcome": object})
    tables = wide_tables(frame, STUDY)
    assert list(tables) == ["a_score", "b_score"]
    for outcome, table in tables.items():
        expected = wide_by_visit(frame, outcome, STUDY)
        pd.testing.assert_frame_equal(table, expected, check_exact=True)
        assert table.columns.tolist() == ["arm", "baseline", "week8", "week24"]
        assert table.index.is_monotonic_increasing and table.index.name == "participant_id"


def test_wide_tables_average_duplicates_and_keep_first_arm():
    frame = pd.DataFrame(
        {
            "participant_id": ["P2", "P1", "P1", "P1", "P2"],
            "arm": [np.nan, "control", "control", "control", "exercise"],
            "visit": ["baseline", "baseline", "baseline", "week8", "week8"],
            "outcome": ["x"] * 5,
            "value": [4.0, 1.0, 2.0, np.nan, 5.0],
        }
    ).astype({"participant_id": "str", "arm": "str", "visit": "str", "outcome": "str"})
    table = wide_tables(frame, STUDY)["x"]
    assert table.index.tolist() == ["P1", "P2"]
    assert table["arm"].tolist() == ["control", "exercise"]  # first arm given
    np.testing.assert_array_equal(table["baseline"], [1.5, 4.0])
    np.testing.assert_array_equal(table["week8"], [np.nan, 5.0])
    assert table["week24"].isna().all()


def test_first_by_participant_equals_grouping_each_outcome():
    frame = _awkward(_long())
    frame.loc[frame.index[:40], "age"] = np.nan
    tables = first_by_participant(frame, ["age"])
    for outcome, table in tables.items():
        rows = frame.loc[frame["outcome"] == outcome]
        expected = rows.groupby("participant_id", sort=True)[["age"]].first()
        pd.testing.assert_frame_equal(table, expected, check_exact=True)
