"""``trialflow init``: what it recognises and guesses, worked on small folders (issue 15)."""

import pandas as pd
import pyreadstat
import pytest
import yaml

from trialflow.scaffold import guess_arms, guess_visits, guess_week, scaffold_config


@pytest.mark.parametrize(
    ("name", "week"),
    [
        ("baseline", 0),
        ("week8", 8),
        ("wk_12", 12),
        ("w24", 24),
        ("month3", 13),
        ("day14", 2),
        ("end", None),
    ],
)
def test_weeks_are_read_from_visit_names(name, week):
    assert guess_week(name) == week


def test_visits_are_ordered_by_week_with_roles_from_their_position():
    visits = guess_visits(["week24", "baseline", "week12", "exit"])
    assert [(v["id"], v["week"], v["role"], v["week_guessed"]) for v in visits] == [
        ("baseline", 0, "baseline", False),
        ("week12", 12, "treatment", False),
        ("week24", 24, "end_of_treatment", False),
        ("exit", 28, "follow_up", True),  # no week in the name: after the last, marked TODO
    ]


def test_a_control_like_arm_is_the_reference():
    assert guess_arms(["exercise", "usual_care"]) == ["usual_care", "exercise"]
    assert guess_arms(["b", "a"]) == ["a", "b"]


def test_a_folder_of_coded_spss_files_and_a_redcap_export(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "raw"
    folder.mkdir()
    roster = pd.DataFrame({"participant_id": ["P1", "P2"], "arm": [1.0, 2.0], "age": [60.0, 61.0]})
    labels = {"arm": {1: "placebo", 2: "active"}}
    pyreadstat.write_sav(roster, folder / "participants.sav", variable_value_labels=labels)
    rows = [(p, v, t) for p in ("P1", "P2") for v, t in (("baseline", 12.5), ("week6", 11.0))]
    tug = pd.DataFrame(rows, columns=["participant_id", "visit", "time_s"])
    tug.to_parquet(folder / "tug.parquet")
    tug.rename(columns={"time_s": "grip_kg"}).to_csv(folder / "strength.csv", index=False)
    (folder / "export.csv").write_text("record_id,redcap_event_name,x\nP1,baseline_arm_1,1\n")
    text = scaffold_config("raw", "trial")
    study = yaml.safe_load(text)["studies"]["trial"]
    assert [a["id"] for a in study["arms"]] == ["placebo", "active"]  # labels, control first
    assert study["instruments"]["tug"] == {"type": "tug"}  # found by name, no file key
    assert study["instruments"]["strength"]["measures"] == {
        "grip_kg": {"label": "Grip kg", "unit": "kg", "higher_is_better": True}
    }
    assert "# TODO: is higher better?" in text
    assert "# TODO: export.csv is not declared: a REDCap export" in text
    assert [(v["id"], v["week"]) for v in study["visits"]] == [("baseline", 0), ("week6", 6)]
