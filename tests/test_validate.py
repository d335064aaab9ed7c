"""Structural validation: every bad input named by file, row and column, all at once."""

import pandas as pd
import pytest
from helpers.studies import make_study

from trialflow.config import study_from_mapping
from trialflow.errors import InputError
from trialflow.io import read_csv_input
from trialflow.validate import validate_study

STUDY = study_from_mapping(
    "tiny",
    {
        "title": "tiny",
        "design": "parallel",
        "data_dir": "unused",
        "arms": [{"id": "control"}, {"id": "exercise"}],
        "visits": [
            {"id": "baseline", "week": 0, "role": "baseline"},
            {"id": "week8", "week": 8, "role": "end_of_treatment"},
        ],
        "instruments": {
            "tug": {"type": "tug"},
            "grip": {
                "type": "measures",
                "measures": {
                    "grip_kg": {
                        "label": "Grip",
                        "unit": "kg",
                        "higher_is_better": True,
                        "min": 0,
                        "max": 100,
                    }
                },
            },
        },
    },
)

ROSTER = """participant_id,arm,age,sex,height_cm,weight_kg,last_visit,withdrawal_reason
P1,control,61,F,160,60,week8,
P2,exercise,58,F,155,58,week8,
P3,exercise,63,F,162,70,baseline,moved away
"""


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return read_csv_input(path)


def _study_inputs(tmp_path, roster=ROSTER, tug=None, grip=None):
    tug = tug or "participant_id,visit,time_s\nP1,baseline,10.5\nP1,week8,9.8\nP2,baseline,11\n"
    grip = grip or "participant_id,visit,grip_kg\nP1,baseline,20\nP2,baseline,22.5\n"
    return (
        _write(tmp_path, "participants.csv", roster),
        {"tug": _write(tmp_path, "tug.csv", tug), "grip": _write(tmp_path, "grip.csv", grip)},
    )


def test_valid_inputs_are_typed(tmp_path):
    participants, raw = _study_inputs(tmp_path)
    validated = validate_study(STUDY, participants, raw)
    assert validated.participants["age"].tolist() == [61.0, 58.0, 63.0]
    assert validated.instruments["tug"]["time_s"].tolist() == [10.5, 9.8, 11.0]
    assert validated.instruments["grip"]["grip_kg"].tolist() == [20.0, 22.5]
    quality = validated.quality.set_index(["instrument", "visit"])
    assert quality.loc[("tug", "baseline"), "rows"] == 2
    assert quality.loc[("tug", "week8"), "rows"] == 1
    assert quality.loc[("grip", "week8"), "rows"] == 0


def test_every_problem_is_listed_with_file_row_and_column(tmp_path):
    roster = ROSTER.replace("P2,exercise", "P2,placebo").replace("63,F,162", "sixty,F,162")
    tug = (
        "participant_id,visit,time_s\n"
        "P1,baseline,10.5\n"
        "P9,baseline,10\n"  # unknown participant
        "P1,week4,9\n"  # undeclared visit
        "P1,baseline,10.1\n"  # duplicate participant and visit
        "P2,week8,ten\n"  # not a number
    )
    participants, raw = _study_inputs(tmp_path, roster=roster, tug=tug)
    with pytest.raises(InputError) as caught:
        validate_study(STUDY, participants, raw)
    found = {(p.file.rsplit("/", 1)[-1], p.row, p.column, p.value) for p in caught.value.problems}
    assert found == {
        ("participants.csv", 3, "arm", "placebo"),
        ("participants.csv", 4, "age", "sixty"),
        ("tug.csv", 3, "participant_id", "P9"),
        ("tug.csv", 4, "visit", "week4"),
        ("tug.csv", 5, "visit", "baseline"),
        ("tug.csv", 6, "time_s", "ten"),
    }
    message = str(caught.value)
    assert (
        "participants.csv, row 3, column 'arm': got 'placebo'; expected one of control, exercise"
        in message
    )


def test_out_of_range_measure_is_reported_with_its_range(tmp_path):
    grip = "participant_id,visit,grip_kg\nP1,baseline,20\nP2,baseline,250\n"
    participants, raw = _study_inputs(tmp_path, grip=grip)
    with pytest.raises(InputError) as caught:
        validate_study(STUDY, participants, raw)
    (problem,) = caught.value.problems
    assert (problem.file.rsplit("/", 1)[-1], problem.row, problem.column) == (
        "grip.csv",
        3,
        "grip_kg",
    )
    assert "100" in problem.expected


def test_missing_and_unknown_columns_are_reported(tmp_path):
    grip = "participant_id,visit,grip_kgs\nP1,baseline,20\n"
    roster = ROSTER.replace("participant_id,arm,", "participant_id,group,")
    participants, raw = _study_inputs(tmp_path, roster=roster, grip=grip)
    with pytest.raises(InputError) as caught:
        validate_study(STUDY, participants, raw)
    found = {(p.file.rsplit("/", 1)[-1], p.row, p.column) for p in caught.value.problems}
    assert ("participants.csv", 1, "arm") in found
    assert ("grip.csv", 1, "grip_kgs") in found
    assert ("grip.csv", 1, "grip_kg") in found


def test_single_arm_roster_may_omit_the_arm(tmp_path):
    study = study_from_mapping(
        "one",
        {
            "title": "one",
            "design": "single_arm",
            "data_dir": "unused",
            "arms": [{"id": "training"}],
            "visits": [
                {"id": "baseline", "week": 0, "role": "baseline"},
                {"id": "week12", "week": 12, "role": "end_of_treatment"},
            ],
            "instruments": {"tug": {"type": "tug"}},
        },
    )
    participants = _write(tmp_path, "participants.csv", "participant_id\nK1\nK2\n")
    tug = _write(tmp_path, "tug.csv", "participant_id,visit,time_s\nK1,baseline,9\n")
    validated = validate_study(study, participants, {"tug": tug})
    assert validated.participants["arm"].tolist() == ["training", "training"]
    assert isinstance(validated.quality, pd.DataFrame)


def test_roster_ranges_are_one_table_for_validation_and_instruments(tmp_path):
    """A child's weight passes both; a weight typed in grams fails both, with one range."""
    from trialflow import instruments
    from trialflow.roster import ROSTER_COLUMNS

    rule = ROSTER_COLUMNS["weight_kg"]
    item = (
        instruments.instrument("back_extensor").roster_items().set_index("column").loc["weight_kg"]
    )
    assert (item["min"], item["max"]) == (rule.minimum, rule.maximum) == (10.0, 400.0)
    roster = ROSTER.replace("63,F,162,70", "63,F,162,15").replace("58,F,155,58", "58,F,155,5800")
    participants, raw = _study_inputs(tmp_path, roster=roster)
    with pytest.raises(InputError) as info:
        validate_study(STUDY, participants, raw)
    assert [str(p).split("/")[-1] for p in info.value.problems] == [
        "participants.csv, row 3, column 'weight_kg': got '5800'; expected a number from 10 to 400"
    ]


def test_analysis_plan_roster_columns_are_validated():
    """ice_visit, ice_type, per_protocol and received_allocation (trialflow.roster)."""
    from trialflow.validate import validate_participants

    study = make_study(visits=[("baseline", 0, "baseline"), ("week8", 8, "end_of_treatment")])
    roster = pd.DataFrame(
        {
            "participant_id": ["a", "b", "c", "d"],
            "arm": ["control", "exercise", "control", "exercise"],
            "ice_visit": ["week8", "baseline", None, " week8 "],
            "ice_type": ["rescue_medication", "discontinued_treatment", "surgery", None],
            "per_protocol": ["Yes", "no", "maybe", None],
            "received_allocation": ["1", "0", "TRUE", "n"],
            "source_file": "participants.csv",
            "source_row": [2, 3, 4, 5],
        }
    )
    _, problems = validate_participants(roster, study)
    found = [(p.row, p.column, p.value, p.expected) for p in problems]
    assert found == [
        (4, "per_protocol", "maybe", "yes or no (yes, no, true, false, 1, 0) or blank"),
        (3, "ice_visit", "baseline", "a post-baseline visit id (week8) or blank"),
        (4, "ice_visit", None, "the first visit the event 'surgery' (ice_type) affects"),
    ]
