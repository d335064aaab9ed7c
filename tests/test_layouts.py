"""Wide and REDCap layouts are reshaped to long before validation, and problems still name
the file's own row and column (issue 15)."""

import pandas as pd
import pytest
import yaml
from openpyxl import Workbook

from trialflow.config import studies_from_config
from trialflow.errors import InputError
from trialflow.validate import validate_inputs

STUDY = """
studies:
  tiny:
    title: Tiny
    design: parallel
    data_dir: raw
    arms: [{id: usual}, {id: training}]
    visits:
      - {id: baseline, week: 0, role: baseline}
      - {id: week8, week: 8, role: end_of_treatment}
      - {id: week20, week: 20, role: follow_up}
    instruments: {}
"""
ROSTER = "participant_id,arm\nU1,usual\nT1,training\n"
ITEMS = [f"q{i}" for i in range(1, 15)]


def answers(pid: str, visit: str) -> dict:
    """Fixed HADS answers 0-3 that differ by participant and visit."""
    shift = {"baseline": 0, "week8": 1, "week20": 2}[visit] + (pid == "T1")
    return {q: (i + shift) % 4 for i, q in enumerate(ITEMS)}


def long_frame(visits=("baseline", "week8")) -> pd.DataFrame:
    rows = [
        {"participant_id": pid, "visit": visit, **answers(pid, visit)}
        for pid in ("U1", "T1")
        for visit in visits
    ]
    return pd.DataFrame(rows)


def study_with(tmp_path, monkeypatch, hads: dict):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "raw").mkdir(exist_ok=True)
    (tmp_path / "raw" / "participants.csv").write_text(ROSTER)
    config = yaml.safe_load(STUDY)
    config["studies"]["tiny"]["instruments"] = {"hads": {"type": "hads", **hads}}
    return studies_from_config(config)["tiny"]


def items_of(validated) -> pd.DataFrame:
    frame = validated.instruments["hads"].drop(columns=["source_file", "source_row"])
    return frame.sort_values(["participant_id", "visit"]).reset_index(drop=True)


def wide_text(bad: dict | None = None) -> str:
    """participant_id, q1_w0..q14_w0, q1_w8..q14_w8; ``bad`` = {(pid, column): text}."""
    header = ["participant_id"] + [f"{q}_{t}" for t in ("w0", "w8") for q in ITEMS]
    lines = [",".join(header)]
    for pid in ("U1", "T1"):
        cells = {
            f"{q}_{t}": str(answers(pid, v)[q])
            for t, v in (("w0", "baseline"), ("w8", "week8"))
            for q in ITEMS
        }
        cells.update({c: t for (p, c), t in (bad or {}).items() if p == pid})
        lines.append(",".join([pid] + [cells[c] for c in header[1:]]))
    return "\n".join(lines) + "\n"


WIDE = {
    "file": "hads_wide.csv",
    "layout": "wide",
    "column_pattern": "{item}_{visit}",
    "visit_map": {"w0": "baseline", "w8": "week8"},
    "options": {"coding": "score"},
}


def test_a_wide_file_validates_as_the_long_file(tmp_path, monkeypatch):
    long_frame().to_csv(tmp_path / "hads_long.csv", index=False)
    study = study_with(tmp_path, monkeypatch, WIDE)
    (tmp_path / "raw" / "hads_wide.csv").write_text(wide_text())
    wide = items_of(validate_inputs(study))
    (tmp_path / "raw" / "hads.csv").write_text((tmp_path / "hads_long.csv").read_text())
    long = items_of(
        validate_inputs(study_with(tmp_path, monkeypatch, {"options": {"coding": "score"}}))
    )
    pd.testing.assert_frame_equal(wide, long)
    assert len(wide) == 4


def test_wide_problems_name_the_wide_column(tmp_path, monkeypatch):
    study = study_with(tmp_path, monkeypatch, WIDE)
    # T1 is on line 3; the same bad answer at both visits names both columns, in visit order
    # (problems come item by item)
    bad = {("T1", "q3_w0"): "7", ("T1", "q3_w8"): "7", ("U1", "q5_w8"): "5"}
    (tmp_path / "raw" / "hads_wide.csv").write_text(wide_text(bad))
    with pytest.raises(InputError) as error:
        validate_inputs(study)
    assert [str(p) for p in error.value.problems] == [
        "raw/hads_wide.csv, row 3, column 'q3_w0': got '7'; expected one of 0, 1, 2, 3 or blank",
        "raw/hads_wide.csv, row 3, column 'q3_w8': got '7'; expected one of 0, 1, 2, 3 or blank",
        "raw/hads_wide.csv, row 2, column 'q5_w8': got '5'; expected one of 0, 1, 2, 3 or blank",
    ]


def test_a_wide_column_with_an_unmapped_visit_token_is_named(tmp_path, monkeypatch):
    study = study_with(tmp_path, monkeypatch, WIDE)
    text = wide_text().replace("q14_w8", "q14_w9", 1)
    (tmp_path / "raw" / "hads_wide.csv").write_text(text)
    with pytest.raises(InputError) as error:
        validate_inputs(study)
    assert [str(p) for p in error.value.problems] == [
        "raw/hads_wide.csv, column 'q14_w9': got 'q14_w9'; expected a visit token of the "
        "visit_map (w0, w8) in the column name; 'w9' is not one: map it to a visit id"
    ]


def test_a_wide_workbook_names_the_cell(tmp_path, monkeypatch):
    study = study_with(tmp_path, monkeypatch, {**WIDE, "file": "hads.xlsx", "sheet": "HADS"})
    book = Workbook()
    sheet = book.active
    sheet.title = "HADS"
    for line in wide_text({("U1", "q2_w8"): "9"}).splitlines():
        sheet.append([int(c) if c.isdigit() else c for c in line.split(",")])
    book.save(tmp_path / "raw" / "hads.xlsx")
    with pytest.raises(InputError) as error:
        validate_inputs(study)
    # q2_w8 is the 17th column (Q): participant_id, 14 baseline items, q1_w8, q2_w8
    assert [str(p) for p in error.value.problems] == [
        "raw/hads.xlsx, sheet 'HADS', cell Q2, column 'q2_w8': got '9'; expected one of "
        "0, 1, 2, 3 or blank"
    ]


# ------------------------------------------------------------------------------ REDCap


def redcap_export(extra_rows=()) -> str:
    """A REDCap "records" export: one row per record and event, fields of two forms (hads_*
    and a grip form), week 8 and week 20 as instances 1 and 2 of a repeating event."""
    header = [
        "record_id",
        "redcap_event_name",
        "redcap_repeat_instrument",
        "redcap_repeat_instance",
    ]
    header += [f"hads_{q}" for q in ITEMS] + ["hads_complete", "grip_kg", "grip_complete"]
    lines = [",".join(header)]
    for pid in ("U1", "T1"):
        for event, instance, visit in (
            ("baseline_arm_1", "", "baseline"),
            ("follow_up_arm_1", "1", "week8"),
            ("follow_up_arm_1", "2", "week20"),
        ):
            hads = [str(answers(pid, visit)[q]) for q in ITEMS]
            lines.append(",".join([pid, event, "", instance, *hads, "2", "21.5", "2"]))
        # a screening event: the grip form only, no HADS data
        lines.append(",".join([pid, "screening_arm_1", "", "", *[""] * 14, "", "20", "2"]))
    lines += list(extra_rows)
    return "\n".join(lines) + "\n"


REDCAP = {
    "file": "export.csv",
    "layout": "redcap",
    "id_column": "record_id",
    "column_pattern": "hads_{item}",
    "visit_map": {"baseline_arm_1": "baseline", "follow_up_arm_1": {1: "week8", 2: "week20"}},
    "options": {"coding": "score"},
}


def test_a_redcap_records_export_with_a_repeating_event_needs_only_config(tmp_path, monkeypatch):
    study = study_with(tmp_path, monkeypatch, REDCAP)
    (tmp_path / "raw" / "export.csv").write_text(redcap_export())
    redcap = items_of(validate_inputs(study))
    long_frame(("baseline", "week8", "week20")).to_csv(tmp_path / "raw" / "hads.csv", index=False)
    long = items_of(
        validate_inputs(study_with(tmp_path, monkeypatch, {"options": {"coding": "score"}}))
    )
    pd.testing.assert_frame_equal(redcap, long)
    assert len(redcap) == 6  # the screening rows hold no HADS data and are left out


def test_redcap_problems_name_the_field_and_unmapped_events(tmp_path, monkeypatch):
    study = study_with(tmp_path, monkeypatch, REDCAP)
    text = redcap_export(["U1,follow_up_arm_1,,3," + ",".join(["1"] * 14) + ",2,,"])
    (tmp_path / "raw" / "export.csv").write_text(text)
    with pytest.raises(InputError) as error:
        validate_inputs(study)
    assert [str(p) for p in error.value.problems] == [
        "raw/export.csv, row 10, column 'redcap_event_name': got 'follow_up_arm_1'; expected "
        "an event of the visit_map (baseline_arm_1, follow_up_arm_1 #1, follow_up_arm_1 #2); "
        "this row of event 'follow_up_arm_1', repeat instance 3 holds hads data: map the "
        "event to a visit id"
    ]
    text = redcap_export().replace("U1,baseline_arm_1,,,0", "U1,baseline_arm_1,,,5", 1)
    (tmp_path / "raw" / "export.csv").write_text(text)
    with pytest.raises(InputError) as error:
        validate_inputs(study)
    assert [str(p) for p in error.value.problems] == [
        "raw/export.csv, row 2, column 'hads_q1': got '5'; expected one of 0, 1, 2, 3 or blank"
    ]
