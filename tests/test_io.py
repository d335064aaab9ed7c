"""Reading raw CSVs (file or directory) and deterministic writing."""

import pandas as pd
import pytest

from trialflow.errors import InputError
from trialflow.io import read_csv_input, read_raw_input, write_csv, write_parquet


def test_reads_text_cells_with_source_rows(tmp_path):
    path = tmp_path / "tug.csv"
    path.write_text("participant_id,visit,time_s\nK1,baseline, 10.5\nK1,week12,\n")
    frame = read_csv_input(path)
    assert frame["time_s"].tolist()[0] == "10.5"  # kept as typed, whitespace stripped
    assert pd.isna(frame["time_s"].tolist()[1])
    assert frame["source_row"].tolist() == [2, 3]
    assert frame["source_file"].unique().tolist() == [str(path)]


def test_directory_of_participant_files_is_concatenated_in_name_order(tmp_path):
    folder = tmp_path / "tug"
    folder.mkdir()
    (folder / "K2.csv").write_text("participant_id,visit,time_s\nK2,baseline,11\n")
    (folder / "K1.csv").write_text("participant_id,visit,time_s\nK1,baseline,9\nK1,week12,8\n")
    frame = read_csv_input(folder)
    assert frame["participant_id"].tolist() == ["K1", "K1", "K2"]
    assert frame["source_row"].tolist() == [2, 3, 2]
    assert frame["source_file"].tolist() == [str(folder / "K1.csv")] * 2 + [str(folder / "K2.csv")]


def test_directory_files_must_share_a_header(tmp_path):
    folder = tmp_path / "tug"
    folder.mkdir()
    (folder / "K1.csv").write_text("participant_id,visit,time_s\nK1,baseline,9\n")
    (folder / "K2.csv").write_text("participant_id,visit,seconds\nK2,baseline,11\n")
    with pytest.raises(InputError, match=r"K2.csv, row 1"):
        read_csv_input(folder)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="expected an existing CSV file"):
        read_csv_input(tmp_path / "absent.csv")


def test_writes_are_byte_identical(tmp_path):
    frame = pd.DataFrame({"a": [1 / 3, 2.0], "b": ["x", "y"]})
    write_csv(frame, tmp_path / "one.csv")
    write_csv(frame, tmp_path / "two.csv")
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()
    assert (tmp_path / "one.csv").read_text() == "a,b\n0.3333333333,x\n2,y\n"
    write_parquet(frame, tmp_path / "one.parquet")
    write_parquet(frame, tmp_path / "two.parquet")
    assert (tmp_path / "one.parquet").read_bytes() == (tmp_path / "two.parquet").read_bytes()


HEADER = b"participant_id,visit,time_s\n"
DIRECTORY_CASES = {
    "plain": [HEADER + b"K1,baseline,9\nK1,week12,8\n", HEADER + b"K2,baseline,11\n"],
    "spaces_and_blanks": [HEADER + b" K1 , baseline , 9 \nK1,week12,\n", HEADER + b"K2,,NA\n"],
    "crlf": [HEADER.replace(b"\n", b"\r\n") + b"K1,baseline,9\r\n"] * 2,
    "short_rows": [HEADER + b"K1,baseline\n", HEADER + b"K2\n,,\n"],
    # not one row per line: read file by file
    "blank_line": [HEADER + b"K1,baseline,9\n\nK1,week12,4\n", HEADER + b"K2,baseline,3\n"],
    "quoted_line_break": [HEADER + b'K1,baseline,"9\n"\n', HEADER + b"K2,baseline,3\n"],
    "no_final_line_break": [HEADER + b"K1,baseline,9", HEADER + b"K2,baseline,3\n"],
    "header_only": [HEADER, HEADER + b"K2,baseline,3\n"],
    # more fields than the header: pandas makes the first column that file's index
    "long_row": [HEADER + b"K1,baseline,9,9\n", HEADER + b"K2,baseline,3\n"],
}


@pytest.mark.parametrize("case", DIRECTORY_CASES)
def test_directory_reads_as_its_files_one_by_one(tmp_path, case):
    """Plain directories are parsed in one go (100,000 device files in seconds); the frame and
    the problems are the ones reading each file on its own and concatenating gives, cell for
    cell and type for type, whichever way it is read."""
    folder = tmp_path / "tug"
    folder.mkdir()
    for i, content in enumerate(DIRECTORY_CASES[case]):
        (folder / f"P{i:03d}.csv").write_bytes(content)
    together = read_raw_input(folder)
    parts = [read_raw_input(file) for file in sorted(folder.glob("*.csv"))]
    assert [str(p) for p in together.problems] == [str(p) for r in parts for p in r.problems]
    frames = [r.frame for r in parts if r.frame is not None]
    one_by_one = pd.concat(frames, ignore_index=True)
    pd.testing.assert_frame_equal(together.frame, one_by_one)
    assert together.frame.dtypes.to_dict() == one_by_one.dtypes.to_dict()
