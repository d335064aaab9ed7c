"""A raw file as the long text frame validation checks: layouts, value labels, user-missing.

An instrument's file may be laid out

* ``long`` (default): one row per participant and visit, ``participant_id, visit`` and one
  column per item;
* ``wide``: one row per participant, one column per item and visit, named by the instrument's
  ``column_pattern`` (``{item}_{visit}``: ``q3_week8``);
* ``redcap``: a REDCap "records" export: one row per record and event (and repeat instance),
  the event in ``redcap_event_name``, the instrument's fields named by ``column_pattern``
  (``hads_{item}``); rows of other instruments and events (all of this instrument's fields
  blank) are left out.

The ``visit_map`` maps the file's visit tokens, event names (and, for a REDCap repeating
event, its repeat instances) or visit values to the study's visit ids; without one they must
be the visit ids. The ``id_column`` is renamed ``participant_id``.

Value labels (SPSS, Stata, SAS) replace codes only in text columns (arm, sex, HSS
categories, ids); items keep their codes, which the scorers read. The file's own user-missing
codes are blanked and each is counted as a ``missing_code`` finding of ``data_quality.csv``.
The long frame keeps each row's ``source_file`` and ``source_row``; the returned
:class:`~trialflow.sources.SourceMap` names problems by the file's columns and cells.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trialflow.config import InstrumentSpec, Study, VisitKey
from trialflow.errors import InputProblem
from trialflow.sources import FileCells, SourceMap

__all__ = ["EVENT_COLUMN", "INSTANCE_COLUMN", "Prepared", "prepare_instrument", "prepare_roster"]

EVENT_COLUMN = "redcap_event_name"
INSTANCE_COLUMN = "redcap_repeat_instance"
_SOURCE = ["source_file", "source_row"]


@dataclass(frozen=True)
class Prepared:
    """A raw input as validation reads it: the long frame (None if it cannot be made), the
    problems of the reshape, the user-missing findings, and the map back to the file."""

    frame: pd.DataFrame | None
    problems: list[InputProblem]
    findings: list[dict]
    source: SourceMap | None


def _label_of(frame: pd.DataFrame, fallback: str) -> str:
    return str(frame["source_file"].iloc[0]) if len(frame) else fallback


def prepare_roster(frame: pd.DataFrame, cells: FileCells, study: Study, label: str) -> Prepared:
    """The roster as read: value labels for its text columns, user-missing codes blanked."""
    if cells.plain:
        return Prepared(frame, [], [], None)
    text = roster_text_columns(study)
    part, findings = _piece(frame, {}, pd.Series("", index=frame.index), cells, text)
    findings = [dict(f, instrument="participants", file=label) for f in findings]
    source = SourceMap(label, frame, cells, {}, sorted(text & set(frame.columns)))
    return Prepared(part, [], findings, source)


def roster_text_columns(study: Study) -> set[str]:
    """Roster columns that hold text (where value labels are shown instead of codes)."""
    from trialflow.roster import ROSTER_COLUMNS

    known = {c for c, rule in ROSTER_COLUMNS.items() if rule.kind == "categorical"}
    categorical = {c for c in study.covariates if study.covariate_type(c) == "categorical"}
    return {"participant_id", "arm", "last_visit", "withdrawal_reason", *known, *categorical}


def instrument_text_columns(item_table: pd.DataFrame) -> set[str]:
    """Item columns that hold text: free text, and categories that are not numbers."""
    text = set()
    for item in item_table.itertuples(index=False):
        responses = item.responses
        words = responses is not None and any(isinstance(r, str) for r in responses)
        if item.kind == "text" or words:
            text.add(item.column)
    return {"participant_id", "visit", *text}


def prepare_instrument(
    frame: pd.DataFrame, cells: FileCells, spec: InstrumentSpec, study: Study, label: str
) -> Prepared:
    """One instrument's file as a long text frame (see the module docstring)."""
    default = (spec.layout, spec.column_pattern, spec.id_column) == (
        "long",
        "{item}",
        "participant_id",
    )
    if default and not spec.visit_map and cells.plain:
        return Prepared(frame, [], [], None)
    from trialflow import instruments

    item_table = instruments.items(spec.type, **spec.scorer_options())
    items = list(item_table["column"])
    text = instrument_text_columns(item_table)
    reshape = {"long": _long, "wide": _wide, "redcap": _redcap}[spec.layout]
    pieces, columns, problems = reshape(frame, spec, study, items, label, cells)
    if problems:
        return Prepared(None, problems, [], SourceMap(label, frame, cells, columns))
    parts, findings = [], []
    for rows, renames, visits in pieces:
        part, found = _piece(rows, renames, visits, cells, text)
        parts.append(part)
        findings += found
    long = _concat(parts, frame)
    findings = [dict(f, instrument=spec.id, file=label) for f in findings]
    return Prepared(long, [], findings, SourceMap(label, frame, cells, columns, sorted(text)))


def _concat(parts: list[pd.DataFrame], frame: pd.DataFrame) -> pd.DataFrame:
    if len(parts) == 1:
        return parts[0].drop(columns="_order", errors="ignore").reset_index(drop=True)
    if not parts:
        return frame.iloc[0:0]
    long = pd.concat(parts, ignore_index=True)
    long = long.sort_values(["source_row", "_order"], kind="stable")  # the file's order
    return long.drop(columns="_order").reset_index(drop=True)


def _piece(
    rows: pd.DataFrame,
    renames: dict[str, str],
    visits: pd.Series,
    cells: FileCells,
    text: set[str],
) -> tuple[pd.DataFrame, list[dict]]:
    """Rows of the file with their columns renamed: value labels in text columns, the file's
    user-missing codes blank (one finding per column, code and visit)."""
    rows = rows.copy()
    findings = []
    for column in rows.columns.difference(_SOURCE):
        target = renames.get(column, column)
        labels = cells.labels.get(column)
        codes = cells.user_missing.get(column)
        if codes:
            coded = rows[column].isin(list(codes)).to_numpy()
            if coded.any():
                hits = pd.DataFrame({"visit": visits[coded], "code": rows.loc[coded, column]})
                for (visit, code), count in hits.groupby(["visit", "code"]).size().items():
                    findings.append(_finding(visit, column, code, int(count), codes[code]))
                rows.loc[coded, column] = np.nan
        if labels and target in text:
            shown = rows[column].map(lambda code, labels=labels: labels.get(code, code))
            rows[column] = shown.astype(rows[column].dtype)
    return rows.rename(columns=renames), findings


def _finding(visit: str, column: str, code: str, count: int, what: str) -> dict:
    shown = what.split("user-missing value ", 1)[-1].split(" (", 1)[0]
    return {
        "instrument": "",
        "visit": visit,
        "finding": "missing_code",
        "file": "",
        "column": column,
        "value": shown,
        "count": count,
        "detail": f"{what} in the file: set to blank",
    }


def _key_problem(label: str, column: str, why: str) -> InputProblem:
    return InputProblem(label, None, column, None, f"a column named '{column}' ({why})")


def _visit_lookup(keys: tuple[VisitKey, ...], study: Study) -> dict[tuple[str, int | None], str]:
    if not keys:
        return {(v, None): v for v in study.visit_ids}
    return {(k.value, k.instance): k.visit for k in keys}


def _long(frame, spec: InstrumentSpec, study: Study, items, label, cells: FileCells):
    renames = {spec.column_pattern.format(item=i): i for i in items}
    renames = {k: v for k, v in renames.items() if k in frame.columns and k != v}
    if spec.id_column != "participant_id":
        if spec.id_column not in frame.columns:
            return [], {}, [_key_problem(label, spec.id_column, "the declared id_column")]
        renames[spec.id_column] = "participant_id"
    columns = {new: (old,) for old, new in renames.items()}
    if "visit" not in frame.columns:
        return [(frame, renames, pd.Series("", index=frame.index))], columns, []
    # the visit as shown (its value label), then mapped to a visit id
    labels = cells.labels.get("visit", {})
    mapping = {k.value: k.visit for k in spec.visit_map if k.instance is None}
    visits = frame["visit"].map(lambda v: mapping.get(labels.get(v, v), labels.get(v, v)))
    visits = visits.astype(frame["visit"].dtype)
    rows = frame.assign(visit=visits) if labels or mapping else frame
    return [(rows, renames, visits.fillna(""))], columns, []


def _wide(frame, spec: InstrumentSpec, study: Study, items, label, cells: FileCells):
    if spec.id_column not in frame.columns:
        return [], {}, [_key_problem(label, spec.id_column, "the id_column of a wide layout")]
    tokens = [(k.value, k.visit) for k in spec.visit_map if k.instance is None] or [
        (v, v) for v in study.visit_ids
    ]
    problems = _unknown_tokens(frame.columns, spec.column_pattern, items, tokens, label)
    if problems:
        return [], {}, problems
    pieces, columns = [], {}
    for token, visit in tokens:
        order = study.visit_ids.index(visit)  # long rows in visit order, whatever the map's
        renames = {spec.column_pattern.format(item=i, visit=token): i for i in items}
        renames = {k: v for k, v in renames.items() if k in frame.columns}
        if not renames:
            continue
        rows = frame.loc[frame[list(renames)].notna().any(axis=1).to_numpy()]
        rows = rows[[spec.id_column, *renames, *_SOURCE]]
        rows.insert(1, "visit", visit)
        rows = rows.assign(_order=order)
        for old, new in renames.items():
            columns[new] = (*columns.get(new, ()), old)
        visit_names = pd.Series(visit, index=rows.index)
        pieces.append((rows, {**renames, spec.id_column: "participant_id"}, visit_names))
    columns["participant_id"] = (spec.id_column,)
    return pieces, columns, []


def _unknown_tokens(columns, pattern: str, items, tokens, label: str) -> list[InputProblem]:
    """Columns named by the pattern with a known item but a visit token not in the map."""
    regex = ""
    for literal, name, _, _ in string.Formatter().parse(pattern):
        regex += re.escape(literal)
        if name == "item":
            regex += "(?P<item>" + "|".join(map(re.escape, sorted(items, key=len)[::-1])) + ")"
        elif name == "visit":
            regex += "(?P<visit>.+?)"
    known = {token for token, _ in tokens}
    problems = []
    for column in columns:
        match = re.fullmatch(regex, str(column))
        if match and match.group("visit") not in known:
            expected = (
                f"a visit token of the visit_map ({', '.join(sorted(known))}) in the column "
                f"name; '{match.group('visit')}' is not one: map it to a visit id"
            )
            problems.append(InputProblem(label, None, str(column), str(column), expected))
    return problems


def _redcap(frame, spec: InstrumentSpec, study: Study, items, label, cells: FileCells):
    for column, why in ((spec.id_column, "the id_column"), (EVENT_COLUMN, "a REDCap export")):
        if column not in frame.columns:
            return [], {}, [_key_problem(label, column, why)]
    renames = {spec.column_pattern.format(item=i): i for i in items}
    renames = {k: v for k, v in renames.items() if k in frame.columns}
    lookup = _visit_lookup(spec.visit_map, study)
    events = frame[EVENT_COLUMN].astype(object)
    instances: list[int | None] = [None] * len(frame)
    if INSTANCE_COLUMN in frame.columns:
        numbers = pd.to_numeric(frame[INSTANCE_COLUMN], errors="coerce").to_numpy(dtype=float)
        instances = [None if np.isnan(n) else int(n) for n in numbers]
    keys = list(zip(events, instances, strict=True))
    visits = pd.Series([lookup.get(k) for k in keys], index=frame.index, dtype=object)
    filled = frame[list(renames)].notna().any(axis=1) if renames else visits.isna() & False
    problems = []
    for position in np.flatnonzero((filled & visits.isna()).to_numpy()):
        index = frame.index[position]
        event, instance = keys[position]
        repeat = "" if instance is None else f", repeat instance {instance}"
        expected = (
            f"an event of the visit_map ({_events(lookup)}); this row of event '{event}'"
            f"{repeat} holds {spec.id} data: map the event to a visit id"
        )
        row = int(frame.at[index, "source_row"])
        problems.append(InputProblem(label, row, EVENT_COLUMN, event, expected))
    if problems:
        return [], {}, problems
    kept = (filled & visits.notna()).to_numpy()
    rows = frame.loc[kept, [spec.id_column, *renames, *_SOURCE]]
    rows.insert(1, "visit", visits[kept].astype("str"))
    columns = {new: (old,) for old, new in renames.items()}
    columns.update(participant_id=(spec.id_column,), visit=(EVENT_COLUMN,))
    renames[spec.id_column] = "participant_id"
    return [(rows, renames, rows["visit"])], columns, []


def _events(lookup: dict[tuple[str, int | None], str]) -> str:
    return ", ".join(
        event if instance is None else f"{event} #{instance}" for event, instance in lookup
    )
