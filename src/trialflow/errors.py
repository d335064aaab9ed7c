"""Input problems that name the file, row and column, and the exception that carries them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InputProblem:
    """One bad input cell (or file, or row) with what was expected.

    ``row`` is the 1-based line number in the CSV file, header included, so the first
    data row is row 2: the number a person sees in a text editor or spreadsheet (the sheet
    row of a workbook; the record number, first = 1, of an SPSS, Stata, SAS or parquet
    file). ``None`` means the problem concerns the whole file or column.

    A workbook's cell is named by ``sheet`` and ``cell`` (``D14``); ``note`` says more about
    the value for people (its value label, or the code a label stands for).
    """

    file: str
    row: int | None
    column: str | None
    value: object
    expected: str
    sheet: str | None = None
    cell: str | None = None
    note: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.sheet is not None:
            where += f", sheet '{self.sheet}'"
        if self.cell is not None:
            where += f", cell {self.cell}"
        elif self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'"
        value = "" if self.value is None else f": got {self.value!r}"
        if self.note and self.value is not None:
            value += f" ({self.note})"
        return f"{where}{value}; expected {self.expected}"


class InputError(ValueError):
    """Raised when inputs are invalid; lists every problem found, not just the first."""

    def __init__(self, problems: list[InputProblem]):
        self.problems = list(problems)
        lines = [f"{len(self.problems)} input problem(s):"]
        lines += [f"  - {problem}" for problem in self.problems]
        super().__init__("\n".join(lines))
