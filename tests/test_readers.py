"""Raw inputs in every readable format give the text cells the CSV reader gives, and problems
name the file's own row, column, sheet and cell (issue 15).

Files are written here with the libraries a data manager would use (pyreadstat for SPSS,
Stata and SAS transport, openpyxl for Excel, pyarrow for parquet); the SAS ``.sas7bdat``
fixture is haven's example file, checked against R's reading of it.
"""

import datetime as dt
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import yaml
from openpyxl import Workbook

from trialflow.config import studies_from_config
from trialflow.errors import InputError
from trialflow.io import raw_input_files, read_raw_input
from trialflow.rawcsv import Dialect
from trialflow.readers import cell_text, read_table
from trialflow.validate import validate_inputs

REFERENCE = Path(__file__).parent / "reference" / "sas"

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
    instruments:
      hads: {type: hads, options: {coding: score}}
"""


def hads_rows():
    """Two participants, two visits, HADS answers 0-3 (q1..q14)."""
    rows = []
    for pid in ("U1", "T1"):
        for visit in ("baseline", "week8"):
            rows.append(
                {
                    "participant_id": pid,
                    "visit": visit,
                    **{f"q{i}": float(i % 4) for i in range(1, 15)},
                }
            )
    return pd.DataFrame(rows)


def roster():
    return pd.DataFrame({"participant_id": ["U1", "T1"], "arm": ["usual", "training"]})


def study_in(tmp_path, monkeypatch, **changes):
    monkeypatch.chdir(tmp_path)
    config = yaml.safe_load(STUDY)
    study = config["studies"]["tiny"]
    for key, value in changes.items():
        if key == "instruments":
            study["instruments"] = value
        elif key.startswith("hads_"):
            study["instruments"]["hads"][key[5:]] = value
        else:
            study[key] = value
    (tmp_path / "raw").mkdir(exist_ok=True)
    return studies_from_config(config)["tiny"]


def problems_of(study) -> list[str]:
    with pytest.raises(InputError) as error:
        validate_inputs(study)
    return [str(p) for p in error.value.problems]


# ------------------------------------------------------------------------- cell text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (7.0, "7"),
        (7, "7"),
        (-0.0, "0"),
        (2.45, "2.45"),
        (1.8, "1.8"),
        (0.1 + 0.2, "0.30000000000000004"),  # exact: reads back as the stored double
        (1e-07, "1e-07"),
        (1e16, "1e+16"),
        (np.float32(0.5), "0.5"),
        (np.nan, None),
        (None, None),
        (True, "TRUE"),
        (dt.date(2024, 3, 5), "2024-03-05"),
        (dt.datetime(2024, 3, 5), "2024-03-05"),
        (dt.datetime(2024, 3, 5, 14, 30), "2024-03-05 14:30:00"),
        ("  F ", "F"),
        ("NA", None),
    ],
)
def test_a_typed_cell_reads_as_the_text_a_person_typed(value, text):
    assert cell_text(value) == text
    if isinstance(value, float) and text is not None:
        assert float(text) == value  # lossless


# ----------------------------------------------------------------- one file per format


def _write(frame: pd.DataFrame, path: Path, **labels):
    suffix = path.suffix
    if suffix == ".sav":
        pyreadstat.write_sav(frame, path, **labels)
    elif suffix == ".dta":
        pyreadstat.write_dta(frame, path, **labels)
    elif suffix == ".xpt":
        pyreadstat.write_xport(frame, path)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif suffix == ".xlsx":
        book = Workbook()
        sheet = book.active
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            sheet.append([None if pd.isna(v) else v for v in row])
        book.save(path)
    else:
        frame.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")


@pytest.mark.parametrize("suffix", [".tsv", ".sav", ".dta", ".xpt", ".parquet", ".xlsx"])
def test_every_format_gives_the_csv_readers_text_frame(tmp_path, suffix):
    data = pd.DataFrame(
        {
            "participant_id": ["P1", "P2", "P3"],
            "visit": ["baseline", "week8", "baseline"],
            "grip_kg": [21.0, 23.45, np.nan],
            "count": [7.0, 0.0, 12.0],
        }
    )
    text = (
        "participant_id,visit,grip_kg,count\nP1,baseline,21,7\nP2,week8,23.45,0\nP3,baseline,,12\n"
    )
    (tmp_path / "grip.csv").write_text(text)
    if suffix == ".tsv":
        (tmp_path / "grip.tsv").write_text(text.replace(",", "\t"))
    else:
        _write(data, tmp_path / f"grip{suffix}")
    csv = read_raw_input(tmp_path / "grip.csv").frame
    other = read_raw_input(tmp_path / f"grip{suffix}").frame
    csv_text = csv.drop(columns=["source_file", "source_row"])
    pd.testing.assert_frame_equal(other.drop(columns=["source_file", "source_row"]), csv_text)
    assert csv_text["count"].tolist() == ["7", "0", "12"]  # '7', never '7.0'
    assert other["source_file"].unique().tolist() == [str(tmp_path / f"grip{suffix}")]
    # rows as the program shows them: a sheet's row (header on row 1), else the record number
    expected_rows = [2, 3, 4] if suffix in (".tsv", ".xlsx") else [1, 2, 3]
    assert other["source_row"].tolist() == expected_rows


def test_an_unknown_extension_is_named_with_the_readable_ones(tmp_path):
    (tmp_path / "grip.ods").write_bytes(b"PK")
    read = read_table(tmp_path / "grip.ods")
    assert read.frame is None
    assert ".sav, .dta, .sas7bdat, .xpt, .parquet" in read.problems[0].expected


def test_haven_sas7bdat_fixture_reads_as_r_reads_it():
    # iris.sas7bdat from R's haven package (tests/reference/sas/iris_haven.R): written by SAS,
    # read here by pyreadstat and there by haven; every cell agrees.
    read = read_table(REFERENCE / "iris.sas7bdat")
    reference = pd.read_csv(REFERENCE / "iris_haven.csv", dtype=str)
    assert read.problems == []
    frame = read.frame
    assert list(frame.columns[:5]) == list(reference.columns)
    assert frame["source_row"].tolist() == list(range(1, 151))
    assert frame["Species"].tolist() == reference["Species"].tolist()
    for column in reference.columns[:4]:
        ours = frame[column].astype(float).to_numpy()
        assert np.array_equal(ours, reference[column].astype(float).to_numpy()), column
    assert frame.loc[0, ["Sepal_Length", "Sepal_Width"]].tolist() == ["5.1", "3.5"]


# ---------------------------------------------------------- labels and user-missing codes


def test_spss_value_labels_show_only_in_text_columns_and_user_missing_codes_are_counted(
    tmp_path, monkeypatch
):
    study = study_in(tmp_path, monkeypatch)
    people = roster().assign(arm=[1.0, 2.0])
    _write(
        people,
        tmp_path / "raw" / "participants.sav",
        variable_value_labels={"arm": {1: "usual", 2: "training"}},
    )
    items = hads_rows()
    items.loc[1, "q3"] = 9.0  # user-missing in the file
    items.loc[2, "q3"] = 9.0
    _write(
        items,
        tmp_path / "raw" / "hads.sav",
        variable_value_labels={"q1": {0: "Not at all", 9: "Refused"}, "q3": {9: "Refused"}},
        missing_ranges={"q3": [9]},
    )
    validated = validate_inputs(study)
    assert validated.participants["arm"].tolist() == ["usual", "training"]  # labels
    hads = validated.instruments["hads"]
    assert hads["q1"].tolist() == [1.0] * 4  # codes stay codes
    assert hads["q3"].isna().tolist() == [False, True, True, False]
    quality = validated.quality
    counts = quality[quality["finding"].isna()].set_index("visit")["missing_code_cells"]
    assert counts.to_dict() == {"baseline": 1, "week8": 1}
    found = quality[quality["finding"] == "missing_code"]
    assert found[["visit", "column", "value", "count"]].values.tolist() == [
        ["baseline", "q3", "9", 1],
        ["week8", "q3", "9", 1],
    ]
    assert found["detail"].iloc[0] == (
        "SPSS user-missing value 9 ('Refused') in the file: set to blank"
    )
    assert set(raw_input_files(study)) == {
        Path("raw/participants.sav"),
        Path("raw/hads.sav"),
    }


def test_a_bad_coded_value_is_echoed_with_its_label_and_a_bad_label_with_its_code(
    tmp_path, monkeypatch
):
    study = study_in(tmp_path, monkeypatch)
    people = roster().assign(arm=[1.0, 3.0])
    _write(
        people,
        tmp_path / "raw" / "participants.sav",
        variable_value_labels={"arm": {1: "usual", 2: "training", 3: "placebo"}},
    )
    items = hads_rows()
    items.loc[2, "q6"] = 8.0
    _write(items, tmp_path / "raw" / "hads.sav", variable_value_labels={"q6": {8: "Don't know"}})
    assert problems_of(study) == [
        "raw/participants.sav, row 2, column 'arm': got 'placebo' (code 3); expected one of "
        "usual, training",
        "raw/hads.sav, row 3, column 'q6': got '8' (value label \"Don't know\"); expected one "
        "of 0, 1, 2, 3 or blank",
    ]


def test_stata_extended_missing_values_become_blank_and_are_counted(tmp_path, monkeypatch):
    study = study_in(tmp_path, monkeypatch)
    _write(roster(), tmp_path / "raw" / "participants.dta")
    items = hads_rows().astype({"q5": object})
    items.loc[0, "q5"] = "a"
    _write(items, tmp_path / "raw" / "hads.dta", missing_user_values={"q5": ["a"]})
    validated = validate_inputs(study)
    assert validated.instruments["hads"]["q5"].isna().tolist() == [True, False, False, False]
    found = validated.quality[validated.quality["finding"] == "missing_code"]
    assert found[["visit", "column", "value", "count"]].values.tolist() == [
        ["baseline", "q5", ".a", 1]
    ]


# ---------------------------------------------------------------------------- Excel


def _workbook(path: Path, sheets: dict[str, pd.DataFrame]):
    book = Workbook()
    book.remove(book.active)
    for name, frame in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            sheet.append([None if pd.isna(v) else v for v in row])
    book.save(path)


def test_excel_problems_name_the_sheet_and_cell(tmp_path, monkeypatch):
    study = study_in(tmp_path, monkeypatch, hads_file="visits.xlsx", hads_sheet="HADS")
    roster().to_csv(tmp_path / "raw" / "participants.csv", index=False)
    items = hads_rows()
    items.loc[2, "q2"] = 7  # row 4 of the sheet (header on row 1), column D (q2)
    _workbook(tmp_path / "raw" / "visits.xlsx", {"SF36": roster(), "HADS": items})
    assert problems_of(study) == [
        "raw/visits.xlsx, sheet 'HADS', cell D4, column 'q2': got '7'; expected one of "
        "0, 1, 2, 3 or blank"
    ]


def test_excel_sheet_must_be_declared_in_a_workbook_of_several(tmp_path, monkeypatch):
    study = study_in(tmp_path, monkeypatch, hads_file="visits.xlsx")
    roster().to_csv(tmp_path / "raw" / "participants.csv", index=False)
    _workbook(tmp_path / "raw" / "visits.xlsx", {"SF36": roster(), "HADS": hads_rows()})
    assert problems_of(study) == [
        "raw/visits.xlsx; expected a declared sheet: the workbook has 2 sheets ('SF36', "
        "'HADS'); name the one to read with sheet: in the config"
    ]
    study = study_in(tmp_path, monkeypatch, hads_file="visits.xlsx", hads_sheet="hads")
    assert problems_of(study) == [
        "raw/visits.xlsx; expected a sheet named 'hads' (did you mean 'HADS'?); the workbook "
        "has 'SF36', 'HADS'"
    ]


def test_excel_header_faults_name_their_cells(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.title = "Data"
    sheet.append(["participant_id", "visit", "q1", "q1"])
    sheet.append(["P1", "baseline", 1, 2, 5])  # E2 holds a value under no header
    book.save(tmp_path / "x.xlsx")
    problems = [str(p) for p in read_table(tmp_path / "x.xlsx").problems]
    assert problems == [
        f"{tmp_path / 'x.xlsx'}, sheet 'Data', cell D1, column 'q1': got 'q1'; expected each "
        "column name once; 'q1' is also in cell C1",
        f"{tmp_path / 'x.xlsx'}, sheet 'Data', cell E2: got 5; expected a header in cell E1 "
        "for the values of column E",
    ]


def test_two_files_of_one_name_must_be_declared(tmp_path, monkeypatch):
    study = study_in(tmp_path, monkeypatch)
    roster().to_csv(tmp_path / "raw" / "participants.csv", index=False)
    _write(roster(), tmp_path / "raw" / "participants.sav")
    hads_rows().to_csv(tmp_path / "raw" / "hads.csv", index=False)
    assert problems_of(study) == [
        "raw; expected one file named participants.<ext>; found participants.csv, "
        "participants.sav (trialflow reads participants.csv): declare which one with "
        "roster.file in the study config"
    ]


def test_roster_file_and_sheet_are_declared_in_the_study(tmp_path, monkeypatch):
    study = study_in(tmp_path, monkeypatch, roster={"file": "trial.xlsx", "sheet": "People"})
    _workbook(tmp_path / "raw" / "trial.xlsx", {"People": roster(), "HADS": hads_rows()})
    hads_rows().to_parquet(tmp_path / "raw" / "hads.parquet")
    validated = validate_inputs(study)
    assert validated.participants["participant_id"].tolist() == ["U1", "T1"]
    assert validated.instruments["hads"]["source_file"].iloc[0] == "raw/hads.parquet"


# ------------------------------------------------------------------- CSV dialects


def test_declared_encoding_and_european_dialect(tmp_path, monkeypatch):
    grip = {"label": "Grip", "unit": "kg", "higher_is_better": True, "min": 0, "max": 100}
    study = study_in(
        tmp_path,
        monkeypatch,
        csv={"encoding": "cp1252", "delimiter": ";", "decimal": ","},
        instruments={"grip": {"type": "measures", "measures": {"grip_kg": grip}}},
    )
    (tmp_path / "raw" / "participants.csv").write_bytes(
        "participant_id;arm;site\nU1;usual;Münster\nT1;training;Köln\n".encode("cp1252")
    )
    grip_csv = tmp_path / "raw" / "grip.csv"
    grip_csv.write_bytes(b"participant_id;visit;grip_kg\nU1;baseline;21,5\nU1;week8;300,5\n")
    # the cell as typed, not the 300.5 it was read as
    assert problems_of(study) == [
        "raw/grip.csv, row 3, column 'grip_kg': got '300,5'; expected a number from 0 to 100 or blank"
    ]
    grip_csv.write_bytes(b"participant_id;visit;grip_kg\nU1;baseline;21,5\nU1;week8;2,5x\n")
    assert problems_of(study) == [
        "raw/grip.csv, row 3, column 'grip_kg': got '2,5x'; expected a number from 0 to 100"
    ]
    grip_csv.write_bytes(
        b"participant_id;visit;grip_kg\nU1;baseline;21,5\nU1;week8;+0,25e1\nT1;baseline;,5\n"
    )
    validated = validate_inputs(study)
    assert validated.instruments["grip"]["grip_kg"].tolist() == [21.5, 2.5, 0.5]
    assert validated.participants["site"].tolist() == ["Münster", "Köln"]


def test_undeclared_encoding_and_delimiter_advise_declaring_them(tmp_path):
    path = tmp_path / "participants.csv"
    path.write_bytes("participant_id,site\nU1,Münster\n".encode("cp1252"))
    (problem,) = read_table(path).problems
    assert problem.expected.endswith(
        "save it as 'CSV UTF-8 (comma delimited)', or declare the encoding in the study "
        "config (csv: {encoding: cp1252} for a Windows export)"
    )
    assert problem.value == "Münster"
    assert read_table(path, dialect=Dialect(encoding="cp1252")).frame["site"].tolist() == [
        "Münster"
    ]
    path.write_text("participant_id;site\nU1;x\n")
    (problem,) = read_table(path).problems
    assert problem.expected == (
        "columns separated by commas; the header has no comma but semicolons: save it as "
        "'CSV UTF-8 (comma delimited)', or declare it in the study config (csv: {delimiter: "
        '";", decimal: ","})'
    )


def test_a_config_declares_only_what_it_can_read():
    from trialflow.config_rules import reading_problems

    raw = yaml.safe_load(textwrap.dedent(STUDY))["studies"]["tiny"]
    raw["csv"] = {"encoding": "klingon", "decimal": ","}
    raw["instruments"]["hads"].update(
        file="hads.ods", sheet="HADS", layout="wide", visit_map={"w0": "week0"}
    )
    assert reading_problems("studies.tiny", raw) == [
        "studies.tiny.csv.encoding: 'klingon' is not an encoding Python knows (e.g. utf-8, "
        "cp1252, latin-1)",
        "studies.tiny.csv.decimal: a decimal comma needs another delimiter (csv.delimiter: ';')",
        "studies.tiny.instruments.hads.file: 'hads.ods' is not a readable type; trialflow reads "
        ".csv, .tsv, .xlsx, .sav, .dta, .sas7bdat, .xpt, .parquet files and folders of .csv "
        "files",
        "studies.tiny.instruments.hads.sheet: a sheet is read from a workbook (.xlsx); "
        "'hads.ods' is not one",
        "studies.tiny.instruments.hads.column_pattern: a wide layout names each column by item "
        "and visit, e.g. '{item}_{visit}'; '{item}' has no {visit}",
        "studies.tiny.instruments.hads.visit_map.w0: 'week0' is not one of the visits "
        "baseline, week8 (did you mean 'week8'?)",
    ]
