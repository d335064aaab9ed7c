"""Where a value came from: naming a problem by the file's own cell, whatever the format.

Validation works on a long text frame whose columns are the instrument's item names. A file
may name them otherwise (a REDCap field ``hads_q3``, a wide column ``q3_week8``, an id column
``record_id``), may be a workbook (cells ``D14`` on a sheet), may store codes whose value
labels a text column shows, or may write numbers with a decimal comma. :class:`SourceMap`
turns each problem found on the long frame back into the file's terms: the file's column,
the sheet and cell, the value as the file holds it, and the code or label beside it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pandas as pd

from trialflow.errors import InputProblem

__all__ = ["FileCells", "SourceMap"]


@dataclass(frozen=True)
class FileCells:
    """What a reader knows about a file's cells beyond its text frame.

    Attributes
    ----------
    sheet : str or None
        The worksheet of a workbook.
    letters : mapping
        File column -> the workbook's column letter.
    labels : mapping
        File column -> {code as text: value label} (SPSS, Stata, SAS).
    user_missing : mapping
        File column -> {code as text: how the file declares it as missing}.
    cells : pandas.DataFrame or None
        The cells as written, where the frame shows them otherwise (a decimal comma).
    """

    sheet: str | None = None
    letters: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    user_missing: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    cells: pd.DataFrame | None = None

    @property
    def plain(self) -> bool:
        """Nothing to rename, relabel or relocate: a CSV read as it is."""
        return (
            self.sheet is None and not self.labels and not self.user_missing and self.cells is None
        )


@dataclass
class SourceMap:
    """Turns problems found on a prepared (long) frame into the file's terms.

    Parameters
    ----------
    file : str
        The file's label (``source_file``); problems of other files are left alone.
    table : pandas.DataFrame
        The file's text frame with its own column names and ``source_row``.
    cells : FileCells
    columns : mapping
        Frame column -> the file columns it was taken from, in the order of the long rows
        made from one file row (one per visit of a wide layout, else one).
    labelled : sequence of str
        Frame columns that show value labels instead of codes.
    """

    file: str
    table: pd.DataFrame
    cells: FileCells = field(default_factory=FileCells)
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    labelled: Sequence[str] = ()
    _by_row: pd.DataFrame | None = None

    def locate(self, problems: Sequence[InputProblem]) -> list[InputProblem]:
        """Every problem of this file named by the file's own column, cell and value.

        Long rows made from one wide row share the file row; among the file columns an
        item was taken from, the one whose cell holds the problem's value is named (the
        k-th alike problem of a row takes the k-th such column: problems come in row order).
        """
        seen: Counter = Counter()
        located = []
        for problem in problems:
            if problem.file != self.file or problem.cell is not None:
                located.append(problem)
                continue
            key = (problem.row, problem.column, str(problem.value), problem.expected)
            located.append(self._locate(problem, seen[key]))
            seen[key] += 1
        return located

    def _rows(self) -> pd.DataFrame:
        if self._by_row is None:
            self._by_row = self.table.drop_duplicates("source_row").set_index("source_row")
        return self._by_row

    def _cell(self, row: int | None, column: str) -> str | None:
        rows = self._rows()
        if row is None or column not in rows.columns or row not in rows.index:
            return None
        value = rows.at[row, column]
        return None if pd.isna(value) else str(value)

    def _written(self, row: int | None, column: str) -> str | None:
        """The cell as the file writes it (before a decimal comma became a point)."""
        written = self.cells.cells
        if written is not None and row is not None and column in written.columns:
            match = written.loc[written["source_row"] == row, column]
            if len(match) and not pd.isna(match.iloc[0]):
                return str(match.iloc[0])
        return self._cell(row, column)

    def _locate(self, problem: InputProblem, occurrence: int) -> InputProblem:
        column = problem.column
        if column is None:
            return replace(problem, sheet=self.cells.sheet)
        candidates = self.columns.get(column, (column,))
        file_column = self._pick(problem, candidates, occurrence)
        value, note = problem.value, None
        code = self._cell(problem.row, file_column)
        labels = self.cells.labels.get(file_column, {})
        if column in self.labelled and code is not None and code in labels:
            note = f"code {code}"
        elif problem.value is not None:
            value = self._written(problem.row, file_column) or problem.value
            if code is not None and code in labels:
                note = f"value label {labels[code]!r}"
        cell = None
        letter = self.cells.letters.get(file_column)
        if letter is not None and problem.row is not None:
            cell = f"{letter}{problem.row}"
        return replace(
            problem, column=file_column, value=value, sheet=self.cells.sheet, cell=cell, note=note
        )

    def _pick(self, problem: InputProblem, candidates: tuple[str, ...], occurrence: int) -> str:
        if len(candidates) == 1:
            return candidates[0]
        wanted = None if problem.value is None else str(problem.value)
        holding = [c for c in candidates if self._shown(problem.row, c) == wanted]
        if holding:
            return holding[min(occurrence, len(holding) - 1)]
        return candidates[0]

    def _shown(self, row: int | None, column: str) -> str | None:
        code = self._cell(row, column)
        if code is not None and column in self._labelled_file_columns():
            return self.cells.labels.get(column, {}).get(code, code)
        return code

    def _labelled_file_columns(self) -> set[str]:
        return {
            c
            for frame_column in self.labelled
            for c in self.columns.get(frame_column, (frame_column,))
        }
