"""HADS scoring checked against examples worked by hand from the published rules."""

import math

import pandas as pd
import pytest

from trialflow import instruments
from trialflow.errors import InputError

ANXIETY = [1, 3, 5, 7, 9, 11, 13]
DEPRESSION = [2, 4, 6, 8, 10, 12, 14]
# Item scores (0-3) of a mixed answer set:
# anxiety items 1,3,5,7,9,11,13 = 1,2,0,3,1,0,1 -> 8 (borderline)
# depression items 2,4,6,8,10,12,14 = 0,1,1,2,1,2,0 -> 7 (normal)
MIXED_SCORES = {1: 1, 2: 0, 3: 2, 4: 1, 5: 0, 6: 1, 7: 3, 8: 2, 9: 1, 10: 1, 11: 0, 12: 2, 13: 1, 14: 0}  # fmt: skip
# The same answers as printed positions: items 2,4,7,9,12,14 score position - 1
# (position = score + 1); all others score 4 - position (position = 4 - score).
MIXED_POSITIONS = {1: 3, 2: 1, 3: 2, 4: 2, 5: 4, 6: 3, 7: 4, 8: 2, 9: 2, 10: 3, 11: 4, 12: 3, 13: 3, 14: 1}  # fmt: skip


def frame(*answer_sets):
    rows = []
    for i, answers in enumerate(answer_sets):
        row = {"participant_id": f"P{i}", "visit": "baseline"}
        row.update({f"q{item}": answers.get(item) for item in range(1, 15)})
        rows.append(row)
    return pd.DataFrame(rows).astype({f"q{i}": float for i in range(1, 15)})


def test_extremes_and_bands():
    s = instruments.score(
        "hads", frame(dict.fromkeys(range(1, 15), 0), dict.fromkeys(range(1, 15), 3))
    )
    assert list(s.columns) == ["participant_id", "visit", "anxiety", "depression", "anxiety_band", "depression_band"]  # fmt: skip
    assert s.loc[0, ["anxiety", "depression"]].tolist() == [0.0, 0.0]
    assert s.loc[1, ["anxiety", "depression"]].tolist() == [21.0, 21.0]  # 7 items x 3
    assert s.loc[0, "anxiety_band"] == "normal" and s.loc[1, "depression_band"] == "abnormal"


def test_mixed_case_scores_and_positions_agree():
    by_score = instruments.score("hads", frame(MIXED_SCORES)).iloc[0]
    by_position = instruments.score("hads", frame(MIXED_POSITIONS), coding="position").iloc[0]
    for s in (by_score, by_position):
        assert s["anxiety"] == 8.0  # 1 + 2 + 0 + 3 + 1 + 0 + 1
        assert s["depression"] == 7.0  # 0 + 1 + 1 + 2 + 1 + 2 + 0
        assert s["anxiety_band"] == "borderline"
        assert s["depression_band"] == "normal"


def test_position_coding_extremes():
    # position 1 on every item: the six "position - 1" items score 0, the others 3
    # anxiety: items 7, 9 -> 0; items 1, 3, 5, 11, 13 -> 3 => 15
    # depression: items 2, 4, 12, 14 -> 0; items 6, 8, 10 -> 3 => 9
    s = instruments.score("hads", frame(dict.fromkeys(range(1, 15), 1)), coding="position")
    assert s.loc[0, "anxiety"] == 15.0 and s.loc[0, "depression"] == 9.0
    better = instruments.items("hads", coding="position").set_index("column")["better"]
    assert better["q7"] == "low" and better["q1"] == "high"
    assert instruments.items("hads").set_index("column").at["q1", "responses"] == (0, 1, 2, 3)


@pytest.mark.parametrize(("total", "band"), [(7, "normal"), (8, "borderline"), (10, "borderline"), (11, "abnormal")])  # fmt: skip
def test_band_boundaries(total, band):
    # spread the total over the anxiety items: as many 3s as fit, the rest in one item
    scores = dict.fromkeys(range(1, 15), 0)
    remaining = total
    for item in ANXIETY:
        scores[item] = min(3, remaining)
        remaining -= scores[item]
    s = instruments.score("hads", frame(scores)).iloc[0]
    assert s["anxiety"] == total and s["anxiety_band"] == band


def test_missing_item_leaves_only_its_subscale_missing():
    s = instruments.score("hads", frame({**MIXED_SCORES, 5: None})).iloc[0]
    assert math.isnan(s["anxiety"]) and pd.isna(s["anxiety_band"])
    assert s["depression"] == 7.0


def test_out_of_range_codes_are_errors():
    with pytest.raises(InputError) as error:
        instruments.score("hads", frame({**MIXED_SCORES, 3: 4}))
    assert [(p.row, p.column, p.value) for p in error.value.problems] == [(2, "q3", 4.0)]
    with pytest.raises(InputError) as error:
        instruments.score("hads", frame({**MIXED_POSITIONS, 2: 0}), coding="position")
    assert [(p.row, p.column, p.value) for p in error.value.problems] == [(2, "q2", 0.0)]


def test_unknown_coding_is_rejected():
    with pytest.raises(ValueError, match="coding"):
        instruments.items("hads", coding="letters")
    outcomes = instruments.outcomes("hads").set_index("score")
    assert outcomes.loc[["anxiety", "depression"], "analysed"].all()
    assert not outcomes.loc[["anxiety_band", "depression_band"], "analysed"].any()
