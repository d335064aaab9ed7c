"""Structural validation of a study's raw inputs: every problem with its file, row and column.

Checks here are the ones that do not depend on an instrument's content: required columns,
participant ids known to the roster, declared visits, one row per participant and visit,
numbers where numbers are expected (finite ones), typed covariates, no identifying roster
column unless allowed. Declared missing codes are blanked first and counted. Item content
(allowed answers) is checked by each instrument's own ``check_items``, on the text as typed,
so messages echo what the cell held. All problems of all files are raised together.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from trialflow import instruments
from trialflow.adverse_events import checked_adverse_events
from trialflow.config import InstrumentSpec, Study
from trialflow.errors import InputError, InputProblem
from trialflow.identifying import identifying_reason
from trialflow.io import SOURCE_COLUMNS
from trialflow.missing_codes import blank_missing_codes, possible_missing_codes
from trialflow.quality import data_quality
from trialflow.roster import FLAG_TEXT, ROSTER_COLUMNS
from trialflow.sources import SourceMap
from trialflow.study_inputs import prepare_inputs, read_study_inputs

__all__ = [
    "ValidatedStudy",
    "data_quality",
    "output_label",
    "read_study_inputs",
    "required_roster_columns",
    "validate_inputs",
    "validate_instrument",
    "validate_participants",
    "validate_study",
    "with_output_labels",
]

# Roster columns trialflow knows are checked against trialflow.roster.ROSTER_COLUMNS.
# Anything else is kept as is (a covariate, say) and checked only if the config names it.
_ID_COLUMNS = ("participant_id", "arm", "last_visit", "withdrawal_reason")


@dataclass(frozen=True)
class ValidatedStudy:
    """Typed inputs of one study: the roster, one item frame per instrument, a quality table."""

    participants: pd.DataFrame
    instruments: dict[str, pd.DataFrame]
    quality: pd.DataFrame
    adverse_events: pd.DataFrame | None = None  # None: adverse_events.csv absent


@dataclass
class _Found:
    """What a check found: problems (errors) and data-quality findings (rows)."""

    problems: list[InputProblem]
    findings: list[dict]


def _where(frame: pd.DataFrame, index) -> tuple[str, int]:
    return str(frame.at[index, "source_file"]), int(frame.at[index, "source_row"])


def _file_of(frame: pd.DataFrame, fallback: str) -> str:
    return str(frame["source_file"].iloc[0]) if len(frame) else fallback


def _to_numbers(
    frame: pd.DataFrame, column: str, expected: str, problems: list[InputProblem]
) -> pd.Series:
    """Convert a text column to floats; every non-blank cell that is not a finite number is a
    problem (``inf``, ``1e999``), echoed as typed, and becomes NaN."""
    text = frame[column]
    numbers = _parsed(text).astype(float)
    infinite = np.isinf(numbers.to_numpy())
    for index in frame.index[(text.notna() & numbers.isna()).to_numpy() | infinite]:
        file, row = _where(frame, index)
        problems.append(InputProblem(file, row, column, text.at[index], expected))
    return numbers.where(~infinite)


def _parsed(text: pd.Series) -> pd.Series:
    """``pd.to_numeric(text, errors="coerce")``, parsing each distinct text once (answers of a
    questionnaire repeat a handful of codes over every row)."""
    if not isinstance(text.dtype, pd.StringDtype):
        return pd.to_numeric(text, errors="coerce")
    codes, distinct = pd.factorize(text, use_na_sentinel=True)
    # a blank among them, if the column has one: pandas picks the result type from all values
    distinct = pd.Series([*distinct, *([None] if (codes < 0).any() else [])], dtype=text.dtype)
    parsed = pd.to_numeric(distinct, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    values = np.append(parsed, np.nan)[codes]
    return pd.Series(values, index=text.index, name=text.name)


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


# ------------------------------------------------------------------------------ the roster


def validate_participants(
    raw: pd.DataFrame,
    study: Study,
    required_columns: set[str] | None = None,
    findings: list[dict] | None = None,
) -> tuple[pd.DataFrame, list[InputProblem]]:
    """Check and type the roster (``participants.csv``).

    Parameters
    ----------
    raw : pandas.DataFrame
        The roster as read by :func:`trialflow.io.read_raw_input` (text cells).
    study : Study
    required_columns : set of str, optional
        Roster columns the study's instruments and covariates need (e.g. ``height_cm``).
    findings : list of dict, optional
        Receives the data-quality findings (missing codes, possible missing codes).

    Returns
    -------
    participants : pandas.DataFrame
        Numeric columns as floats, categorical covariates as text, source columns kept.
    problems : list of InputProblem
    """
    found = _Found([], findings if findings is not None else [])
    problems = found.problems
    frame = raw.copy()
    file = _file_of(frame, f"{study.data_dir}/participants.csv")
    if "arm" not in frame.columns and len(study.arms) == 1:
        frame["arm"] = study.arms[0].id  # a single-arm roster need not repeat its arm
    required = {"participant_id", "arm"} | set(required_columns or ())
    for column in sorted(required - set(frame.columns)):
        problems.append(InputProblem(file, 1, column, None, f"a column named '{column}'"))
    problems += _identifying_columns(frame, study, file)
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
    checked = [c for c in frame.columns if c in ROSTER_COLUMNS or c in study.covariates]
    frame, coded = blank_missing_codes(
        frame, dict.fromkeys(checked, study.missing_codes), instrument="participants", file=file
    )
    found.findings.extend(coded)
    _check_known_roster_columns(frame, required, problems, kind="categorical")
    if "last_visit" in frame.columns:
        _check_allowed(frame, "last_visit", study.visit_ids, problems, required=False)
    _check_known_roster_columns(frame, required, problems, kind="numeric")
    _check_plan_columns(frame, study, problems)
    numeric = [c for c, rule in ROSTER_COLUMNS.items() if rule.kind == "numeric"]
    for covariate in study.covariates:
        if covariate in frame.columns and covariate not in ROSTER_COLUMNS:
            if study.covariate_type(covariate) == "numeric":
                expected = (
                    f"a number (the covariate '{covariate}' is numeric; if it holds "
                    f"categories, declare it as {{name: {covariate}, type: categorical}})"
                )
                frame[covariate] = _to_numbers(frame, covariate, expected, problems)
                numeric.append(covariate)
    found.findings.extend(
        possible_missing_codes(frame, numeric, instrument="participants", file=file)
    )
    return frame, problems


def _identifying_columns(frame: pd.DataFrame, study: Study, file: str) -> list[InputProblem]:
    problems = []
    for column in frame.columns:
        if column in SOURCE_COLUMNS or column in _ID_COLUMNS or column in study.allow_columns:
            continue
        reason = identifying_reason(str(column))
        if reason is not None:
            problems.append(
                InputProblem(
                    file,
                    1,
                    column,
                    None,
                    f"no column that identifies a person; '{column}' looks like {reason}: "
                    "remove it from the file (trialflow never needs it), or list it under "
                    "allow_columns in the study config if it must stay",
                )
            )
    return problems


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


# ----------------------------------------------------------------------------- instruments


def validate_instrument(
    raw: pd.DataFrame,
    spec: InstrumentSpec,
    study: Study,
    participant_ids: set[str] | None,
    findings: list[dict] | None = None,
) -> tuple[pd.DataFrame, list[InputProblem]]:
    """Check and type one instrument's item frame; returns the typed frame and its problems.

    ``participant_ids`` None skips the roster check (the roster could not be read);
    ``findings`` receives the data-quality findings.
    """
    problems: list[InputProblem] = []
    findings = findings if findings is not None else []
    frame = raw.copy()
    file = _file_of(frame, str(spec.path(study.data_dir)))
    options = spec.scorer_options()
    item_table = instruments.items(spec.type, **options)
    problems += _column_problems(frame, item_table, file)
    if problems:
        return frame, problems
    problems += _row_key_problems(frame, study, participant_ids)

    coded_columns = item_table.loc[item_table["kind"] != "text", "column"]
    per_column = spec.column_missing_codes()
    codes = {
        c: tuple({*study.missing_codes, *spec.missing_codes, *per_column.get(c, ())})
        for c in coded_columns
    }
    label = str(spec.path(study.data_dir))
    frame, coded = blank_missing_codes(frame, codes, instrument=spec.id, file=label)
    findings.extend(coded)

    numeric_items = []
    for item in item_table.itertuples(index=False):
        if item.column not in frame.columns or not _numeric_item(item):
            continue
        numeric_items.append(item.column)
        _to_numbers(frame, item.column, _describe(item), problems)
    if not problems:  # on the text as typed, so messages echo the cell, not a parsed 7.0
        problems.extend(instruments.check_items(spec.type, frame, **options))
    for column in numeric_items:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    measured = list(item_table.loc[item_table["kind"] == "numeric", "column"])
    findings.extend(possible_missing_codes(frame, measured, instrument=spec.id, file=label))
    return frame, problems


def _numeric_item(item) -> bool:
    responses = item.responses
    numeric_responses = responses is None or all(
        isinstance(r, int | float | np.integer | np.floating) for r in responses
    )
    return item.kind != "text" and numeric_responses


def _column_problems(
    frame: pd.DataFrame, item_table: pd.DataFrame, file: str
) -> list[InputProblem]:
    from trialflow.config_rules import did_you_mean

    problems = []
    known = {"participant_id", "visit", *item_table["column"], *SOURCE_COLUMNS}
    required = ["participant_id", "visit", *item_table.loc[item_table["required"], "column"]]
    for column in required:
        if column not in frame.columns:
            problems.append(InputProblem(file, 1, column, None, f"a column named '{column}'"))
    for column in frame.columns:
        if column not in known:
            expected = (
                "one of the instrument's columns"
                + did_you_mean(column, sorted(known - set(SOURCE_COLUMNS)))
                + ": "
                + ", ".join(item_table["column"])
            )
            problems.append(InputProblem(file, 1, column, column, expected))
    return problems


def _row_key_problems(
    frame: pd.DataFrame, study: Study, participant_ids: set[str] | None
) -> list[InputProblem]:
    problems: list[InputProblem] = []
    ids = frame["participant_id"]
    unknown = ids.isna()
    if participant_ids is not None:
        # as plain objects: pandas checks membership in a set of Arrow strings one by one
        unknown |= ~ids.astype(object).isin(participant_ids)
    for index in frame.index[unknown]:
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
    return problems


def _describe(item) -> str:
    if item.responses is not None:
        return "one of " + ", ".join(
            f"{r:g}" if isinstance(r, float) else str(r) for r in item.responses
        )
    if np.isfinite(item.min) and np.isfinite(item.max):
        return f"a number from {item.min:g} to {item.max:g}"
    return "a finite number"


def required_roster_columns(study: Study) -> set[str]:
    """Roster columns the study's instruments and covariates read."""
    needed = set(study.covariates)
    for spec in study.instruments:
        needed |= set(instruments.roster_columns(spec.type))
    return needed


# ---------------------------------------------------------------------------- whole study


def validate_study(
    study: Study,
    participants_raw: pd.DataFrame,
    instrument_raw: dict[str, pd.DataFrame],
    *,
    findings: list[dict] | None = None,
) -> ValidatedStudy:
    """Validate a whole study, raising one :class:`InputError` that lists every problem.

    Parameters
    ----------
    study : Study
    participants_raw : pandas.DataFrame
        ``participants.csv`` as read by :func:`trialflow.io.read_raw_input`.
    instrument_raw : dict of str to pandas.DataFrame
        Instrument id to its CSV(s) as read by :func:`trialflow.io.read_raw_input`.
    findings : list of dict, optional
        Findings found while reading (skipped files), put into the quality table.
    """
    found = _Found([], list(findings or ()))
    frames = _validate_frames(study, participants_raw, instrument_raw, found)
    if found.problems:
        raise InputError(found.problems)
    participants = frames.pop("participants")
    quality = data_quality(study, participants, frames, found.findings)
    return ValidatedStudy(participants, frames, quality)


def with_output_labels(validated: ValidatedStudy, study: Study) -> ValidatedStudy:
    """The validated study with every file named by :func:`output_label` (``source_file``
    and the quality table's ``file``), as the outputs record it."""

    def relabel(column: pd.Series) -> pd.Series:
        labels = {f: output_label(f, study) for f in column.dropna().unique() if f != ""}
        if all(key == value for key, value in labels.items()):
            return column  # inside the working directory: as read
        return column.map(lambda f: labels.get(f, f)).astype(column.dtype)

    def sources(frame: pd.DataFrame) -> pd.DataFrame:
        if "source_file" not in frame.columns:
            return frame
        return frame.assign(source_file=relabel(frame["source_file"]))

    quality = validated.quality.assign(file=relabel(validated.quality["file"]))
    return ValidatedStudy(
        sources(validated.participants),
        {k: sources(v) for k, v in validated.instruments.items()},
        quality,
        None if validated.adverse_events is None else sources(validated.adverse_events),
    )


def _validate_frames(
    study: Study,
    participants_raw: pd.DataFrame | None,
    instrument_raw: dict[str, pd.DataFrame | None],
    found: _Found,
    sources: dict[str, SourceMap | None] | None = None,
) -> dict[str, pd.DataFrame]:
    """Validate the roster and every instrument; ``sources`` (input name -> map back to the
    file) names each problem by the file's own column and cell."""
    sources = sources or {}

    def located(name: str, problems: list[InputProblem]) -> list[InputProblem]:
        source = sources.get(name)
        return problems if source is None or not problems else source.locate(problems)

    frames: dict[str, pd.DataFrame] = {}
    participant_ids = None
    if participants_raw is not None:
        participants, problems = validate_participants(
            participants_raw, study, required_roster_columns(study), found.findings
        )
        found.problems.extend(located("participants", problems))
        frames["participants"] = participants
        if "participant_id" in participants.columns:
            participant_ids = set(participants["participant_id"].dropna())
    for spec in study.instruments:
        raw = instrument_raw.get(spec.id)
        if raw is None:
            continue
        frame, problems = validate_instrument(raw, spec, study, participant_ids, found.findings)
        frames[spec.id] = frame
        found.problems.extend(located(spec.id, problems))
    return frames


def output_label(path: str | Path, study: Study, root: str | Path | None = None) -> str:
    """How outputs name a raw file: relative to the working directory; for data outside it
    (``allow_external_data``), relative to the data directory, after ``<data_dir>/``, so
    that only ``provenance.json`` records absolute paths."""
    root = Path(root if root is not None else Path.cwd())
    absolute = Path(os.path.abspath(Path(root, path)))
    if absolute.is_relative_to(Path(os.path.abspath(root))):
        return absolute.relative_to(Path(os.path.abspath(root))).as_posix()
    data_dir = Path(os.path.abspath(Path(root, study.data_dir)))
    if absolute.is_relative_to(data_dir):
        return "<data_dir>/" + absolute.relative_to(data_dir).as_posix()
    return "<external>/" + absolute.name


def validate_inputs(study: Study) -> ValidatedStudy:
    """Read and validate every raw input of a study, raising one :class:`InputError` that
    lists every problem of every file (reading and content alike).

    Returns
    -------
    ValidatedStudy
        Its quality table lists, besides the counts, the files of instrument folders that
        were skipped and why.
    """
    inputs, problems = read_study_inputs(study)
    prepared, reshape_problems = prepare_inputs(study, inputs)
    found = _Found(list(problems) + reshape_problems, [])
    for result in prepared.values():
        found.findings.extend(result.findings)
    for name, read in inputs.items():
        found.problems.extend(read.problems)
        for skipped in read.skipped:
            found.findings.append(
                {
                    "instrument": name,
                    "visit": "",
                    "finding": "skipped_file",
                    "file": output_label(skipped.path, study),
                    "column": "",
                    "value": skipped.path.name,
                    "count": math.nan,
                    "detail": f"not read: {skipped.reason}",
                }
            )
    frames = _validate_frames(
        study,
        prepared["participants"].frame,
        {spec.id: prepared[spec.id].frame for spec in study.instruments},
        found,
        {name: result.source for name, result in prepared.items()},
    )
    events = checked_adverse_events(inputs, frames, study, found.problems)
    if found.problems or "participants" not in frames:
        raise InputError(found.problems)
    participants = frames.pop("participants")
    quality = data_quality(study, participants, frames, found.findings)
    return ValidatedStudy(participants, frames, quality, events)
