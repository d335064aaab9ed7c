"""Reading raw inputs (any table format, or a folder of CSVs) and writing outputs
byte-for-byte deterministically."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from trialflow.csv_text import csv_text
from trialflow.errors import InputError, InputProblem
from trialflow.rawcsv import DEFAULT_DIALECT, Dialect, parse_csv_bytes, read_csv_file
from trialflow.readers import TABLE_EXTENSIONS, read_table
from trialflow.safe_text import spreadsheet_safe_frame
from trialflow.sources import FileCells

if TYPE_CHECKING:
    from trialflow.config import Study

#: Columns added to every frame read from a CSV, so problems can name the file and line.
SOURCE_COLUMNS = ("source_file", "source_row")

#: the roster's file name inside a study's ``data_dir`` (any readable extension)
ROSTER_STEM = "participants"
ROSTER_FILE = ROSTER_STEM + ".csv"
#: the optional adverse-event list inside a study's ``data_dir`` (absent: not collected)
ADVERSE_EVENTS_FILE = "adverse_events.csv"
ADVERSE_EVENTS = "adverse_events"


@dataclass(frozen=True)
class SkippedFile:
    """A file of an instrument folder that is not read, and why (shown in data_quality.csv)."""

    path: Path
    reason: str


@dataclass(frozen=True)
class RawInput:
    """One raw input as read: its text frame (None if no file of it could be read as a
    table), the problems found, and the files of a folder that were skipped."""

    frame: pd.DataFrame | None
    problems: list[InputProblem]
    skipped: list[SkippedFile] = field(default_factory=list)
    cells: FileCells = field(default_factory=FileCells)


def raw_input_paths(study: Study) -> dict[str, Path]:
    """The roster and each instrument's file or directory, as the config places them.

    Keys are ``participants``, the instrument ids and, when the file exists,
    ``adverse_events``; paths are as given in the config (relative to the working directory
    unless absolute). The roster is ``roster.file``, else ``participants.<ext>`` of any
    readable type, found by name.
    """
    data_dir = Path(study.data_dir)
    roster = study.roster.file
    paths = {"participants": data_dir / roster if roster else find_table(data_dir, ROSTER_STEM)}
    for spec in study.instruments:
        paths[spec.id] = spec.path(data_dir)
    events = find_file(data_dir, ADVERSE_EVENTS_FILE)
    if events.is_file() and ADVERSE_EVENTS not in paths:  # optional input
        paths[ADVERSE_EVENTS] = events
    return paths


def raw_input_sheets(study: Study) -> dict[str, str | None]:
    """The declared worksheet of each raw input (keys as :func:`raw_input_paths`)."""
    sheets = {"participants": study.roster.sheet}
    sheets.update({spec.id: spec.sheet for spec in study.instruments})
    return sheets


def table_candidates(folder: Path, stem: str) -> list[Path]:
    """Files of ``folder`` named ``<stem>.<ext>`` for a readable extension, any case, in
    the order of :data:`~trialflow.readers.TABLE_EXTENSIONS`."""
    if not folder.is_dir():
        return []
    names = {f"{stem}{ext}".lower(): rank for rank, ext in enumerate(TABLE_EXTENSIONS)}
    found = [p for p in folder.iterdir() if p.name.lower() in names and p.is_file()]
    return sorted(found, key=lambda p: (names[p.name.lower()], p.name))


def find_table(folder: Path, stem: str) -> Path:
    """``<stem>.csv`` of ``folder`` (in any case), else the one ``<stem>.<ext>`` of another
    readable type (``participants.sav``); ``folder / <stem>.csv`` when there is none."""
    csv = find_file(folder, f"{stem}.csv")
    if csv.exists():
        return csv
    found = table_candidates(folder, stem)
    return found[0] if found else csv


def find_file(folder: Path, name: str) -> Path:
    """``folder / name``, or the one file of ``folder`` whose name differs only in case
    (``PARTICIPANTS.CSV`` from a Windows export); ``folder / name`` when there is none."""
    exact = folder / name
    if exact.exists() or not folder.is_dir():
        return exact
    matches = sorted(p for p in folder.iterdir() if p.name.lower() == name.lower())
    return matches[0] if len(matches) == 1 else exact


def select_folder_files(path: str | Path) -> tuple[list[Path], list[SkippedFile]]:
    """Which files of an instrument folder are read, in the order they are concatenated.

    The one rule for the reader and the input hashes (provenance, rerun decisions): files
    directly in the folder whose extension is ``.csv`` in any case (``K0007.CSV``), in name
    order. Skipped, with the reason: Excel and LibreOffice lock files (``~$K0005.csv``,
    ``.~lock.K0005.csv#``), other hidden files, sub-folders and files of other types.
    """
    files, skipped = [], []
    with os.scandir(path) as listing:  # the kind of each entry without a stat per file
        entries = sorted(listing, key=lambda entry: entry.name)
    for entry in entries:
        reason = _skip_reason(entry)
        if reason is None:
            files.append(Path(entry.path))
        else:
            skipped.append(SkippedFile(Path(entry.path), reason))
    return files, skipped


def _skip_reason(entry: os.DirEntry) -> str | None:
    name = entry.name
    if name.startswith("~$"):
        return "an Excel lock file (the file is open in Excel), not data"
    if name.startswith(".~lock."):
        return "a LibreOffice lock file (the file is open in LibreOffice), not data"
    if name.startswith("."):
        return "a hidden file"
    if entry.is_dir():
        return "a sub-folder (only the files directly in the folder are read)"
    if os.path.splitext(name)[1].lower() != ".csv":
        return "not a .csv file"
    return None


def instrument_files(path: str | Path) -> list[Path]:
    """The files an instrument directory contributes, in the order they are concatenated
    (:func:`select_folder_files`)."""
    return select_folder_files(path)[0]


def raw_input_files(study: Study) -> list[Path]:
    """Every raw file the study reads: the roster and every instrument file."""
    files = []
    for path in raw_input_paths(study).values():
        files.extend(instrument_files(path) if path.is_dir() else [path])
    return files


def read_raw_input(
    path: str | Path, *, sheet: str | None = None, dialect: Dialect = DEFAULT_DIALECT
) -> RawInput:
    """Read one raw file of any readable type (:mod:`trialflow.readers`), or a folder of
    CSVs with the same header, as text, without raising.

    Every cell is read as a string (or missing), so validation can report the value exactly
    as it was typed. Two columns are added: ``source_file`` (the path as given) and
    ``source_row`` (the line on which the record starts, header = line 1; the sheet row of a
    workbook; the record number of other types). See :mod:`trialflow.rawcsv` for the
    structural checks of a CSV.
    """
    path = Path(path)
    if path.is_dir():
        return _read_folder(path, dialect)
    if not path.is_file():
        kind = "CSV file" if path.suffix.lower() == ".csv" else "file"
        what = f"an existing {kind}" + _near_miss(path)
        return RawInput(None, [InputProblem(str(path), None, None, None, what)])
    read = read_table(path, sheet=sheet, dialect=dialect)
    return RawInput(read.frame, read.problems, cells=read.cells)


def _near_miss(path: Path) -> str:
    folder = path.parent
    if not folder.is_dir():
        return f" (the folder {folder} does not exist either)"
    stem = path.stem.lower()
    near = sorted(p.name for p in folder.iterdir() if p.stem.lower() == stem)
    return f" (found {', '.join(near)})" if near else ""


def _read_folder(path: Path, dialect: Dialect = DEFAULT_DIALECT) -> RawInput:
    files, skipped = select_folder_files(path)
    if not files:
        expected = "at least one .csv file in the folder"
        if skipped:
            expected += " (skipped: " + ", ".join(s.path.name for s in skipped) + ")"
        return RawInput(None, [InputProblem(str(path), None, None, None, expected)], skipped)
    alike = _read_alike(files, dialect)
    if alike is not None:
        return RawInput(alike, [], skipped)
    problems: list[InputProblem] = []
    frames: list[tuple[Path, pd.DataFrame]] = []
    for file in files:
        read = read_csv_file(file, dialect=dialect)
        problems += read.problems
        if read.frame is not None:
            frames.append((file, read.frame))
    if not frames:
        return RawInput(None, problems, skipped)
    first, columns = frames[0][0], list(frames[0][1].columns)
    for file, frame in frames[1:]:
        if list(frame.columns) != columns:
            header = ",".join(c for c in frame.columns if c not in SOURCE_COLUMNS)
            problems.append(
                InputProblem(str(file), 1, None, header, "the same header as " + str(first))
            )
    same = [frame for _, frame in frames if list(frame.columns) == columns]
    return RawInput(pd.concat(same, ignore_index=True), problems, skipped)


# What the one-parse shortcut cannot split back into files: a quote may hide a line break, a
# blank (or whitespace-only) line is skipped by the parser, a lone carriage return ends a line.
_NOT_ONE_ROW_PER_LINE = re.compile(rb'"|\r(?!\n)|(?:^|\n)[ \t]*\r?\n')


def _read_alike(files: list[Path], dialect: Dialect = DEFAULT_DIALECT) -> pd.DataFrame | None:
    """A folder of CSVs (one per participant, say) read with one parse instead of one per
    file: the same frame as reading each file and concatenating, or None when the files are
    not plain enough to be sure, or hold any problem (then they are read one by one, and
    every problem is reported with its own file and line).

    Plain: the same header line in every file, and one data row per line (no quotes, blank
    lines or lone carriage returns), each file ending in a line break.
    """
    contents = [file.read_bytes() for file in files]
    header = contents[0].partition(b"\n")[0] + b"\n"
    if b'"' in header:
        return None
    bodies = []
    for content in contents:
        if not content.startswith(header) or not content.endswith(b"\n"):
            return None
        body = content[len(header) :]
        if not body or _NOT_ONE_ROW_PER_LINE.search(body):
            return None
        bodies.append(body)
    read = parse_csv_bytes(header + b"".join(bodies), str(files[0]), dialect)
    rows = np.array([body.count(b"\n") for body in bodies])
    if read.problems or read.frame is None or len(read.frame) != rows.sum():
        return None
    frame = read.frame
    frame["source_file"] = pd.array(np.repeat([str(file) for file in files], rows), dtype="str")
    # 2, 3, ... within each file (header = line 1)
    starts = np.repeat(np.cumsum(rows) - rows, rows)
    frame["source_row"] = (np.arange(len(frame)) - starts + 2).astype("int64")
    return frame


def read_csv_input(path: str | Path) -> pd.DataFrame:
    """Read one raw CSV, or a directory of CSVs with the same columns, as text.

    As :func:`read_raw_input`, but raising.

    Raises
    ------
    trialflow.errors.InputError
        Listing every problem found.
    """
    read = read_raw_input(path)
    if read.problems or read.frame is None:
        raise InputError(read.problems)
    return read.frame


#: rows of a frame turned into CSV text at a time by :func:`write_csv_chunks`
CSV_SLICE_ROWS = 200_000


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a CSV that is byte-identical for identical data: full precision, ``\\n`` endings.

    Text cells a spreadsheet would run as a formula get a leading ``'``
    (:func:`trialflow.safe_text.spreadsheet_safe_frame`); numbers never do.
    """
    write_csv_chunks([frame], path)


def write_csv_chunks(frames: Iterable[pd.DataFrame], path: str | Path) -> None:
    """:func:`write_csv` of the frames concatenated, one frame at a time (the header from
    the first), so a table too large to hold at once is written piece by piece: the same
    bytes as the concatenation written whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = True
    with open(path, "wb") as handle:
        for frame in frames:
            # a slice at a time: the text of 7 million rows at once would hold gigabytes
            for start in range(0, max(len(frame), 1), CSV_SLICE_ROWS):
                piece = spreadsheet_safe_frame(frame.iloc[start : start + CSV_SLICE_ROWS])
                handle.write(csv_text(piece, header=header))
                header = False


def write_parquet(frame: pd.DataFrame, path: str | Path) -> None:
    """Write parquet without the pandas index (so row labels never leak into the file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.reset_index(drop=True).to_parquet(path, index=False)


def read_parquet(path: str | Path) -> pd.DataFrame:
    return pd.read_parquet(path)
