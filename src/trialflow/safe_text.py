"""Text cells made safe for spreadsheets (formula injection) and for Markdown (raw HTML).

A CSV or Word cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is read by Excel, LibreOffice and Google Sheets as a formula: a participant's
category typed as ``=HYPERLINK(...)`` would run when a reviewer opens the table. Such text
cells get a leading ``'`` (the spreadsheet convention for "this is text"), as OWASP
recommends. Numbers never do: a numeric column is written as numbers, and a text cell that
is a number as trialflow formats it (``-2.25``, ``-1.55 (-1.65 to -1.40); p < 0.001``)
stays as it is, so negative numbers stay numbers. Such a cell holds no letters but the
words trialflow prints (``to``, ``p``, ``adj``, an exponent's ``e``) and none of the
characters a formula needs to reach outside itself (``!``, ``|``, ``:``, quotes), so it cannot
be a harmful formula.

Markdown tables pass raw HTML through to the renderer; :func:`markdown_safe` escapes what
could open a tag or an entity, and the ``|`` that would split a cell.
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["FORMULA_PREFIXES", "markdown_safe", "spreadsheet_safe", "spreadsheet_safe_frame"]

#: first characters that make a spreadsheet read a cell as a formula
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_LEADING_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_PRINTED = re.compile(r"\b(?:to|p|adj)\b|(?<=\d)[eE](?=[+-]?\d)")
_NUMBER_TAIL = re.compile(r"[\d\s.,;()\[\]<>=±%‡§†*−–+\-]*")


def is_formatted_number(text: str) -> bool:
    """Whether ``text`` is a number, possibly with trialflow's interval and p-value text.

    Examples
    --------
    >>> is_formatted_number("-1.55 (-1.65 to -1.40)‡; p < 0.001; adj. p < 0.001")
    True
    >>> is_formatted_number("-2+3+cmd|' /C calc'!A0"), is_formatted_number("-1+p1")
    (False, False)
    """
    start = _LEADING_NUMBER.match(text)
    if start is None:
        return False
    tail = _PRINTED.sub("", text[start.end() :])
    return _NUMBER_TAIL.fullmatch(tail) is not None


def spreadsheet_safe(value: object) -> object:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula;
    anything else (numbers, missing values, safe text) unchanged."""
    if not isinstance(value, str) or not value.startswith(FORMULA_PREFIXES):
        return value
    if is_formatted_number(value):
        return value
    return "'" + value


def spreadsheet_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with :func:`spreadsheet_safe` applied to its column names and text cells
    (numeric columns untouched); the same object when nothing needs a prefix."""
    renamed = {c: spreadsheet_safe(c) for c in frame.columns if isinstance(c, str)}
    renamed = {k: v for k, v in renamed.items() if v != k}
    changed = {}
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        if _formula_like(series).any():
            changed[column] = series.map(spreadsheet_safe)
    if not changed and not renamed:
        return frame
    out = frame.copy()
    for column, series in changed.items():
        out[column] = series
    return out.rename(columns=renamed)


def _formula_like(series: pd.Series) -> pd.Series:
    """Which cells are text starting with one of :data:`FORMULA_PREFIXES`.

    Text columns are tested in one vectorised pass (a Python call per cell cost minutes on
    the 11 million rows of a 100,000-participant export); categories once per category;
    only columns mixing text with other values cell by cell, as numbers never count.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = _formula_like(pd.Series(series.cat.categories))
        codes = series.cat.codes.to_numpy()
        flags = categories.to_numpy(dtype=bool)[codes] & (codes >= 0)
        return pd.Series(flags, index=series.index)
    mixed = series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) not in (
        "string",
        "empty",
    )
    if mixed or not pd.api.types.is_string_dtype(series.dtype):
        return series.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_PREFIXES))
    return series.str.startswith(FORMULA_PREFIXES, na=False).astype(bool)


_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_ENTITY = re.compile(r"&(?=#?\w+;)")


def markdown_safe(text: object) -> str:
    """Cell text for a Markdown table: ``<`` that could open an HTML tag and ``&`` that could
    start an entity escaped, ``|`` escaped so it cannot split the cell; everything else (a
    ``p < 0.001`` say) as it is."""
    text = str(text)
    text = _ENTITY.sub("&amp;", text)
    text = _TAG_START.sub("&lt;", text)
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")
