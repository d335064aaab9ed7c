"""Reading raw CSVs as a data manager's files come: every fault a clear problem, never a
traceback, rows numbered by the line on which the record starts (issue 10, classes 3 and 4)."""

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialflow.errors import InputError
from trialflow.io import raw_input_files, read_csv_input, read_raw_input, select_folder_files
from trialflow.rawcsv import parse_csv_bytes

HEADER = b"participant_id,visit,time_s\n"


def _one_problem(data: bytes, name: str = "tug.csv"):
    read = parse_csv_bytes(data, name)
    assert len(read.problems) == 1, read.problems
    return read, read.problems[0]


def test_utf8_with_and_without_byte_order_mark_read_alike():
    plain = parse_csv_bytes(HEADER + b"P1,baseline,10\n", "a.csv").frame
    marked = parse_csv_bytes(codecs.BOM_UTF8 + HEADER + b"P1,baseline,10\n", "a.csv").frame
    assert list(marked.columns) == list(plain.columns)  # no "\ufeffparticipant_id"
    assert marked.drop(columns="source_file").equals(plain.drop(columns="source_file"))


def test_latin1_bytes_name_the_byte_line_and_cell_and_echo_the_text():
    data = "participant_id,visit,time_s\nP1,baseline,10\nP2,baseline,1Ø\n".encode("latin-1")
    read, problem = _one_problem(data)
    assert read.frame is None
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "tug.csv",
        3,
        "time_s",
        "1Ø",  # as typed, not '1\\xd8'
    )
    offset = data.index(b"\xd8")
    assert f"byte {offset} (line 3) is 0xD8, which is not UTF-8" in problem.expected


@pytest.mark.parametrize("encoding, name", [("utf-16", "UTF-16"), ("utf-32", "UTF-32")])
def test_utf16_and_utf32_files_are_named(encoding, name):
    _, problem = _one_problem((HEADER + b"P1,baseline,10\n").decode().encode(encoding))
    assert problem.expected.startswith(f"UTF-8 text; the file is {name}")


def test_utf16_without_byte_order_mark_is_a_nul_byte_problem():
    data = (HEADER + b"P1,baseline,10\n").decode().encode("utf-16-le")
    _, problem = _one_problem(data)
    assert problem.row == 1 and "byte 1 (line 1) is a NUL byte" in problem.expected


def test_an_excel_workbook_renamed_csv_is_named():
    _, problem = _one_problem(b"PK\x03\x04\x14\x00rest of a zip")
    assert "Excel workbook (.xlsx) renamed to .csv" in problem.expected


@pytest.mark.parametrize(
    "data, what", [(b"", "the file is empty (0 bytes)"), (b"\n\r\n", "only blank lines")]
)
def test_an_empty_file_is_a_problem(data, what):
    _, problem = _one_problem(data)
    assert problem.row is None and "a header row" in problem.expected and what in problem.expected


def test_a_row_with_an_extra_field_names_row_and_the_extra_cells():
    read, problem = _one_problem(HEADER + b"P1,baseline,10,5\nP2,baseline,11\n")
    assert (problem.row, problem.value) == (2, "5")
    assert "3 fields as in the header; got 4" in problem.expected
    assert read.frame["participant_id"].tolist() == ["P2"]  # the good row is still checked


def test_a_trailing_comma_on_data_rows_only_is_reported_per_row():
    read = parse_csv_bytes(HEADER + b"P1,baseline,10,\nP2,baseline,11,\n", "tug.csv")
    assert [(p.row, p.value) for p in read.problems] == [(2, None), (3, None)]
    assert "the line ends with 1 comma(s) too many" in read.problems[0].expected


def test_a_trailing_comma_in_the_header_is_not_called_unnamed():
    _, problem = _one_problem(b"participant_id,visit,time_s,\nP1,baseline,10,\n")
    assert problem.row == 1
    assert "the header ends with 1 comma(s) too many (column 4 has no name)" in (problem.expected)
    assert "Unnamed" not in str(problem)


def test_a_duplicated_column_is_called_a_duplicate():
    _, problem = _one_problem(b"participant_id,visit,q5,q4,q5\nP1,baseline,1,2,3\n")
    assert (problem.row, problem.column) == (1, "q5")
    assert "'q5' is a duplicate column (columns 3 and 5 of the header)" in problem.expected
    assert "q5.1" not in str(problem)


def test_a_semicolon_separated_file_is_named():
    _, problem = _one_problem(b"participant_id;visit;time_s\nP1;baseline;10\n")
    assert "the header has no comma but semicolons" in problem.expected


def test_an_unclosed_quote_names_the_line_it_opens_on():
    _, problem = _one_problem(HEADER + b'P1,baseline,10\nP2,baseline,"11\nP3,baseline,12\n')
    assert problem.row == 3 and "never closed" in problem.expected


def test_rows_are_the_lines_records_start_on_after_blank_lines_and_multiline_cells():
    data = (
        b"participant_id,visit,note\n"
        b"P1,baseline,one\n"
        b"\n"  # line 3: blank
        b'P2,baseline,"two\nlines"\n'  # lines 4-5
        b"P3,baseline,three\r\n"  # line 6
        b",,\n"  # line 7: only commas, a blank row
        b"P4,baseline,four\n"  # line 8
    )
    frame = parse_csv_bytes(data, "x.csv").frame
    assert frame["participant_id"].tolist() == ["P1", "P2", "P3", "P4"]
    assert frame["source_row"].tolist() == [2, 4, 6, 8]
    assert frame["note"].tolist()[1] == "two\nlines"


def test_cells_keep_their_text_and_missing_spellings_are_blank():
    frame = parse_csv_bytes(HEADER + b"P1,baseline, 007 \nP2,baseline,NA\n", "x.csv").frame
    assert frame["time_s"].tolist()[0] == "007"
    assert frame["time_s"].isna().tolist() == [False, True]


# ----------------------------------------------------------------------- instrument folders


def _folder(tmp_path):
    folder = tmp_path / "tug"
    folder.mkdir()
    (folder / "K0001.csv").write_text("participant_id,visit,time_s\nK0001,baseline,9\n")
    (folder / "K0007.CSV").write_text("participant_id,visit,time_s\nK0007,baseline,8\n")
    (folder / "~$K0005.csv").write_bytes(b"\x00\x01lock")
    (folder / ".~lock.K0001.csv#").write_text("lock")
    (folder / ".DS_Store").write_bytes(b"\x00")
    (folder / "notes.txt").write_text("device notes")
    (folder / "old").mkdir()
    return folder


def test_folder_files_are_chosen_by_one_rule_and_skips_say_why(tmp_path):
    folder = _folder(tmp_path)
    files, skipped = select_folder_files(folder)
    assert [f.name for f in files] == ["K0001.csv", "K0007.CSV"]
    reasons = {s.path.name: s.reason for s in skipped}
    assert reasons["~$K0005.csv"].startswith("an Excel lock file")
    assert reasons[".~lock.K0001.csv#"].startswith("a LibreOffice lock file")
    assert reasons[".DS_Store"] == "a hidden file"
    assert reasons["notes.txt"] == "not a .csv file"
    assert reasons["old"].startswith("a sub-folder")
    read = read_raw_input(folder)
    assert read.problems == []
    assert read.frame["participant_id"].tolist() == ["K0001", "K0007"]
    assert [s.path.name for s in read.skipped] == sorted(reasons)


def test_the_input_hashes_cover_exactly_the_files_the_reader_reads(tmp_path, monkeypatch):
    from helpers.studies import make_study

    from trialflow.provenance import input_records

    _folder(tmp_path)
    (tmp_path / "participants.csv").write_text("participant_id,arm\nK0001,a\nK0007,a\n")
    study = make_study("s", ["a"], instruments=[("tug", "tug")], data_dir=str(tmp_path))
    monkeypatch.chdir(tmp_path)
    recorded = {path.rsplit("/", 1)[-1] for path in input_records(study)}
    assert recorded == {"participants.csv", "K0001.csv", "K0007.CSV"}
    assert {p.name for p in raw_input_files(study)} == recorded


def test_a_folder_of_only_skipped_files_says_what_was_skipped(tmp_path):
    folder = tmp_path / "tug"
    folder.mkdir()
    (folder / "~$K1.csv").write_text("x")
    with pytest.raises(
        InputError, match=r"at least one \.csv file in the folder \(skipped: ~\$K1"
    ):
        read_csv_input(folder)


def test_a_missing_file_names_the_near_miss(tmp_path):
    (tmp_path / "Tug.txt").write_text("x")
    with pytest.raises(InputError, match=r"an existing CSV file \(found Tug.txt\)"):
        read_csv_input(tmp_path / "tug.csv")


# The plain-file shortcut (Arrow's string kernels) against the general reader (Python's csv
# module, record by record): the same frame, or no shortcut at all.
_plain_pieces = st.sampled_from(list("ab ,\t\n") + ["\r\n", "NA", "é", "\xa0", '"'])
_plain_cells = st.lists(_plain_pieces, max_size=12).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.lists(_plain_cells, min_size=1, max_size=6).map("\n".join))
def test_plain_file_shortcut_reads_as_the_csv_module(text):
    from trialflow import rawcsv

    data = ("id,x , y\n" + text).encode("utf-8")
    shortcut = rawcsv._plain_frame(data.decode("utf-8"), "f.csv", ",")
    general = rawcsv._general_frame(data.decode("utf-8"), data, "f.csv", ",", utf8=True)
    if shortcut is None:  # not plain, or a problem to report: the general reader's to do
        return
    assert not general.problems
    assert shortcut.frame.equals(general.frame)
    assert list(shortcut.frame.columns) == list(general.frame.columns)
    assert (shortcut.frame.dtypes == general.frame.dtypes).all()
