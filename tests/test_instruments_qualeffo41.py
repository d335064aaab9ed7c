"""QUALEFFO-41 scoring checked against examples worked by hand.

The scoring rules are those of /work/shared/reference/instruments.md; the item structure
(option counts, reverse keys, not-applicable codes) is the documented choice of
definitions/qualeffo41.yaml, which a test below pins against the copy typed out in
tests/helpers/reference_scorers.py.
"""

import math

import pandas as pd
import pytest
from helpers import reference_scorers as ref

from trialflow import instruments
from trialflow.errors import InputError
from trialflow.instruments.qualeffo41 import INSTRUMENT as QUALEFFO

SCORES = [
    "pain",
    "physical_function",
    "adl",
    "jobs",
    "mobility",
    "social_function",
    "general_health",
    "mental_function",
    "total",
]


def frame(*answer_sets: dict[int, int | None]) -> pd.DataFrame:
    rows = []
    for i, answers in enumerate(answer_sets):
        row = {"participant_id": f"P{i:02d}", "visit": "week12"}
        row.update({f"q{item}": answers.get(item) for item in range(1, 42)})
        rows.append(row)
    return pd.DataFrame(rows).astype({f"q{i}": float for i in range(1, 42)})


def test_definition_is_the_documented_choice():
    table = QUALEFFO.item_table().set_index("item")
    assert table["options"].to_dict() == ref.QUALEFFO_OPTIONS
    assert set(table.index[table["reverse"]]) == ref.QUALEFFO_REVERSED
    na = table["not_applicable"].dropna()
    assert {int(k): int(v) for k, v in na.items()} == ref.QUALEFFO_NOT_APPLICABLE
    # the not-applicable code is an allowed response of its item
    responses = instruments.items("qualeffo41").set_index("column")["responses"]
    assert responses["q24"] == (1, 2, 3, 4, 5) and responses["q29"] == (1, 2, 3, 4, 5, 6)
    assert responses["q32"] == (1, 2, 3)


def test_all_best_and_all_worst_answers_give_0_and_100():
    table = QUALEFFO.item_table().set_index("item")
    # best: option 1, or the last option of a reverse-keyed item
    best = {i: (table.at[i, "options"] if table.at[i, "reverse"] else 1) for i in table.index}
    worst = {i: (1 if table.at[i, "reverse"] else table.at[i, "options"]) for i in table.index}
    scored = instruments.score("qualeffo41", frame(best, worst))
    assert list(scored.columns) == ["participant_id", "visit", *SCORES]
    assert scored.loc[0, SCORES].tolist() == [0.0] * 9
    assert scored.loc[1, SCORES].tolist() == [100.0] * 9
    assert not instruments.outcomes("qualeffo41")["higher_is_better"].any()


MIXED = {
    # pain 1-5: 1,2,3,4,5 -> mean 3 -> 100 x (3 - 1) / 4 = 50
    1: 1, 2: 2, 3: 3, 4: 4, 5: 5,
    # ADL 6-9: 2,2,3,1 -> mean 2 -> 25
    6: 2, 7: 2, 8: 3, 9: 1,
    # jobs 10-14: all 1 -> 0
    10: 1, 11: 1, 12: 1, 13: 1, 14: 1,
    # mobility 15-22: 5,5,5,5,1,1,1,1 -> mean 3 -> 50
    15: 5, 16: 5, 17: 5, 18: 5, 19: 1, 20: 1, 21: 1, 22: 1,
    # social 23-29: q23 (4 options) 2 -> 2.333; q24 5 = not applicable -> missing;
    # q25 (4) 4 -> 5; q26 (4) 1 -> 1; q27 (4) 3 -> 3.667; q28 (4) 2 -> 2.333; q29 3 -> 3
    23: 2, 24: 5, 25: 4, 26: 1, 27: 3, 28: 2, 29: 3,
    # general health 30-32: 2, 3, q32 (3 options) 2 -> 3 -> mean 8/3
    30: 2, 31: 3, 32: 2,
    # mental 33-41: 1, 2, 3, q36 reversed 5 -> 1, q37 reversed 1 -> 5, 4,
    # q39 reversed 2 -> 4, q40 reversed 4 -> 2, 5 -> sum 27, mean 3 -> 50
    33: 1, 34: 2, 35: 3, 36: 5, 37: 1, 38: 4, 39: 2, 40: 4, 41: 5,
}  # fmt: skip


def test_mixed_answer_set_worked_by_hand():
    s = instruments.score("qualeffo41", frame(MIXED)).iloc[0]
    assert s["pain"] == pytest.approx(50.0)
    assert s["adl"] == pytest.approx(25.0)
    assert s["jobs"] == pytest.approx(0.0)
    assert s["mobility"] == pytest.approx(50.0)
    # physical function: 17 items, sum 8 + 5 + 24 = 37 -> 100 x (37/17 - 1) / 4 = 29.4118
    assert s["physical_function"] == pytest.approx(100 * (37 / 17 - 1) / 4)
    # social: (7/3 + 5 + 1 + 11/3 + 7/3 + 3) / 6 = 17.3333 / 6 = 2.8889 -> 47.2222
    social_mean = (7 / 3 + 5 + 1 + 11 / 3 + 7 / 3 + 3) / 6
    assert s["social_function"] == pytest.approx(100 * (social_mean - 1) / 4)
    assert s["social_function"] == pytest.approx(47.2222, abs=1e-4)
    # general health: mean 8/3 -> 41.6667
    assert s["general_health"] == pytest.approx(100 * (8 / 3 - 1) / 4)
    assert s["mental_function"] == pytest.approx(50.0)
    # total: all 40 answered items: (15 + 37 + 17.3333 + 8 + 27) / 40 = 2.60833 -> 40.2083,
    # not the mean of the five domains (43.66)
    total_mean = (15 + 37 + 52 / 3 + 8 + 27) / 40
    assert s["total"] == pytest.approx(100 * (total_mean - 1) / 4)
    assert s["total"] == pytest.approx(40.2083, abs=1e-4)


@pytest.mark.parametrize(
    ("item", "answer", "domain", "expected"),
    [
        # 4-option item alone in its domain: 1, 2.333, 3.667, 5 on 1-5
        (23, 1, "social_function", 0.0),
        (23, 2, "social_function", 100 * (4 / 3) / 4),  # 33.33
        (23, 3, "social_function", 100 * (8 / 3) / 4),  # 66.67
        (23, 4, "social_function", 100.0),
        # 3-option item: 1, 3, 5
        (32, 2, "general_health", 50.0),
        (32, 3, "general_health", 100.0),
        # reverse-keyed 5-option item: position 5 is the best answer
        (36, 5, "mental_function", 0.0),
        (36, 2, "mental_function", 75.0),  # 6 - 2 = 4 -> 100 x 3 / 4
        (35, 2, "mental_function", 25.0),  # not reversed
    ],
)
def test_rescaling_and_reverse_keys(item, answer, domain, expected):
    s = instruments.score("qualeffo41", frame({item: answer})).iloc[0]
    assert s[domain] == pytest.approx(expected)
    assert s["total"] == pytest.approx(expected)  # the only answered item


def test_not_applicable_is_missing():
    # q29 = 6 (not applicable) with q23 = 1: social from q23 alone
    s = instruments.score("qualeffo41", frame({23: 1, 29: 6}, {24: 5, 29: 6})).reset_index()
    assert s.loc[0, "social_function"] == 0.0
    assert math.isnan(s.loc[1, "social_function"])
    assert math.isnan(s.loc[1, "total"])


def test_answer_outside_option_count_is_an_error():
    bad = frame({23: 5, 32: 4, 1: 6, 29: 7})
    with pytest.raises(InputError) as error:
        instruments.score("qualeffo41", bad)
    problems = {(p.file, p.row, p.column, p.value) for p in error.value.problems}
    assert problems == {
        ("<items>", 2, "q1", 6.0),
        ("<items>", 2, "q23", 5.0),
        ("<items>", 2, "q29", 7.0),
        ("<items>", 2, "q32", 4.0),
    }


def test_custom_definition_file_switches_the_choice(tmp_path):
    import yaml

    from trialflow.instruments._base import load_definition

    custom = dict(load_definition("qualeffo41"))
    custom["items"] = {**custom["items"], 21: {"options": 4}}
    path = tmp_path / "qualeffo41.yaml"
    path.write_text(yaml.safe_dump(custom))
    assert instruments.items("qualeffo41", definition=str(path)).set_index("column").at[
        "q21", "responses"
    ] == (1, 2, 3, 4)
    # q21 = 2 of 4 options -> 2.333 on 1-5 -> mobility 33.33
    s = instruments.score("qualeffo41", frame({21: 2}), definition=str(path)).iloc[0]
    assert s["mobility"] == pytest.approx(100 * (4 / 3) / 4)
