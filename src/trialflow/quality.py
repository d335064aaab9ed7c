"""The data-quality table (``results/<study>/tables/data_quality.csv``).

Two kinds of rows, told apart by ``finding``:

* count rows (``finding`` empty), one per instrument and visit: participants in the roster,
  rows, columns, blank cells (declared missing codes included), rows with blanks, files,
  and ``missing_code_cells``, the cells blanked because they held a declared missing code;
* finding rows, with ``finding`` one of :data:`FINDINGS`, the ``file``, ``column`` and
  ``value`` concerned, a ``count`` of cells and a ``detail`` sentence for people:

  - ``missing_code``: a declared missing code, per column, code and visit, set to blank;
  - ``possible_missing_code``: warning, an undeclared all-9s value that is its column's
    maximum (:func:`trialflow.missing_codes.possible_missing_codes`);
  - ``skipped_file``: a file of an instrument folder that was not read, and why
    (:func:`trialflow.io.select_folder_files`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from trialflow.config import Study
from trialflow.io import SOURCE_COLUMNS
from trialflow.missing_codes import FINDING_COLUMNS

__all__ = ["COUNT_COLUMNS", "FINDINGS", "QUALITY_COLUMNS", "data_quality"]

COUNT_COLUMNS = (
    "instrument",
    "visit",
    "participants_in_roster",
    "rows",
    "columns",
    "blank_cells",
    "rows_with_blanks",
    "files",
    "missing_code_cells",
)
QUALITY_COLUMNS = (*COUNT_COLUMNS, "finding", "file", "column", "value", "count", "detail")
FINDINGS = ("missing_code", "possible_missing_code", "skipped_file")


def data_quality(
    study: Study,
    participants: pd.DataFrame,
    frames: dict[str, pd.DataFrame],
    findings: Sequence[dict] = (),
) -> pd.DataFrame:
    """Count rows per instrument and visit, then finding rows.

    Parameters
    ----------
    study : Study
    participants : pandas.DataFrame
        The validated roster.
    frames : dict of str to pandas.DataFrame
        Instrument id -> validated item frame.
    findings : sequence of dict
        Rows with :data:`~trialflow.missing_codes.FINDING_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        :data:`QUALITY_COLUMNS`; finding rows sorted by instrument (roster first, then config
        order), finding, column, visit and value.
    """
    found = pd.DataFrame(list(findings), columns=list(FINDING_COLUMNS))
    coded = found[found["finding"] == "missing_code"]
    coded_cells = coded.groupby(["instrument", "visit"])["count"].sum()
    expected = int(participants.groupby("arm").size().sum())  # every randomised participant
    rows = []
    for instrument_id, frame in frames.items():
        values = frame.drop(columns=["participant_id", "visit", *SOURCE_COLUMNS])
        for visit in study.visit_ids:
            in_visit = frame["visit"] == visit
            cells = values[in_visit.to_numpy()]
            rows.append(
                {
                    "instrument": instrument_id,
                    "visit": visit,
                    "participants_in_roster": int(expected),
                    "rows": int(in_visit.sum()),
                    "columns": int(values.shape[1]),
                    "blank_cells": int(cells.isna().sum().sum()),
                    "rows_with_blanks": int(cells.isna().any(axis=1).sum()),
                    "files": int(frame.loc[in_visit, "source_file"].nunique()),
                    "missing_code_cells": int(coded_cells.get((instrument_id, visit), 0)),
                }
            )
    counts = pd.DataFrame(rows, columns=list(COUNT_COLUMNS))
    if found.empty:
        return counts.reindex(columns=list(QUALITY_COLUMNS))
    order = {name: i for i, name in enumerate(["participants", *frames])}
    finding_order = {name: i for i, name in enumerate(FINDINGS)}
    visit_order = {"": -1} | {visit: i for i, visit in enumerate(study.visit_ids)}
    found = found.assign(
        _i=found["instrument"].map(order).fillna(len(order)),
        _f=found["finding"].map(finding_order),
        _v=found["visit"].map(visit_order).fillna(len(visit_order)),
    ).sort_values(["_i", "_f", "column", "_v", "value", "file"], kind="stable")
    found = found[list(FINDING_COLUMNS)]
    return pd.concat([counts, found], ignore_index=True).reindex(columns=list(QUALITY_COLUMNS))
