"""Reading raw CSVs and writing outputs byte-for-byte deterministically."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from trialflow.errors import InputError, InputProblem

if TYPE_CHECKING:
    from trialflow.config import Study

#: Columns added to every frame read from a CSV, so problems can name the file and line.
SOURCE_COLUMNS = ("source_file", "source_row")

# Only an empty cell (or the usual spellings of "not available") is missing; "None" or "n/a"
# typed into a questionnaire cell is a value and is reported if it is not an allowed answer.
_MISSING = ["", "NA", "NaN", "nan"]

#: the roster's file name inside a study's ``data_dir``
ROSTER_FILE = "participants.csv"


def raw_input_paths(study: Study) -> dict[str, Path]:
    """The roster and each instrument's CSV file or directory, as the config places them.

    Keys are ``participants`` and the instrument ids; paths are as given in the config
    (relative to the working directory unless absolute).
    """
    data_dir = Path(study.data_dir)
    paths = {"participants": data_dir / ROSTER_FILE}
    for spec in study.instruments:
        paths[spec.id] = spec.path(data_dir)
    return paths


def instrument_files(path: str | Path) -> list[Path]:
    """The files an instrument directory contributes, in the order they are concatenated."""
    return sorted(Path(path).glob("*.csv"))


def raw_input_files(study: Study) -> list[Path]:
    """Every raw file the study reads: the roster and every instrument file."""
    files = []
    for path in raw_input_paths(study).values():
        files.extend(instrument_files(path) if path.is_dir() else [path])
    return files


def read_csv_input(path: str | Path) -> pd.DataFrame:
    """Read one raw CSV, or a directory of CSVs with the same columns, as text.

    Every cell is read as a string (or missing), so validation can report the value exactly
    as it was typed. Two columns are added: ``source_file`` (the path as given) and
    ``source_row`` (1-based line number, header = line 1).

    Parameters
    ----------
    path : str or Path
        A ``.csv`` file, or a directory whose ``*.csv`` files are concatenated in name order
        (one-file-per-participant device exports).

    Returns
    -------
    pandas.DataFrame
    """
    path = Path(path)
    if path.is_dir():
        files = instrument_files(path)
        if not files:
            raise InputError([InputProblem(str(path), None, None, None, "at least one .csv file")])
        frame = _read_alike(files)
        if frame is not None:
            return frame
        frames = [_read_one(file) for file in files]
        columns = list(frames[0].columns)
        problems = [
            InputProblem(
                str(file),
                1,
                None,
                ",".join(c for c in f.columns if c not in SOURCE_COLUMNS),
                "the same header as " + str(files[0]),
            )
            for file, f in zip(files, frames, strict=True)
            if list(f.columns) != columns
        ]
        if problems:
            raise InputError(problems)
        return pd.concat(frames, ignore_index=True)
    if not path.is_file():
        raise InputError([InputProblem(str(path), None, None, None, "an existing CSV file")])
    return _read_one(path)


def _read_one(path: Path) -> pd.DataFrame:
    frame = _parse(path)
    frame["source_file"] = str(path)
    frame["source_row"] = range(2, len(frame) + 2)
    return frame


def _parse(source) -> pd.DataFrame:
    frame = pd.read_csv(
        source, dtype=str, keep_default_na=False, na_values=_MISSING, skipinitialspace=True
    )
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.apply(lambda col: col.str.strip())


# What the one-parse shortcut cannot split back into files: a quote may hide a line break, a
# blank (or whitespace-only) line is skipped by the parser, a lone carriage return ends a line.
_NOT_ONE_ROW_PER_LINE = re.compile(rb'"|\r(?!\n)|(?:^|\n)[ \t]*\r?\n')


def _read_alike(files: list[Path]) -> pd.DataFrame | None:
    """A directory of CSVs (one per participant, say) read with one parse instead of one per
    file: the same frame as reading each file and concatenating, or None when the files are
    not plain enough to be sure (then they are read one by one, with the usual messages).

    Plain: the same header line in every file, and one data row per line (no quotes, blank
    lines or lone carriage returns, no more fields than the header), each file ending in a
    line break.
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
    rows = np.array([body.count(b"\n") for body in bodies])
    joined = b"".join(bodies)
    # a line with more fields than the header makes pandas take the first column as the index
    # of that file: leave such files to the file-by-file reading
    characters = np.frombuffer(joined, dtype=np.uint8)
    commas = np.flatnonzero(characters == ord(","))
    line_ends = np.flatnonzero(characters == ord("\n"))
    if np.diff(np.searchsorted(commas, line_ends), prepend=0).max() > header.count(b","):
        return None
    try:
        frame = _parse(io.BytesIO(header + joined))
    except (pd.errors.ParserError, UnicodeDecodeError):
        return None  # a malformed file: let the file-by-file reading report it
    if len(frame) != rows.sum():
        return None
    frame["source_file"] = pd.array(np.repeat([str(file) for file in files], rows), dtype="str")
    # 2, 3, ... within each file (header = line 1)
    starts = np.repeat(np.cumsum(rows) - rows, rows)
    frame["source_row"] = np.arange(len(frame)) - starts + 2
    return frame


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a CSV that is byte-identical for identical data: full precision, ``\\n`` endings."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, float_format="%.10g", lineterminator="\n")


def write_parquet(frame: pd.DataFrame, path: str | Path) -> None:
    """Write parquet without the pandas index (so row labels never leak into the file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.reset_index(drop=True).to_parquet(path, index=False)


def read_parquet(path: str | Path) -> pd.DataFrame:
    return pd.read_parquet(path)
