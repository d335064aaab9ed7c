"""One worksheet of an Excel workbook (``.xlsx``) as text cells, read with openpyxl.

The header is the first row holding anything; each later row that is not empty is a record,
numbered by its sheet row, and each column is named by its header cell, so a problem can be
named by its cell (``visits.xlsx, sheet 'HADS', cell D14``). Cell values are the ones Excel
stored (for a formula, the value Excel computed when it last saved the file), as text
(:func:`trialflow.readers.cell_text`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from trialflow.errors import InputProblem

__all__ = ["read_sheet"]


def read_sheet(path: str | Path, label: str, sheet: str | None):
    """Read one worksheet (``sheet``, or the only one) of a workbook.

    Returns
    -------
    trialflow.readers.TableRead
        The frame has one column per named header cell; ``cells`` carries the sheet and
        each column's letter.
    """
    from openpyxl import load_workbook

    from trialflow.readers import TableRead

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        chosen, problem = _choose_sheet(book.sheetnames, sheet, label)
        if problem is not None:
            return TableRead(None, [problem])
        worksheet = book[chosen]
        worksheet.reset_dimensions()  # some writers record wrong dimensions: read every row
        rows = [
            (number, list(values))
            for number, values in enumerate(worksheet.iter_rows(min_row=1, values_only=True), 1)
            if any(_filled(v) for v in values)
        ]
    finally:
        book.close()
    return _table(rows, label, chosen)


def _filled(value) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _choose_sheet(
    names: list[str], sheet: str | None, label: str
) -> tuple[str, InputProblem | None]:
    from trialflow.config_rules import did_you_mean

    listing = ", ".join(f"'{name}'" for name in names)
    if sheet is None:
        if len(names) == 1:
            return names[0], None
        expected = (
            f"a declared sheet: the workbook has {len(names)} sheets ({listing}); name the "
            "one to read with sheet: in the config"
        )
        return "", InputProblem(label, None, None, None, expected)
    if sheet in names:
        return sheet, None
    same = [name for name in names if name.lower() == sheet.lower()]
    hint = f" (did you mean '{same[0]}'?)" if same else did_you_mean(sheet, names)
    expected = f"a sheet named '{sheet}'{hint}; the workbook has {listing}"
    return "", InputProblem(label, None, None, None, expected)


def _table(rows: list[tuple[int, list]], label: str, sheet: str):
    from openpyxl.utils import get_column_letter

    from trialflow.readers import TableRead, text_column
    from trialflow.sources import FileCells

    if not rows:
        expected = "a header row; the sheet is empty"
        return TableRead(None, [InputProblem(label, None, None, None, expected, sheet=sheet)])
    (header_row, header), body = rows[0], rows[1:]
    names = [str(v).strip() if _filled(v) else "" for v in header]
    problems = []
    named = [i for i, name in enumerate(names) if name]
    seen: dict[str, str] = {}
    for i in named:
        cell = f"{get_column_letter(i + 1)}{header_row}"
        if names[i] in seen:
            expected = f"each column name once; '{names[i]}' is also in cell {seen[names[i]]}"
            problems.append(_at(label, sheet, cell, header_row, names[i], names[i], expected))
        seen.setdefault(names[i], cell)
    for number, values in body:  # data under no header: a column without a name
        for i, value in enumerate(values):
            if _filled(value) and (i >= len(names) or not names[i]):
                letter = get_column_letter(i + 1)
                expected = (
                    f"a header in cell {letter}{header_row} for the values of column {letter}"
                )
                problems.append(
                    _at(label, sheet, f"{letter}{number}", number, None, value, expected)
                )
                names += [""] * (i + 1 - len(names))
                names[i] = names[i] or "\0"  # report each unnamed column once
    if problems:
        return TableRead(None, problems)
    columns = {
        names[i]: pd.Series([v[i] if i < len(v) else None for _, v in body], dtype=object)
        for i in named
    }
    frame = pd.DataFrame({name: text_column(values) for name, values in columns.items()})
    frame["source_file"] = label
    frame["source_row"] = pd.Series(np.array([n for n, _ in body], dtype="int64"))
    letters = {names[i]: get_column_letter(i + 1) for i in named}
    return TableRead(frame, [], FileCells(sheet=sheet, letters=letters))


def _at(label, sheet, cell, row, column, value, expected) -> InputProblem:
    return InputProblem(label, row, column, value, expected, sheet=sheet, cell=cell)
