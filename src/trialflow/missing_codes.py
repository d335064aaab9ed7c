"""Sentinel codes for missing values: declared ones become blank, undeclared ones are flagged.

Data managers write ``999`` or ``-99`` where a value is missing. A declared code
(``missing_codes:`` of the study, of an instrument's ``options``, or of one declared
measure) is blanked before any check and counted in ``data_quality.csv``; a value made
only of 9s (99, 999, 9999) that is the largest of its numeric column and not declared is
listed there as a warning, since a plausibility range wide enough to let it through would
otherwise analyse it as a measurement.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "FINDING_COLUMNS",
    "blank_missing_codes",
    "format_number",
    "possible_missing_codes",
]

#: Columns of a finding row of ``data_quality.csv`` (see :mod:`trialflow.quality`).
FINDING_COLUMNS = ("instrument", "visit", "finding", "file", "column", "value", "count", "detail")


def format_number(value: float) -> str:
    """``999`` for 999.0, ``-9.9`` for -9.9: a code as a person would type it."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def blank_missing_codes(
    frame: pd.DataFrame,
    codes: Mapping[str, Sequence[float]],
    *,
    instrument: str,
    file: str,
) -> tuple[pd.DataFrame, list[dict]]:
    """Blank every cell whose number is a declared missing code of its column.

    Parameters
    ----------
    frame : pandas.DataFrame
        Text cells as read (a column absent from the frame is ignored).
    codes : mapping
        Column -> its missing codes (numbers; ``"999.0"`` and ``"999"`` match code 999).
    instrument, file : str
        Where the finding rows say the cells were (``participants`` for the roster).

    Returns
    -------
    frame : pandas.DataFrame
        A copy with the coded cells blank (NaN).
    findings : list of dict
        One ``missing_code`` finding (:data:`FINDING_COLUMNS`) per column, code and visit
        (visit empty for the roster), with the number of cells.
    """
    frame = frame.copy()
    findings = []
    visits = frame["visit"] if "visit" in frame.columns else pd.Series("", index=frame.index)
    for column, column_codes in codes.items():
        if column not in frame.columns or not column_codes:
            continue
        numbers = pd.to_numeric(frame[column], errors="coerce")
        coded = numbers.isin(list(column_codes)).to_numpy()
        if not coded.any():
            continue
        hits = pd.DataFrame({"visit": visits[coded].fillna(""), "code": numbers[coded]})
        for (visit, code), count in hits.groupby(["visit", "code"], sort=True).size().items():
            findings.append(
                {
                    "instrument": instrument,
                    "visit": visit,
                    "finding": "missing_code",
                    "file": file,
                    "column": column,
                    "value": format_number(code),
                    "count": int(count),
                    "detail": f"declared missing code {format_number(code)}: set to blank",
                }
            )
        frame.loc[coded, column] = np.nan
    return frame, findings


def possible_missing_codes(
    numbers: pd.DataFrame, columns: Sequence[str], *, instrument: str, file: str
) -> list[dict]:
    """Undeclared values made only of 9s that are the largest of their column.

    Parameters
    ----------
    numbers : pandas.DataFrame
        The typed frame (declared codes already blank).
    columns : sequence of str
        Its numeric columns.

    Returns
    -------
    list of dict
        One ``possible_missing_code`` warning (:data:`FINDING_COLUMNS`) per column.
    """
    findings = []
    for column in columns:
        if column not in numbers.columns:
            continue
        values = pd.to_numeric(numbers[column], errors="coerce").to_numpy(float)
        values = values[np.isfinite(values)]
        if not len(values):
            continue
        top = float(values.max())
        if not _all_nines(top):
            continue
        text = format_number(top)
        findings.append(
            {
                "instrument": instrument,
                "visit": "",
                "finding": "possible_missing_code",
                "file": file,
                "column": column,
                "value": text,
                "count": int((values == top).sum()),
                "detail": (
                    f"warning: {text}, the largest value of {column}, is made only of 9s, a "
                    "usual code for a missing value, and is analysed as a measurement; if it "
                    "means missing, declare it under missing_codes"
                ),
            }
        )
    return findings


def _all_nines(value: float) -> bool:
    if not math.isfinite(value) or not value.is_integer() or value < 99:
        return False
    return set(str(int(value))) == {"9"}
