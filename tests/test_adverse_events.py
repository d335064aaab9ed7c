"""Adverse events (issue 14): the optional adverse_events.csv, its checks, the harms table
and the participant-flow note, on the tiny study (counts worked by hand)."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from trialflow.adverse_events import (
    adverse_event_flow,
    adverse_event_status,
    harms_summary,
)
from trialflow.config import studies_from_config
from trialflow.errors import InputError
from trialflow.io import raw_input_paths
from trialflow.tables.harms import harms_table
from trialflow.validate import validate_inputs

HEADER = "participant_id,term,body_system,severity,serious,related,onset_visit\n"
EVENTS = HEADER + (
    "U1,knee pain,musculoskeletal,mild,no,yes,week8\n"
    "U1,knee pain,musculoskeletal,moderate,no,yes,week8\n"
    "T1,fall,injury,severe,yes,no,week8\n"
    "T2,knee pain,musculoskeletal,mild,no,unknown,baseline\n"
)


@pytest.fixture
def tiny(tmp_path, tiny_study, monkeypatch):
    tiny_study(tmp_path)
    monkeypatch.chdir(tmp_path)  # the config's data_dir is relative
    study = studies_from_config(yaml.safe_load((tmp_path / "config.yaml").read_text()))["tiny"]
    return study, tmp_path / "raw" / "tiny"


def test_absent_file_means_not_collected(tiny):
    study, raw = tiny
    assert "adverse_events" not in raw_input_paths(study)
    validated = validate_inputs(study)
    assert validated.adverse_events is None
    assert adverse_event_status(validated.adverse_events) == "not collected"
    flow = adverse_event_flow(None, validated.participants, study)
    assert flow["reason"].tolist() == ["not collected", "not collected"]
    table = harms_table(study, None, validated.participants)
    assert table.frame.empty
    assert table.footnotes[0].startswith("Adverse events: not collected")


def test_header_only_means_none_reported(tiny):
    study, raw = tiny
    (raw / "adverse_events.csv").write_text(HEADER)
    assert raw_input_paths(study)["adverse_events"].name == "adverse_events.csv"
    validated = validate_inputs(study)
    assert validated.adverse_events is not None and validated.adverse_events.empty
    flow = adverse_event_flow(validated.adverse_events, validated.participants, study)
    assert flow[["arm", "stage", "n", "reason"]].values.tolist() == [
        ["usual", "adverse_events", 0, "no adverse events reported"],
        ["training", "adverse_events", 0, "no adverse events reported"],
    ]
    table = harms_table(study, validated.adverse_events, validated.participants)
    first = table.frame.iloc[0]
    assert first["Usual care"] == "0/4 (0.0%)" and first["Training"] == "0/4 (0.0%)"
    assert "no adverse events reported" in table.footnotes[0]


def test_counts_by_hand(tiny):
    study, raw = tiny
    (raw / "adverse_events.csv").write_text(EVENTS)
    validated = validate_inputs(study)
    summary = harms_summary(validated.adverse_events, validated.participants, study)
    got = summary.set_index(["category", "body_system", "term", "arm"])
    # usual: U1 has two knee-pain events (related), nobody serious; training: T1 a serious,
    # severe fall, T2 knee pain of unknown relation; 4 participants per arm
    assert got.loc[("any", "", "", "usual"), ["participants", "events"]].tolist() == [1, 2]
    assert got.loc[("any", "", "", "training"), ["participants", "events"]].tolist() == [2, 2]
    assert got.loc[("any", "", "", "training"), "percent"] == 50.0
    assert got.loc[("serious", "", "", "usual"), "participants"] == 0
    assert got.loc[("serious", "", "", "training"), "participants"] == 1
    assert got.loc[("related", "", "", "usual"), "participants"] == 1
    assert got.loc[("related", "", "", "training"), "participants"] == 0  # unknown is not yes
    assert got.loc[("severe", "", "", "training"), "participants"] == 1
    knee = ("term", "musculoskeletal", "knee pain")
    assert got.loc[(*knee, "usual"), ["participants", "events"]].tolist() == [1, 2]
    assert got.loc[(*knee, "training"), ["participants", "events"]].tolist() == [1, 1]
    flow = adverse_event_flow(validated.adverse_events, validated.participants, study)
    assert flow["n"].tolist() == [1, 2] and flow["reason"].tolist() == ["", ""]
    table = harms_table(study, validated.adverse_events, validated.participants).frame
    row = table.loc[table["Term"] == "knee pain"].iloc[0]
    assert row["Usual care"] == "1/4 (25.0%) [2 events]"


def test_bad_values_name_file_row_column_and_expected(tiny):
    study, raw = tiny
    (raw / "adverse_events.csv").write_text(
        HEADER
        + "U1,knee pain,musculoskeletal,Mild,no,yes,week8\n"
        + "X9,fall,,severe,maybe,no,week4\n"
    )
    with pytest.raises(InputError) as caught:
        validate_inputs(study)
    found = {(p.row, p.column): (p.value, p.expected) for p in caught.value.problems}
    assert all(p.file.endswith("adverse_events.csv") for p in caught.value.problems)
    assert found[(2, "severity")] == ("Mild", "one of mild, moderate, severe")
    assert found[(3, "participant_id")] == ("X9", "a participant id of participants.csv")
    assert found[(3, "body_system")] == (None, "the body system (text)")
    assert found[(3, "serious")] == ("maybe", "one of yes, no")
    assert found[(3, "onset_visit")] == ("week4", "one of baseline, week8")
    assert len(found) == 5


def test_a_missing_column_is_named(tiny):
    study, raw = tiny
    (raw / "adverse_events.csv").write_text("participant_id,term\nU1,fall\n")
    with pytest.raises(InputError) as caught:
        validate_inputs(study)
    missing = sorted(p.column for p in caught.value.problems)
    assert missing == ["body_system", "onset_visit", "related", "serious", "severity"]


def test_the_default_knee_study_reports_none(config_studies):
    # studies.md: the knee paper reports no adverse events; the spine paper does not say
    assert "adverse_events" in raw_input_paths(config_studies["knee_sarcopenia"])
    assert "adverse_events" not in raw_input_paths(config_studies["spine_rct"])
    frame = pd.read_csv(raw_input_paths(config_studies["knee_sarcopenia"])["adverse_events"])
    assert frame.empty
