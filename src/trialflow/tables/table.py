"""The :class:`Table`: one human-readable table as display strings, and its file formats."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .format import MISSING

__all__ = ["TABLE_FORMATS", "Table"]

TABLE_FORMATS = ("csv", "md", "html", "docx")


@dataclass(frozen=True)
class Table:
    """One human-readable table.

    Attributes
    ----------
    name : str
        File stem, e.g. ``"table1_baseline"``.
    title : str
        Caption printed above the table.
    frame : pandas.DataFrame
        Display strings only; column names are the printed headers.
    footnotes : tuple of str
        Printed below the table.
    group_column : str or None
        Column whose consecutive repeats are blanked in Markdown, HTML and Word (kept in
        CSV so that the CSV stays machine-readable).
    """

    name: str
    title: str
    frame: pd.DataFrame
    footnotes: tuple[str, ...] = ()
    group_column: str | None = None

    def display_frame(self) -> pd.DataFrame:
        """The frame with consecutive repeats of :attr:`group_column` blanked."""
        frame = self.frame.copy()
        if self.group_column and self.group_column in frame.columns:
            col = frame[self.group_column]
            repeat = col.eq(col.shift()) & col.ne(MISSING)
            frame.loc[repeat, self.group_column] = MISSING
        return frame

    def group_starts(self) -> list[bool]:
        """Whether each row starts a new group (for rule lines between groups)."""
        if not self.group_column or self.group_column not in self.frame.columns:
            return [False] * len(self.frame)
        col = self.frame[self.group_column]
        starts = col.ne(col.shift()).tolist()
        if starts:
            starts[0] = False
        return starts
