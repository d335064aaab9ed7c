"""The harms table (``harms``): participants with adverse events per arm, any, serious,
related and severe, then by body system and term (:func:`trialflow.adverse_events.harms_summary`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trialflow.adverse_events import adverse_event_status, harms_summary
from trialflow.config import Study

from .cells import arm_labels
from .format import MISSING, format_number
from .table import Table

__all__ = ["harms_table"]

_SUMMARY = {
    "any": "Participants with at least one adverse event",
    "serious": "Participants with a serious adverse event",
    "related": "Participants with a related adverse event",
    "severe": "Participants with a severe adverse event",
}


def _cell(row: pd.Series) -> str:
    """``"3/20 (15.0%) [4 events]"``."""
    share = format_number(row["percent"], 1) if np.isfinite(row["percent"]) else MISSING
    text = f"{row['participants']}/{row['n_arm']}" + (f" ({share}%)" if share else "")
    return text + (f" [{row['events']} events]" if row["events"] else "")


def harms_table(study: Study, events: pd.DataFrame | None, participants: pd.DataFrame) -> Table:
    """Adverse events per arm, as participants n/N (%) and number of events.

    Parameters
    ----------
    study : Study
    events : pandas.DataFrame or None
        The validated ``adverse_events.csv``; None when the study has none (not collected).
    participants : pandas.DataFrame
        The roster: the denominators per arm.

    Returns
    -------
    Table
        The summary rows, then per body system its row and one row per term.
    """
    names = arm_labels(study)
    summary = harms_summary(events, participants, study)
    rows = []
    keys = ["category", "body_system", "term"]
    for (category, body, term), block in summary.groupby(keys, sort=False):
        if category in _SUMMARY:
            row = {"Adverse events": _SUMMARY[category], "Body system": "", "Term": ""}
        else:
            row = {"Adverse events": "By body system and term", "Body system": body}
            row["Term"] = term or "All terms"
        for _, cell in block.iterrows():
            row[names[cell["arm"]]] = _cell(cell)
        rows.append(row)
    columns = ["Adverse events", "Body system", "Term", *[names[a] for a in study.arm_ids]]
    frame = pd.DataFrame(rows, columns=columns).fillna(MISSING)
    status = adverse_event_status(events)
    notes = [
        "n/N (%): participants with at least one such event, of the participants randomised "
        "to the arm; a participant counts once per row however many events they had; "
        "[k events]: the number of events.",
        "Serious and related as recorded (related: yes; unknown counts as not related here); "
        "severity mild, moderate or severe.",
    ]
    if status:
        notes = [
            f"Adverse events: {status}"
            + (
                " (the study has no adverse_events.csv)."
                if events is None
                else " (adverse_events.csv lists none)."
            )
        ]
    return Table(
        name="harms",
        title=f"Harms: adverse events by arm: {study.title}",
        frame=frame if events is not None else frame.iloc[:0],
        footnotes=tuple(notes),
        group_column="Adverse events",
    )
