"""One raw CSV file as text cells, every structural fault reported as an :class:`InputProblem`.

Files come from Excel exports, device folders and hand edits, so this reader checks what a
general CSV parser silently repairs or turns into a traceback: the encoding (UTF-8, with or
without a byte-order mark; anything else is named, with the first byte that is not UTF-8),
an empty file, a header with a duplicated, empty or trailing (comma) column, another
delimiter, a row with more or fewer fields than the header, an unclosed quote. Row numbers
are the line on which a record starts, so they stay right after blank lines and quoted
cells that span lines. Cells are kept as the text typed (whitespace stripped), so messages
can echo it.

Another encoding, delimiter or decimal mark is read only when the study declares it
(``csv: {encoding: cp1252, delimiter: ";", decimal: ","}``): any byte string decodes as
Latin-1, so an encoding is never guessed. With a decimal comma, a cell that is a number
written with one (``3,5``) is kept as ``3.5`` for the checks; :mod:`trialflow.sources` echoes
the cell as typed in messages.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trialflow.errors import InputProblem

__all__ = [
    "DEFAULT_DIALECT",
    "MISSING_SPELLINGS",
    "CsvText",
    "Dialect",
    "parse_csv_bytes",
    "read_csv_file",
    "with_decimal_points",
]

# Only an empty cell (or the usual spellings of "not available") is missing; "None" or "n/a"
# typed into a questionnaire cell is a value and is reported if it is not an allowed answer.
MISSING_SPELLINGS = frozenset({"", "NA", "NaN", "nan"})

_SAVE_AS = "save it as 'CSV UTF-8 (comma delimited)'"
_DECLARE_ENCODING = (
    ", or declare the encoding in the study config (csv: {encoding: cp1252} for a Windows export)"
)
_DECLARE_DELIMITER = ', or declare it in the study config (csv: {delimiter: ";", decimal: ","})'
# a number written with a decimal comma: 3,5  -0,25  ,5  1,5e3
_DECIMAL_COMMA = re.compile(r"^[+-]?(?:\d+,\d*|,\d+)(?:[eE][+-]?\d+)?$")
_DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}
_FOREIGN_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


@dataclass(frozen=True)
class CsvText:
    """What :func:`read_csv_file` found: the text frame (None when the file cannot be read as
    a table) and the problems, in file order."""

    frame: pd.DataFrame | None
    problems: list[InputProblem]


@dataclass(frozen=True)
class Dialect:
    """How a CSV file is written: declared per study (``csv:``), never guessed."""

    encoding: str = "utf-8"
    delimiter: str = ","
    decimal: str = "."


DEFAULT_DIALECT = Dialect()


def read_csv_file(
    path: str | Path, label: str | None = None, dialect: Dialect = DEFAULT_DIALECT
) -> CsvText:
    """Read one CSV file as text cells.

    Parameters
    ----------
    path : str or Path
    label : str, optional
        How messages and the ``source_file`` column name the file (default: ``path``).
    dialect : Dialect, optional
        Declared encoding, delimiter and decimal mark (default UTF-8, comma, point).

    Returns
    -------
    CsvText
        ``frame`` has one column per header name, cells as stripped text (missing spellings
        as NaN), then ``source_file`` and ``source_row`` (the line on which the record starts,
        header = line 1). Rows with a structural problem are left out of the frame and
        listed in ``problems``; a file that cannot be read as a table has ``frame = None``.
    """
    label = str(path) if label is None else label
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        return CsvText(None, [InputProblem(label, None, None, None, f"a readable file ({error})")])
    return parse_csv_bytes(data, label, dialect)


def parse_csv_bytes(data: bytes, label: str, dialect: Dialect = DEFAULT_DIALECT) -> CsvText:
    """:func:`read_csv_file` on bytes already read (``label`` names them in messages)."""
    utf8 = codecs.lookup(dialect.encoding).name == "utf-8"
    problem = _encoding_problem(data, label) if utf8 else _zip_problem(data, label)
    if problem is not None:
        return CsvText(None, [problem])
    if utf8:
        text = data.decode("utf-8-sig", errors="surrogateescape")
    else:
        try:
            text = data.decode(dialect.encoding)
        except UnicodeDecodeError as error:
            return CsvText(None, [_declared_encoding_problem(data, label, dialect, error)])
    read = _plain_frame(text, label, dialect.delimiter)
    if read is None:
        read = _general_frame(text, data, label, dialect.delimiter, utf8)
    if dialect.decimal != "." and read.frame is not None:
        read = CsvText(with_decimal_points(read.frame, dialect.decimal), read.problems)
    return read


def _general_frame(text: str, data: bytes, label: str, delimiter: str, utf8: bool) -> CsvText:
    """The text frame and every problem, record by record with Python's :mod:`csv` reader."""
    records, problems = _records(text, label, delimiter)
    if not problems and not records:
        what = "the file is empty (0 bytes)" if not data else "the file holds only blank lines"
        problems = [InputProblem(label, None, None, None, f"a header row; {what}")]
    if problems:
        return CsvText(None, problems)
    problems = _undecodable_cells(data, records, label) if utf8 else []
    if problems:
        return CsvText(None, problems)
    (_, header), body = records[0], records[1:]
    header = [name.strip() for name in header]
    problems = _header_problems(header, label, delimiter)
    if problems:
        return CsvText(None, problems)
    return _frame(header, body, label)


# What makes a file not plain (see _plain_frame): a quote, a carriage return that does not
# end a line, a character other than space and tab that str.strip() removes, or text that
# was not UTF-8 (undecodable bytes are kept as lone surrogates)
_NOT_PLAIN = re.compile(
    '["\\x0b\\x0c\\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000'
    "\\ud800-\\udfff]|\\r(?!\\n)"
)


def _plain_frame(text: str, label: str, delimiter: str) -> CsvText | None:
    """The frame of :func:`parse_csv_bytes` for a plain file, split by Arrow's string
    kernels instead of record by record in Python; None when the file is not plain or has
    any problem (it is then read by the general path, which reports it).

    Plain: no quotes, so each line is one record; line ends ``\\n`` or ``\\r\\n``; no
    whitespace but spaces and tabs (what :meth:`str.strip` and Arrow's trim then agree on);
    every record as wide as the header. Blank records are skipped and row numbers are the
    lines, as the :mod:`csv` module's reader gives them.
    """
    if _NOT_PLAIN.search(text):
        return None
    lines = pc.list_flatten(pc.split_pattern(pa.array([text.replace("\r\n", "\n")]), "\n"))
    if len(lines) and text.endswith("\n"):
        lines = lines.slice(0, len(lines) - 1)  # the line break ends the last line
    blank = "^[ \t" + re.escape(delimiter) + "]*$"
    kept = np.flatnonzero(~pc.match_substring_regex(lines, blank).to_numpy(zero_copy_only=False))
    if not len(kept):
        return None
    header = [name.strip() for name in lines[int(kept[0])].as_py().split(delimiter)]
    if _header_problems(header, label, delimiter):
        return None
    body = lines.take(pa.array(kept[1:]))
    cells = pc.split_pattern(body, delimiter)
    width = len(header)
    if len(body) and not pc.all(pc.equal(pc.list_value_length(cells), width)).as_py():
        return None
    flat = pc.utf8_trim(pc.list_flatten(cells), " \t")
    if len(flat) and pc.max(pc.utf8_length(flat)).as_py() > csv.field_size_limit():
        return None  # the csv module refuses such a cell: let it say so
    flat = pc.if_else(pc.is_in(flat, pa.array(sorted(MISSING_SPELLINGS))), None, flat)
    positions = np.arange(len(body)) * width
    columns = {name: flat.take(pa.array(positions + i)) for i, name in enumerate(header)}
    frame = pd.DataFrame(
        {name: pd.Series(pd.array(column, dtype="str")) for name, column in columns.items()},
        columns=header,
    )
    frame["source_file"] = label
    frame["source_row"] = pd.Series(kept[1:] + 1, index=frame.index, dtype="int64")
    return CsvText(frame, [])


def with_decimal_points(frame: pd.DataFrame, decimal: str) -> pd.DataFrame:
    """Cells that are numbers written with a decimal comma, with a point instead (``3,5`` ->
    ``3.5``); every other cell as it was, so a text or a malformed number is still reported
    as typed."""
    if decimal != ",":
        raise ValueError(f"unsupported decimal mark {decimal!r}")
    frame = frame.copy()
    for column in frame.columns:
        if column in ("source_file", "source_row"):
            continue
        text = frame[column]
        comma = text.str.match(_DECIMAL_COMMA).fillna(False).astype(bool)
        if comma.any():
            frame.loc[comma, column] = text[comma].str.replace(",", ".", regex=False)
    return frame


def _declared_encoding_problem(
    data: bytes, label: str, dialect: Dialect, error: UnicodeDecodeError
) -> InputProblem:
    line = data.count(b"\n", 0, error.start) + 1
    return InputProblem(
        label,
        line,
        None,
        None,
        f"text in the declared encoding {dialect.encoding} (csv.encoding); byte {error.start} "
        f"(line {line}) is 0x{data[error.start]:02X}, which is not {dialect.encoding}: declare "
        "the encoding the file was saved in",
    )


def _zip_problem(data: bytes, label: str) -> InputProblem | None:
    if not data.startswith(b"PK\x03\x04"):
        return None
    return InputProblem(
        label,
        None,
        None,
        None,
        "a CSV text file; this is a zip archive, probably an Excel workbook (.xlsx) renamed to "
        ".csv: rename it to .xlsx (trialflow reads workbooks), or open it in Excel and "
        + _SAVE_AS,
    )


def _encoding_problem(data: bytes, label: str) -> InputProblem | None:
    for bom, name in _FOREIGN_BOMS:
        if data.startswith(bom):
            return InputProblem(
                label,
                None,
                None,
                None,
                f"UTF-8 text; the file is {name} (it starts with a {name} byte-order mark): "
                + _SAVE_AS,
            )
    zipped = _zip_problem(data, label)
    if zipped is not None:
        return zipped
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        return InputProblem(
            label,
            line,
            None,
            None,
            f"a CSV text file; byte {nul} (line {line}) is a NUL byte (0x00), so the file is "
            "binary or UTF-16 without a byte-order mark: " + _SAVE_AS,
        )
    return None


def _records(
    text: str, label: str, delimiter: str = ","
) -> tuple[list[tuple[int, list[str]]], list[InputProblem]]:
    """Non-blank records with the line each starts on, or the parse problem that stopped us."""
    reader = csv.reader(
        io.StringIO(text, newline=""), strict=True, skipinitialspace=True, delimiter=delimiter
    )
    records: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                records.append((start, record))
            start = reader.line_num + 1
    except csv.Error as error:
        return records, [InputProblem(label, start, None, None, _csv_error(str(error), start))]
    return records, []


def _csv_error(message: str, line: int) -> str:
    if "unexpected end of data" in message:
        return (
            f"a closing double quote: a quoted cell opened in the record starting on line {line} "
            "is never closed"
        )
    if "expected after" in message:
        return 'a comma (or the end of the line) right after a closing double quote (")'
    return f"a well-formed CSV record ({message})"


def _undecodable_cells(
    data: bytes, records: list[tuple[int, list[str]]], label: str
) -> list[InputProblem]:
    """The first cell holding bytes that are not UTF-8, with the offending byte's position."""
    try:
        data.decode("utf-8-sig")
        return []
    except UnicodeDecodeError as error:
        offset, byte = error.start, data[error.start]
    bad = [
        (line, position, cell)
        for line, record in records
        for position, cell in enumerate(record)
        if any("\udc80" <= ch <= "\udcff" for ch in cell)
    ]
    header = [cell.strip() for cell in records[0][1]] if records else []
    line = data.count(b"\n", 0, offset) + 1
    expected = (
        f"UTF-8 text; byte {offset} (line {line}) is 0x{byte:02X}, which is not UTF-8 "
        f"({len(bad)} cell(s) of this file hold such bytes; the file is probably Latin-1 or "
        "Windows-1252): " + _SAVE_AS + _DECLARE_ENCODING
    )
    if not bad:  # a bad byte between cells (a comment, say): name the line only
        return [InputProblem(label, line, None, None, expected)]
    row, position, cell = bad[0]
    column = _column_name(header, position) if row != 1 else None
    return [InputProblem(label, row, column, _as_windows_1252(cell.strip()), expected)]


def _as_windows_1252(text: str) -> str:
    """The cell as the person typed it: bytes that are not UTF-8 read as Windows-1252
    (what Excel writes in "CSV" on Western systems), so ``Müller`` is echoed as such."""
    return "".join(
        bytes([ord(ch) - 0xDC00]).decode("cp1252", errors="replace")
        if "\udc80" <= ch <= "\udcff"
        else ch
        for ch in text
    )


def _column_name(header: list[str], position: int) -> str:
    if position < len(header) and header[position] and _is_text(header[position]):
        return header[position]
    return f"column {position + 1}"


def _is_text(name: str) -> bool:
    return not any("\udc80" <= ch <= "\udcff" for ch in name)


def _header_problems(header: list[str], label: str, declared: str = ",") -> list[InputProblem]:
    if len(header) == 1:
        for delimiter, name in _DELIMITER_NAMES.items():
            if delimiter != declared and delimiter in header[0]:
                expected = _DELIMITER_NAMES.get(declared, repr(declared))
                advice = (
                    _SAVE_AS + _DECLARE_DELIMITER
                    if declared == ","
                    else (f"declare csv.delimiter as {delimiter!r} in the study config")
                )
                return [
                    InputProblem(
                        label,
                        1,
                        None,
                        header[0],
                        f"columns separated by {expected}; the header has no "
                        f"{expected[:-1]} but {name}: " + advice,
                    )
                ]
    problems = []
    trailing = len(header)
    while trailing > 0 and not header[trailing - 1]:
        trailing -= 1
    if trailing < len(header):
        problems.append(
            InputProblem(
                label,
                1,
                None,
                None,
                f"a name for every column; the header ends with {len(header) - trailing} "
                f"comma(s) too many (column {trailing + 1} has no name): remove the trailing "
                "comma(s)",
            )
        )
    for position, name in enumerate(header[:trailing]):
        if not name:
            problems.append(
                InputProblem(label, 1, None, None, f"a name for column {position + 1}")
            )
    seen: dict[str, list[int]] = {}
    for position, name in enumerate(header[:trailing]):
        if name:
            seen.setdefault(name, []).append(position + 1)
    for name, positions in seen.items():
        if len(positions) > 1:
            where = ", ".join(map(str, positions[:-1])) + f" and {positions[-1]}"
            problems.append(
                InputProblem(
                    label,
                    1,
                    name,
                    name,
                    f"each column name once; '{name}' is a duplicate column "
                    f"(columns {where} of the header)",
                )
            )
    return problems


def _frame(header: list[str], body: list[tuple[int, list[str]]], label: str) -> CsvText:
    width = len(header)
    problems: list[InputProblem] = []
    kept_rows: list[list[str]] = []
    lines: list[int] = []
    for line, record in body:
        if len(record) == width:
            kept_rows.append(record)
            lines.append(line)
            continue
        problems.append(_width_problem(label, line, record, width))
    columns = {
        name: [_cell(row[position]) for row in kept_rows] for position, name in enumerate(header)
    }
    frame = pd.DataFrame(columns, columns=header, dtype=str)
    frame["source_file"] = label
    frame["source_row"] = pd.Series(lines, index=frame.index, dtype="int64")
    return CsvText(frame, problems)


def _width_problem(label: str, line: int, record: list[str], width: int) -> InputProblem:
    got = len(record)
    if got > width:
        extra = [cell.strip() for cell in record[width:]]
        if not any(extra):
            why = f"the line ends with {got - width} comma(s) too many: remove them"
            value = None
        else:
            why = "the extra cell(s) hold values (an unquoted comma inside a cell?)"
            value = ",".join(extra)
        return InputProblem(
            label, line, None, value, f"{width} fields as in the header; got {got}: {why}"
        )
    return InputProblem(
        label,
        line,
        None,
        None,
        f"{width} fields as in the header; got {got} (cells missing at the end of the line)",
    )


def _cell(text: str) -> str | None:
    text = text.strip()
    return None if text in MISSING_SPELLINGS else text
