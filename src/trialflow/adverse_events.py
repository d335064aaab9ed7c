"""Adverse events: the optional input ``adverse_events.csv`` of a study, its checks, and the
harms summary per arm (CONSORT Harms 2022).

One row per event: ``participant_id, term, body_system, severity, serious, related,
onset_visit``. The file is optional: absent means adverse events were not collected; a file
with only its header means none were reported. Values are checked like every input: a bad
cell is named with its file, line, column and what was expected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from trialflow.config import Study
from trialflow.errors import InputProblem
from trialflow.io import ADVERSE_EVENTS
from trialflow.membership import is_in

__all__ = [
    "ADVERSE_EVENT_COLUMNS",
    "ALLOWED",
    "adverse_event_flow",
    "adverse_event_status",
    "checked_adverse_events",
    "read_validated_adverse_events",
    "harms_summary",
    "validate_adverse_events",
]

ADVERSE_EVENT_COLUMNS = (
    "participant_id",
    "term",
    "body_system",
    "severity",
    "serious",
    "related",
    "onset_visit",
)
#: the values each coded column accepts (exactly, lower case)
ALLOWED = {
    "severity": ("mild", "moderate", "severe"),
    "serious": ("yes", "no"),
    "related": ("yes", "no", "unknown"),
}
NOT_COLLECTED = "not collected"
NONE_REPORTED = "no adverse events reported"


def _where(frame: pd.DataFrame, index, fallback: str) -> tuple[str, int | None]:
    if "source_file" in frame.columns:
        return str(frame.at[index, "source_file"]), int(frame.at[index, "source_row"])
    return fallback, int(index) + 2  # header on line 1


def validate_adverse_events(
    raw: pd.DataFrame, study: Study, participant_ids: Iterable[str] | None = None
) -> tuple[pd.DataFrame, list[InputProblem]]:
    """Check ``adverse_events.csv`` as read by :func:`trialflow.io.read_raw_input`.

    Parameters
    ----------
    raw : pandas.DataFrame
        Text cells, with ``source_file`` and ``source_row``.
    study : Study
    participant_ids : iterable of str, optional
        The roster's ids; an event of anyone else is a problem.

    Returns
    -------
    events : pandas.DataFrame
        The columns of :data:`ADVERSE_EVENT_COLUMNS` (text) and the source columns.
    problems : list of InputProblem
    """
    file = (
        str(raw["source_file"].iloc[0])
        if "source_file" in raw.columns and len(raw)
        else f"{study.data_dir}/adverse_events.csv"
    )
    problems = [
        InputProblem(file, 1, column, None, f"a column named '{column}'")
        for column in ADVERSE_EVENT_COLUMNS
        if column not in raw.columns
    ]
    if problems:
        return raw, problems
    frame = raw.copy()
    known = set(participant_ids) if participant_ids is not None else None
    expected = {
        "participant_id": "a participant id of participants.csv",
        "term": "the adverse event's term (text)",
        "body_system": "the body system (text)",
        "onset_visit": "one of " + ", ".join(study.visit_ids),
        **{column: "one of " + ", ".join(values) for column, values in ALLOWED.items()},
    }
    for index in frame.index:
        for column in ADVERSE_EVENT_COLUMNS:
            value = frame.at[index, column]
            if _bad(column, value, study, known):
                problems.append(
                    InputProblem(
                        *_where(frame, index, file),
                        column,
                        None if pd.isna(value) else value,
                        expected[column],
                    )
                )
    return frame, problems


def checked_adverse_events(
    inputs: Mapping, frames: Mapping[str, pd.DataFrame], study: Study, problems: list
) -> pd.DataFrame | None:
    """The study's validated adverse events (None when it has no ``adverse_events.csv``),
    their problems appended to ``problems``; ``inputs`` as read by
    :func:`trialflow.validate.read_study_inputs`, ``frames`` the validated roster."""
    read = inputs.get(ADVERSE_EVENTS)
    if read is None or read.frame is None:
        return None
    roster = frames.get("participants")
    ids = None
    if roster is not None and "participant_id" in roster.columns:
        ids = roster["participant_id"].dropna()
    events, found = validate_adverse_events(read.frame, study, ids)
    problems.extend(found)
    return events


def _bad(column: str, value, study: Study, known: set[str] | None) -> bool:
    if value is None or pd.isna(value) or str(value).strip() == "":
        return True
    if column in ALLOWED:
        return value not in ALLOWED[column]
    if column == "onset_visit":
        return value not in study.visit_ids
    if column == "participant_id":
        return known is not None and value not in known
    return False


def adverse_event_status(events: pd.DataFrame | None) -> str:
    """``"not collected"`` (no file), ``"no adverse events reported"`` (header only) or ``""``."""
    if events is None:
        return NOT_COLLECTED
    return NONE_REPORTED if events.empty else ""


def harms_summary(
    events: pd.DataFrame | None, participants: pd.DataFrame, study: Study
) -> pd.DataFrame:
    """Participants with adverse events per arm: any, serious, related, severe, then by body
    system and term.

    Parameters
    ----------
    events : pandas.DataFrame or None
        Validated ``adverse_events.csv`` (None: not collected).
    participants : pandas.DataFrame
        The roster (``participant_id, arm``): the denominators.
    study : Study

    Returns
    -------
    pandas.DataFrame
        ``category, body_system, term, arm, participants, n_arm, percent, events``; a
        participant counts once per row however many events they had. Empty when not
        collected; with no events, the summary rows with zeros.
    """
    columns = ["category", "body_system", "term", "arm", "participants", "n_arm", "percent"]
    columns.append("events")
    if events is None:
        return pd.DataFrame(columns=columns)
    arm_of = participants.set_index("participant_id")["arm"]
    sizes = arm_of.value_counts()
    events = events.assign(arm=events["participant_id"].map(arm_of))
    rows = []

    def add(category: str, chosen: pd.DataFrame, body: str = "", term: str = "") -> None:
        for arm in study.arm_ids:
            mine = chosen.loc[chosen["arm"] == arm]
            n_arm = int(sizes.get(arm, 0))
            people = int(mine["participant_id"].nunique())
            rows.append(
                {"category": category, "body_system": body, "term": term, "arm": arm}
                | {"participants": people, "n_arm": n_arm, "events": len(mine)}
                | {"percent": 100.0 * people / n_arm if n_arm else float("nan")}
            )

    add("any", events)
    add("serious", events.loc[events["serious"] == "yes"])
    add("related", events.loc[events["related"] == "yes"])
    add("severe", events.loc[events["severity"] == "severe"])
    for body, in_system in events.groupby("body_system", sort=True):
        add("body_system", in_system, str(body))
        for term, with_term in in_system.groupby("term", sort=True):
            add("term", with_term, str(body), str(term))
    return pd.DataFrame(rows, columns=columns)


#: the participant-flow stage of the adverse-event note (``participant_flow.csv``)
FLOW_STAGE = "adverse_events"
#: the file the validate stage writes into its ``validated`` directory when the study has one
VALIDATED_FILE = "adverse_events.parquet"


def read_validated_adverse_events(validated_dir) -> pd.DataFrame | None:
    """The validated adverse events of a study, or None when it has no ``adverse_events.csv``."""
    from pathlib import Path

    from trialflow.io import read_parquet

    path = Path(validated_dir) / VALIDATED_FILE
    return read_parquet(path) if path.exists() else None


def adverse_event_flow(
    events: pd.DataFrame | None, participants: pd.DataFrame, study: Study
) -> pd.DataFrame:
    """The participant-flow rows of the adverse events: per arm, the participants with at
    least one event (``n``), with ``reason`` "no adverse events reported" (an empty list) or
    "not collected" (no file).

    Returns
    -------
    pandas.DataFrame
        ``arm, stage, n, reason`` with ``stage = "adverse_events"``.
    """
    status = adverse_event_status(events)
    rows = []
    for arm in study.arm_ids:
        n = 0
        if events is not None and len(events):
            ids = participants.loc[participants["arm"] == arm, "participant_id"]
            n = int(events.loc[is_in(events["participant_id"], ids), "participant_id"].nunique())
        rows.append({"arm": arm, "stage": FLOW_STAGE, "n": n, "reason": status})
    return pd.DataFrame(rows, columns=["arm", "stage", "n", "reason"])
