"""A data frame as CSV text, the bytes of ``DataFrame.to_csv`` written column by column.

``DataFrame.to_csv(index=False, float_format="%.10g", lineterminator="\\n")`` formats every
cell through Python one cell at a time and then hands each row to the :mod:`csv` module: at
100,000 participants the exported analysis datasets (7 million rows) took over three minutes
of CPU. :func:`csv_text` makes the same bytes with the per-value work done once per distinct
value (``"%.10g" % v`` for each distinct number: a visit's week, a baseline value shared by
a participant's records) and the rest in Arrow's compute kernels: quoting, joining the
cells of a row, joining the rows.

What pandas and :mod:`csv` do, and this does too: numbers in float columns as
``"%.10g" % value``; integers and booleans as ``str``; missing values as an empty cell; a
cell quoted (``"``, an inner ``"`` doubled) when it holds a character the :mod:`csv` module
quotes (the delimiter, the quote, the line end; asked of the running Python's :mod:`csv`,
not assumed); the one cell of a one-column row quoted when it is empty. Frames with
columns of any other kind (categories, dates, objects that are not all text) are written
by pandas itself.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["FLOAT_FORMAT", "csv_text"]

#: how a number in a float column is written: ten significant digits
FLOAT_FORMAT = "%.10g"


def _quoted_by_csv() -> str:
    """The characters that make this Python's :mod:`csv` quote a cell (minimal quoting, ``,``
    delimiter, ``\\n`` line end, as pandas calls it)."""
    quoted = []
    for char in ',"\n\r\t;':
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow([f"a{char}b", "c"])
        if out.getvalue().startswith('"'):
            quoted.append(char)
    return "".join(quoted)


_ESCAPED = {'"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}  # as an RE2 class member
_NEEDS_QUOTES = "[" + "".join(_ESCAPED.get(c, c) for c in _quoted_by_csv()) + "]"


def csv_text(frame: pd.DataFrame, header: bool = True) -> bytes:
    """The UTF-8 bytes of ``frame.to_csv(index=False, header=header, float_format="%.10g",
    lineterminator="\\n")``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns of floats, integers, booleans or text (pandas' ``str``, or objects that are
        all ``str`` or missing); anything else is left to pandas.
    header : bool
        Whether to write the column names as the first line.

    Returns
    -------
    bytes

    Examples
    --------
    >>> frame = pd.DataFrame({"id": ["a", "b,c"], "week": [0, 8], "value": [1 / 3, None]})
    >>> csv_text(frame).decode()
    'id,week,value\\na,0,0.3333333333\\n"b,c",8,\\n'
    """
    cells = [_cells(frame.iloc[:, i]) for i in range(frame.shape[1])]
    if not cells or any(c is None for c in cells) or not _plain_names(frame.columns):
        written = frame.to_csv(
            index=False, header=header, float_format=FLOAT_FORMAT, lineterminator="\n"
        )
        return written.encode("utf-8")
    names = _quote(pa.array([str(name) for name in frame.columns], pa.large_string()))
    head = (",".join(names.to_pylist()) + "\n") if header else ""
    if len(cells) == 1:  # csv writes the one empty cell of a row as ""
        cells[0] = pc.if_else(pc.equal(cells[0], ""), _text('""'), cells[0])
        if header and head == "\n":
            head = '""\n'
    if len(frame) == 0:
        return head.encode("utf-8")
    cells[-1] = pc.binary_join_element_wise(cells[-1], _text("\n"), _text(""))  # the line end
    lines = pc.binary_join_element_wise(*cells, _text(","))
    return head.encode("utf-8") + _joined(lines)


def _plain_names(columns: pd.Index) -> bool:
    return not isinstance(columns, pd.MultiIndex) and all(isinstance(c, str) for c in columns)


def _cells(column: pd.Series) -> pa.LargeStringArray | None:
    """The column's cells as CSV text (quoted where needed, never null); None for a kind of
    column pandas formats in a way not reproduced here."""
    dtype = column.dtype
    if pd.api.types.is_float_dtype(dtype):
        values = column.to_numpy(dtype="float64", na_value=np.nan)
        # by bit pattern, so that -0.0 ("-0") and 0.0 ("0") stay apart
        return _each_distinct(
            values.view(np.int64),
            np.isnan(values),
            lambda bits: [FLOAT_FORMAT % v for v in bits.view(np.float64).tolist()],
        )
    if pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        if isinstance(dtype, np.dtype):
            values, missing = column.to_numpy(), np.zeros(len(column), dtype=bool)
        else:  # nullable: missing values filled with a zero of the type, then blanked
            missing = column.isna().to_numpy()
            zero = dtype.numpy_dtype.type(0)
            values = column.to_numpy(dtype=dtype.numpy_dtype, na_value=zero)
        return _each_distinct(values, missing, lambda v: [str(x) for x in v.tolist()])
    if isinstance(dtype, pd.StringDtype) or pd.api.types.is_object_dtype(dtype):
        try:
            text = pa.array(column, type=pa.large_string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # objects that are not all text
            return None
        return _quote(pc.fill_null(text, ""))
    return None


def _each_distinct(keys: np.ndarray, missing: np.ndarray, formatted) -> pa.LargeStringArray:
    """The text of every value, ``formatted`` once per distinct key; missing -> ``""``.

    ``formatted`` takes the array of distinct keys and returns their texts."""
    codes, uniques = pd.factorize(keys)
    texts = formatted(np.asarray(uniques)) + [""]
    codes = np.where(missing, len(texts) - 1, codes)  # the empty cell appended last
    return _quote(pa.array(texts, pa.large_string()).take(pa.array(codes)))


def _quote(text: pa.LargeStringArray) -> pa.LargeStringArray:
    """Cells holding a character :mod:`csv` quotes, in quotes with inner quotes doubled."""
    needs = pc.match_substring_regex(text, _NEEDS_QUOTES)
    if not pc.any(needs).as_py():
        return text
    doubled = pc.replace_substring(text, '"', '""')
    quote = _text('"')
    wrapped = pc.binary_join_element_wise(quote, doubled, quote, _text(""))
    return pc.if_else(needs, wrapped, text)


def _text(value: str) -> pa.LargeStringScalar:
    return pa.scalar(value, pa.large_string())


def _joined(lines: pa.LargeStringArray) -> bytes:
    """The lines' characters back to back: the data buffer between the first and last
    offsets (the array has no nulls), copied once."""
    if isinstance(lines, pa.ChunkedArray):  # a text column concatenated from pieces
        lines = lines.combine_chunks()
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    first, last = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return lines.buffers()[2].slice(first, last - first).to_pybytes()
