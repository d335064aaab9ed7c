"""Structural validation of a study's raw inputs: every problem with its file, row and column.

Checks here are the ones that do not depend on an instrument's content: required columns,
participant ids known to the roster, declared visits, one row per participant and visit,
numbers where numbers are expected. Item content (allowed answers) is checked by each
instrument's own ``check_items``; both kinds of problems are collected and raised together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trialflow import instruments
from trialflow.config import InstrumentSpec, Study
from trialflow.errors import InputError, InputProblem
from trialflow.io import SOURCE_COLUMNS
from trialflow.roster import FLAG_TEXT, ROSTER_COLUMNS

# Roster columns trialflow knows are checked against trialflow.roster.ROSTER_COLUMNS.
# Anything else is kept as is (a covariate, say) and checked only if the config names it.


@dataclass(frozen=True)
class ValidatedStudy:
    """Typed inputs of one study: the roster, one item frame per instrument, a quality table."""

    participants: pd.DataFrame
    instruments: dict[str, pd.DataFrame]
    quality: pd.DataFrame


def _where(frame: pd.DataFrame, index) -> tuple[str, int]:
    return str(frame.at[index, "source_file"]), int(frame.at[index, "source_row"])


def _file_of(frame: pd.DataFrame, fallback: str) -> str:
    return str(frame["source_file"].iloc[0]) if len(frame) else fallback


def _to_numbers(
    frame: pd.DataFrame, column: str, expected: str, problems: list[InputProblem]
) -> pd.Series:
    """Convert a text column to floats; every non-blank cell that is not a number is a problem."""
    text = frame[column]
    numbers = pd.to_numeric(text, errors="coerce")
    for index in frame.index[text.notna() & numbers.isna()]:
        file, row = _where(frame, index)
        problems.append(InputProblem(file, row, column, text.at[index], expected))
    return numbers.astype(float)


def _check_range(
    frame: pd.DataFrame,
    column: str,
    values: pd.Series,
    low: float,
    high: float,
    problems: list[InputProblem],
) -> None:
    for index in frame.index[(values < low) | (values > high)]:
        file, row = _where(frame, index)
        problems.append(
            InputProblem(
                file, row, column, frame.at[index, column], f"a number from {low:g} to {high:g}"
            )
        )


def _check_allowed(
    frame: pd.DataFrame,
    column: str,
    allowed: list[str],
    problems: list[InputProblem],
    *,
    required: bool,
) -> None:
    text = frame[column]
    bad = text.notna() & ~text.isin(allowed)
    if required:
        bad |= text.isna()
    for index in frame.index[bad]:
        file, row = _where(frame, index)
        problems.append(
            InputProblem(file, row, column, text.at[index], "one of " + ", ".join(allowed))
        )


def validate_participants(
    raw: pd.DataFrame, study: Study, required_columns: set[str] | None = None
) -> tuple[pd.DataFrame, list[InputProblem]]:
    """Check and type the roster (``participants.csv``).

    Parameters
    ----------
    raw : pandas.DataFrame
        The roster as read by :func:`trialflow.io.read_csv_input` (text cells).
    study : Study
    required_columns : set of str, optional
        Roster columns the study's instruments and covariates need (e.g. ``height_cm``).

    Returns
    -------
    participants : pandas.DataFrame
        Numeric columns as floats, source columns kept.
    problems : list of InputProblem
    """
    problems: list[InputProblem] = []
    frame = raw.copy()
    file = _file_of(frame, f"{study.data_dir}/participants.csv")
    if "arm" not in frame.columns and len(study.arms) == 1:
        frame["arm"] = study.arms[0].id  # a single-arm roster need not repeat its arm
    required = {"participant_id", "arm"} | set(required_columns or ())
    for column in sorted(required - set(frame.columns)):
        problems.append(InputProblem(file, 1, column, None, f"a column named '{column}'"))
    if "participant_id" not in frame.columns or "arm" not in frame.columns:
        return frame, problems

    ids = frame["participant_id"]
    for index in frame.index[ids.isna()]:
        problems.append(
            InputProblem(*_where(frame, index), "participant_id", None, "a participant id")
        )
    for index in frame.index[ids.notna() & ids.duplicated(keep="first")]:
        problems.append(
            InputProblem(
                *_where(frame, index), "participant_id", ids.at[index], "a unique participant id"
            )
        )
    _check_allowed(frame, "arm", study.arm_ids, problems, required=True)
    _check_known_roster_columns(frame, required, problems, kind="categorical")
    if "last_visit" in frame.columns:
        _check_allowed(frame, "last_visit", study.visit_ids, problems, required=False)
    _check_known_roster_columns(frame, required, problems, kind="numeric")
    _check_plan_columns(frame, study, problems)
    for covariate in study.covariates:
        if covariate in frame.columns and covariate not in ROSTER_COLUMNS:
            numbers = pd.to_numeric(frame[covariate], errors="coerce")
            if numbers.notna().sum() == frame[covariate].notna().sum():
                frame[covariate] = numbers.astype(float)  # numeric covariate; else a factor
    return frame, problems


def _check_known_roster_columns(
    frame: pd.DataFrame, required: set[str], problems: list[InputProblem], kind: str
) -> None:
    """Type and check the roster columns of one ``kind`` (:data:`~trialflow.roster.ROSTER_COLUMNS`)."""
    for column, rule in ROSTER_COLUMNS.items():
        if column not in frame.columns or rule.kind != kind:
            continue
        if kind == "categorical":
            allowed = list(rule.responses or ())
            needed = column in required and not rule.optional
            _check_allowed(frame, column, allowed, problems, required=needed)
            continue
        low, high = rule.minimum, rule.maximum
        numbers = _to_numbers(frame, column, f"a number from {low:g} to {high:g}", problems)
        _check_range(frame, column, numbers, low, high, problems)
        if column in required:
            for index in frame.index[frame[column].isna()]:
                problems.append(InputProblem(*_where(frame, index), column, None, "a value"))
        frame[column] = numbers


def _check_plan_columns(frame: pd.DataFrame, study: Study, problems: list[InputProblem]) -> None:
    """The analysis plan's roster columns: yes/no flags, the intercurrent event's first
    visit (a post-baseline visit) and its type (only with a visit)."""
    for column, rule in ROSTER_COLUMNS.items():
        if column not in frame.columns or rule.kind != "flag":
            continue
        text = frame[column].astype("string").str.strip().str.lower()
        bad = text.notna() & (text != "") & ~text.isin(FLAG_TEXT)
        for index in frame.index[bad.to_numpy(bool)]:
            problems.append(
                InputProblem(
                    *_where(frame, index), column, frame.at[index, column],
                    "yes or no (" + ", ".join(FLAG_TEXT[:4]) + ", 1, 0) or blank",
                )
            )  # fmt: skip
    post = [v.id for v in study.post_baseline]
    if "ice_visit" in frame.columns:
        visit = frame["ice_visit"].astype("string").str.strip()
        bad = visit.notna() & (visit != "") & ~visit.isin(post)
        for index in frame.index[bad.to_numpy(bool)]:
            expected = "a post-baseline visit id (" + ", ".join(post) + ") or blank"
            problems.append(
                InputProblem(
                    *_where(frame, index), "ice_visit", frame.at[index, "ice_visit"], expected
                )
            )
    if "ice_type" in frame.columns:
        kind = frame["ice_type"].astype("string").str.strip().fillna("")
        visit = frame.get("ice_visit", pd.Series(pd.NA, index=frame.index))
        no_visit = visit.astype("string").str.strip().fillna("") == ""
        for index in frame.index[((kind != "") & no_visit).to_numpy(bool)]:
            problems.append(
                InputProblem(
                    *_where(frame, index), "ice_visit", None,
                    f"the first visit the event '{kind[index]}' (ice_type) affects",
                )
            )  # fmt: skip


def validate_instrument(
    raw: pd.DataFrame, spec: InstrumentSpec, study: Study, participant_ids: set[str]
) -> tuple[pd.DataFrame, list[InputProblem]]:
    """Check and type one instrument's item frame; returns the typed frame and its problems."""
    problems: list[InputProblem] = []
    frame = raw.copy()
    file = _file_of(frame, str(spec.path(study.data_dir)))
    options = spec.scorer_options()
    item_table = instruments.items(spec.type, **options)
    known = {"participant_id", "visit", *item_table["column"], *SOURCE_COLUMNS}
    required = ["participant_id", "visit", *item_table.loc[item_table["required"], "column"]]
    for column in required:
        if column not in frame.columns:
            problems.append(InputProblem(file, 1, column, None, f"a column named '{column}'"))
    for column in frame.columns:
        if column not in known:
            expected = "one of the instrument's columns: " + ", ".join(item_table["column"])
            problems.append(InputProblem(file, 1, column, column, expected))
    if problems:
        return frame, problems

    ids = frame["participant_id"]
    for index in frame.index[ids.isna() | ~ids.isin(participant_ids)]:
        problems.append(
            InputProblem(
                *_where(frame, index),
                "participant_id",
                ids.at[index],
                "a participant_id listed in participants.csv",
            )
        )
    _check_allowed(frame, "visit", study.visit_ids, problems, required=True)
    keys = frame[["participant_id", "visit"]]
    for index in frame.index[keys.notna().all(axis=1) & keys.duplicated(keep="first")]:
        problems.append(
            InputProblem(
                *_where(frame, index),
                "visit",
                frame.at[index, "visit"],
                f"one row per participant and visit ({ids.at[index]} appears twice)",
            )
        )

    for item in item_table.itertuples(index=False):
        if item.column not in frame.columns:
            continue
        responses = item.responses
        numeric_responses = responses is None or all(
            isinstance(r, int | float | np.integer | np.floating) for r in responses
        )
        if item.kind == "text" or not numeric_responses:
            continue  # categorical text answers are checked against responses by check_items
        frame[item.column] = _to_numbers(frame, item.column, _describe(item), problems)

    if not problems:
        problems.extend(instruments.check_items(spec.type, frame, **options))
    return frame, problems


def _describe(item) -> str:
    if item.responses is not None:
        return "one of " + ", ".join(
            f"{r:g}" if isinstance(r, float) else str(r) for r in item.responses
        )
    if np.isfinite(item.min) and np.isfinite(item.max):
        return f"a number from {item.min:g} to {item.max:g}"
    return "a number"


def required_roster_columns(study: Study) -> set[str]:
    """Roster columns the study's instruments and covariates read."""
    needed = set(study.covariates)
    for spec in study.instruments:
        needed |= set(instruments.roster_columns(spec.type))
    return needed


def validate_study(
    study: Study, participants_raw: pd.DataFrame, instrument_raw: dict[str, pd.DataFrame]
) -> ValidatedStudy:
    """Validate a whole study, raising one :class:`InputError` that lists every problem.

    Parameters
    ----------
    study : Study
    participants_raw : pandas.DataFrame
        ``participants.csv`` as read by :func:`trialflow.io.read_csv_input`.
    instrument_raw : dict of str to pandas.DataFrame
        Instrument id to its CSV(s) as read by :func:`trialflow.io.read_csv_input`.
    """
    participants, problems = validate_participants(
        participants_raw, study, required_roster_columns(study)
    )
    participant_ids = set(participants.get("participant_id", pd.Series(dtype=str)).dropna())
    frames: dict[str, pd.DataFrame] = {}
    for spec in study.instruments:
        frame, found = validate_instrument(instrument_raw[spec.id], spec, study, participant_ids)
        frames[spec.id] = frame
        problems.extend(found)
    if problems:
        raise InputError(problems)
    return ValidatedStudy(participants, frames, data_quality(study, participants, frames))


def data_quality(
    study: Study, participants: pd.DataFrame, frames: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    """Per instrument and visit: participants expected and seen, rows, and blank cells."""
    expected = participants.groupby("arm").size()
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
                    "participants_in_roster": int(expected.sum()),
                    "rows": int(in_visit.sum()),
                    "columns": int(values.shape[1]),
                    "blank_cells": int(cells.isna().sum().sum()),
                    "rows_with_blanks": int(cells.isna().any(axis=1).sum()),
                    "files": int(frame.loc[in_visit, "source_file"].nunique()),
                }
            )
    return pd.DataFrame(rows)
