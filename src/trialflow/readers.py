"""One raw table file of any supported format as text cells, like the CSV reader gives.

The format is chosen by the file's extension (:data:`READERS`): CSV and TSV
(:mod:`trialflow.rawcsv`), Excel workbooks (``.xlsx``, openpyxl; one named sheet), SPSS
(``.sav``), Stata (``.dta``) and SAS (``.sas7bdat``, transport ``.xpt``) through pyreadstat,
and parquet (pyarrow). Every reader returns the same frame: one column per variable, each cell
the text a person would see for its value, then ``source_file`` and ``source_row``.

What "the text a person would see" means for typed values: a number is written in the
shortest form that reads back as the same double (``7`` not ``7.0``, ``2.45``, ``1e-07``),
so the text is exact and parses to the value stored; a date is ISO 8601; a text is as stored
(whitespace stripped). Codes stay codes: a value label never replaces a value here. The
labels, the file's own user-missing codes (SPSS missing values, Stata ``.a``-``.z``, SAS
``.A``-``.Z``) and, for a workbook, the sheet and column letters are returned beside the frame
(:class:`~trialflow.sources.FileCells`): :mod:`trialflow.layouts` uses labels only for text
columns and blanks user-missing codes (counted in ``data_quality.csv``), and
:mod:`trialflow.sources` names the cell of a problem as the file shows it.

Rows: the line on which a CSV record starts (header = 1), the sheet row of a workbook, and
the record number (first record = 1, as SPSS's Data View, Stata's ``_n`` and SAS's ``_N_``
count them) of the other formats.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from trialflow.errors import InputProblem
from trialflow.rawcsv import DEFAULT_DIALECT, MISSING_SPELLINGS, Dialect, read_csv_file
from trialflow.sources import FileCells

__all__ = ["READERS", "TABLE_EXTENSIONS", "TableRead", "cell_text", "read_table", "text_column"]


@dataclass(frozen=True)
class TableRead:
    """One file as read: its text frame (None when it cannot be read as a table), the
    problems, and what the reader knows about its cells."""

    frame: pd.DataFrame | None
    problems: list[InputProblem]
    cells: FileCells = field(default_factory=FileCells)


def cell_text(value: object) -> str | None:
    """The text of one typed cell; None for a missing one.

    Integral numbers without a decimal point (``7``), other numbers in the shortest form
    that reads back as the same double, dates in ISO 8601, booleans as Excel shows them.
    """
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        value = float(value)
        if math.isnan(value):
            return None
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime | pd.Timestamp):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    text = str(value).strip()
    return None if text in MISSING_SPELLINGS else text


def text_column(values: pd.Series) -> pd.Series:
    """A typed column as text cells (:func:`cell_text`), one call per distinct value."""
    if pd.api.types.is_float_dtype(values.dtype):
        numbers = values.to_numpy(dtype=float)
        integral = np.isfinite(numbers) & (np.mod(numbers, 1) == 0) & (np.abs(numbers) < 1e15)
        out = np.full(len(numbers), None, dtype=object)
        out[integral] = numbers[integral].astype(np.int64).astype(str)
        other = ~integral & ~np.isnan(numbers)
        out[other] = [repr(float(v)) for v in numbers[other]]
        return pd.Series(out, index=values.index, dtype="str")
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    texts = np.array([cell_text(v) for v in distinct] + [None], dtype=object)
    return pd.Series(texts[codes], index=values.index, dtype="str")


def read_table(
    path: str | Path,
    label: str | None = None,
    *,
    sheet: str | None = None,
    dialect: Dialect = DEFAULT_DIALECT,
) -> TableRead:
    """Read one raw table file, choosing the reader by its extension (any case).

    Parameters
    ----------
    path : str or Path
    label : str, optional
        How messages and ``source_file`` name the file (default: ``path``).
    sheet : str, optional
        The worksheet of a workbook (needed when it has more than one).
    dialect : Dialect, optional
        Declared encoding, delimiter and decimal mark of a CSV (a TSV is tab-delimited).

    Returns
    -------
    TableRead
    """
    path = Path(path)
    label = str(path) if label is None else label
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        expected = "a file of a readable type (" + ", ".join(TABLE_EXTENSIONS) + ")"
        return TableRead(None, [InputProblem(label, None, None, None, expected)])
    if sheet is not None and path.suffix.lower() != ".xlsx":
        expected = f"a workbook (.xlsx) for the declared sheet '{sheet}'"
        return TableRead(None, [InputProblem(label, None, None, None, expected)])
    try:
        return reader(path, label, sheet=sheet, dialect=dialect)
    except Exception as error:  # a damaged or mislabelled file is the user's to fix
        what = f"a readable {path.suffix.lower()} file ({type(error).__name__}: {error})"
        return TableRead(None, [InputProblem(label, None, None, None, what)])


def _read_csv(path: Path, label: str, *, sheet, dialect: Dialect) -> TableRead:
    if path.suffix.lower() == ".tsv":
        dialect = Dialect(dialect.encoding, "\t", dialect.decimal)
    read = read_csv_file(path, label, dialect)
    if dialect.decimal == "." or read.frame is None:
        return TableRead(read.frame, read.problems)
    # the cells as typed (3,5), for messages: the frame holds 3.5
    typed = read_csv_file(path, label, Dialect(dialect.encoding, dialect.delimiter))
    return TableRead(read.frame, read.problems, FileCells(cells=typed.frame))


def _frame_from_columns(
    columns: dict[str, pd.Series], label: str, rows: np.ndarray
) -> pd.DataFrame:
    frame = pd.DataFrame({name: text_column(values) for name, values in columns.items()})
    frame = frame.reset_index(drop=True)
    frame["source_file"] = label
    frame["source_row"] = pd.Series(rows, dtype="int64")
    return frame


def _typed_frame(data: pd.DataFrame, label: str) -> pd.DataFrame:
    columns = {str(name): data[name] for name in data.columns}
    return _frame_from_columns(columns, label, np.arange(1, len(data) + 1))


def _name_problems(names: list[str], label: str) -> list[InputProblem]:
    problems = []
    seen: set[str] = set()
    for position, name in enumerate(names):
        if not name:
            problems.append(
                InputProblem(label, None, None, None, f"a name for column {position + 1}")
            )
        elif name in seen:
            problems.append(
                InputProblem(label, None, name, name, f"each column name once; '{name}' repeats")
            )
        seen.add(name)
    return problems


# --------------------------------------------------------------------- SPSS, Stata, SAS


def _read_statistical(path: Path, label: str, *, sheet, dialect: Dialect) -> TableRead:
    import pyreadstat

    suffix = path.suffix.lower()
    if suffix == ".xpt":  # the transport format keeps no user-missing codes apart
        data, meta = pyreadstat.read_xport(str(path))
    else:
        read = {
            ".sav": pyreadstat.read_sav,
            ".dta": pyreadstat.read_dta,
            ".sas7bdat": pyreadstat.read_sas7bdat,
        }[suffix]
        data, meta = read(str(path), user_missing=True)
    problems = _name_problems([str(c) for c in data.columns], label)
    if problems:
        return TableRead(None, problems)
    frame = _typed_frame(data, label)
    labels = {
        str(column): {cell_text(code): str(text) for code, text in mapping.items()}
        for column, mapping in (meta.variable_value_labels or {}).items()
    }
    user_missing = _user_missing(frame, meta, labels, suffix)
    return TableRead(frame, [], FileCells(labels=labels, user_missing=user_missing))


_MISSING_STYLE = {".dta": ("Stata", "."), ".sas7bdat": ("SAS", "."), ".sav": ("SPSS", "")}


def _user_missing(
    frame: pd.DataFrame, meta, labels: dict[str, dict[str, str]], suffix: str
) -> dict[str, dict[str, str]]:
    """Per column, the cells' texts that are the file's own user-missing codes, each with how
    the file shows it (``.a``, ``9``) and its label: SPSS missing values and ranges, Stata
    and SAS special missing values (pyreadstat returns them as letters)."""
    program, prefix = _MISSING_STYLE.get(suffix, ("", ""))
    found: dict[str, dict[str, str]] = {}
    types = meta.readstat_variable_types or {}
    ranges = meta.missing_ranges or {}
    for column in frame.columns.difference(["source_file", "source_row"]):
        texts = frame[column].dropna().unique()
        if suffix == ".sav":
            codes = [t for t in texts if _in_ranges(t, ranges.get(column, ()))]
        elif types.get(column) not in ("string", None):
            codes = [t for t in texts if _is_letter_code(t)]
        else:
            codes = []
        for code in sorted(codes):
            label = labels.get(column, {}).get(code)
            shown = prefix + code
            what = f"{program} user-missing value {shown}" + (f" ({label!r})" if label else "")
            found.setdefault(column, {})[code] = what
    return found


def _is_letter_code(text: str) -> bool:
    return len(text) == 1 and (text.isalpha() or text == "_")


def _in_ranges(text: str, ranges) -> bool:
    for bounds in ranges:
        low, high = bounds["lo"], bounds["hi"]
        if isinstance(low, str):
            if low <= text <= high:
                return True
            continue
        try:
            number = float(text)
        except ValueError:
            continue
        if low <= number <= high:
            return True
    return False


# --------------------------------------------------------------------------- parquet


def _read_parquet(path: Path, label: str, *, sheet, dialect: Dialect) -> TableRead:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    names = [str(name) for name in table.column_names]
    problems = _name_problems(names, label)
    if problems:
        return TableRead(None, problems)
    columns = {name: table.column(i).to_pandas() for i, name in enumerate(names)}
    return TableRead(_frame_from_columns(columns, label, np.arange(1, table.num_rows + 1)), [])


# ----------------------------------------------------------------------------- Excel


def _read_xlsx(path: Path, label: str, *, sheet: str | None, dialect: Dialect) -> TableRead:
    from trialflow.workbook import read_sheet

    return read_sheet(path, label, sheet)


READERS: dict[str, Callable[..., TableRead]] = {
    ".csv": _read_csv,
    ".tsv": _read_csv,
    ".xlsx": _read_xlsx,
    ".sav": _read_statistical,
    ".dta": _read_statistical,
    ".sas7bdat": _read_statistical,
    ".xpt": _read_statistical,
    ".parquet": _read_parquet,
}
#: the extensions trialflow reads, in the order a file found by name is preferred
TABLE_EXTENSIONS = tuple(READERS)
