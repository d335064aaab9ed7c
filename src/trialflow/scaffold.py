"""``trialflow init``: a commented study config scaffolded from the files of a data folder.

Every readable table of the folder (and every sub-folder of CSVs, as devices export them) is
read. The roster is ``participants.<ext>``, else the one table with ``participant_id`` and no
``visit``. Each other table with ``participant_id`` and ``visit`` becomes an instrument: a
built-in type when its columns are that type's columns (``q1..q36``: SF-36; ``q1..q14``:
HADS, scored 0-3 or by printed position; ``time_s``: TUG or timed loaded standing, told apart
by the file name), else ``measures`` with one measure per numeric column. Visits and their
weeks are guessed from the visit values (``baseline``, ``week8``, ``month3``), arms from the
roster's ``arm`` values (a control-like name first). Whatever was guessed is marked ``TODO``
for the user to review. The scaffold is checked against the schema and the config rules
before it is returned.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from trialflow import instruments
from trialflow.io import ROSTER_STEM, read_raw_input, select_folder_files
from trialflow.readers import TABLE_EXTENSIONS

__all__ = ["Table", "scaffold_config", "scan_folder"]

_CONTROL_WORDS = ("control", "placebo", "usual", "standard", "sham", "waitlist", "wait_list")
_TEXT_COLUMNS = ("participant_id", "visit", "arm", "sex", "ethnicity", "last_visit")
_UNITS = {
    "_kg": "kg",
    "_cm": "cm",
    "_m": "m",
    "_s": "s",
    "_min": "min",
    "_deg": "degrees",
    "_nm": "Nm",
    "_pct": "%",
    "_l": "L",
    "_mmhg": "mmHg",
    "_bpm": "beats/min",
}


@dataclass
class Table:
    """One table of the data folder as ``init`` sees it."""

    name: str  # file or folder name inside the data folder
    stem: str
    sheet: str | None
    frame: pd.DataFrame
    columns: list[str] = field(default_factory=list)


def scan_folder(data_dir: str | Path) -> list[Table]:
    """Every readable table of ``data_dir``: files of a readable type (each sheet of a
    workbook), and sub-folders holding CSVs; unreadable ones are left out."""
    tables = []
    for entry in sorted(Path(data_dir).iterdir(), key=lambda p: p.name):
        if entry.name.startswith((".", "~$")):
            continue
        if entry.is_dir():
            if select_folder_files(entry)[0]:
                tables += _read(entry, entry.name, None)
        elif entry.suffix.lower() in TABLE_EXTENSIONS:
            for sheet in _sheets(entry):
                tables += _read(entry, entry.stem, sheet)
    return tables


def _sheets(path: Path) -> list[str | None]:
    if path.suffix.lower() != ".xlsx":
        return [None]
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    names = list(book.sheetnames)
    book.close()
    return [None] if len(names) == 1 else names


def _read(path: Path, stem: str, sheet: str | None) -> list[Table]:
    read = read_raw_input(path, sheet=sheet)
    if read.frame is None:
        return []
    frame = read.frame.copy()
    for (
        column,
        labels,
    ) in read.cells.labels.items():  # coded text columns, as validation shows them
        if column in _TEXT_COLUMNS:
            frame[column] = frame[column].map(lambda v, labels=labels: labels.get(v, v))
    columns = [c for c in frame.columns if c not in ("source_file", "source_row")]
    name = path.name if path.is_file() else path.name + "/"
    return [Table(name, _identifier(sheet or stem), sheet, frame, columns)]


def _identifier(text: str) -> str:
    ident = re.sub(r"[^A-Za-z0-9_]+", "_", text.strip()).strip("_").lower()
    return ident if ident[:1].isalpha() else f"x_{ident}"


def _numeric(column: pd.Series) -> bool:
    values = column.dropna()
    numbers = pd.to_numeric(values, errors="coerce")
    return (
        len(values) > 0 and bool(numbers.notna().all()) and bool(numbers.abs().lt(math.inf).all())
    )


# ----------------------------------------------------------------------- recognising


def _type_columns() -> dict[str, tuple[set[str], set[str]]]:
    """Built-in type -> (required columns, all columns)."""
    known = {}
    for name in instruments.TYPES:
        if name == "measures":
            continue
        table = instruments.items(name)
        known[name] = (set(table.loc[table["required"], "column"]), set(table["column"]))
    return known


def recognise(table: Table) -> tuple[str, dict, list[str]]:
    """The type of an instrument table, its options, and TODO notes on what was guessed."""
    columns = set(table.columns) - {"participant_id", "visit"}
    fits = [
        name for name, (required, every) in _type_columns().items() if required <= columns <= every
    ]
    if not fits:
        return "measures", {}, []
    chosen = table.stem if table.stem in fits else fits[0]
    notes = [f"recognised by its columns ({_summary(columns)})"]
    if len(fits) > 1 and table.stem not in fits:
        others = ", ".join(f for f in fits if f != chosen)
        notes.append(f"TODO: the columns also fit type {others}: check the type")
    options = {}
    if chosen == "hads":
        options, note = _hads_coding(table.frame)
        notes.append(note)
    return chosen, options, notes


def _summary(columns: set[str]) -> str:
    items = sorted(c for c in columns if re.fullmatch(r"q\d+", c))
    if items and len(items) == len(columns):
        return f"q1..q{len(items)}"
    names = sorted(columns)
    return ", ".join(names) if len(names) <= 3 else ", ".join(names[:3]) + f", ... ({len(names)})"


def _hads_coding(frame: pd.DataFrame) -> tuple[dict, str]:
    items = frame[[f"q{i}" for i in range(1, 15)]].apply(pd.to_numeric, errors="coerce")
    low, high = items.min().min(), items.max().max()
    if high > 3:
        coding, why = "position", f"answers run {low:g}-{high:g}: printed positions 1-4"
    else:
        coding, why = "score", f"answers run {low:g}-{high:g}: scored 0-3"
    return {"coding": coding}, f"TODO: check the coding ({why})"


# --------------------------------------------------------------------------- guesses


def guess_week(visit: str) -> float | None:
    """A visit's week from its name: baseline 0, ``week8`` 8, ``month3`` 13, else None."""
    name = visit.lower()
    if re.fullmatch(r"(baseline|base|screening|pre|v0|t0|day0)", name):
        return 0.0
    match = re.search(r"(?:week|wk|w)_?(\d+(?:\.\d+)?)", name)
    if match:
        return float(match.group(1))
    match = re.search(r"(?:month|mo|m)_?(\d+(?:\.\d+)?)", name)
    if match:
        return round(float(match.group(1)) * 52 / 12, 1)
    match = re.search(r"(?:day|d)_?(\d+)", name)
    if match:
        return round(float(match.group(1)) / 7, 1)
    return None


def guess_visits(values: list[str]) -> list[dict]:
    """Visit entries ordered by guessed week: the first the baseline, the last a follow-up
    when there are three or more, the one before it the end of treatment."""
    weeks = {v: guess_week(v) for v in values}
    known = sorted((v for v in values if weeks[v] is not None), key=lambda v: (weeks[v], v))
    unknown = sorted(v for v in values if weeks[v] is None)
    ordered = known + unknown
    last = max([w for w in weeks.values() if w is not None], default=0.0)
    visits = []
    for i, visit in enumerate(ordered):
        week, guessed = weeks[visit], False
        if week is None:
            week, guessed = last + 4 * (unknown.index(visit) + 1), True
        role = "treatment"
        if i == 0:
            role = "baseline"
        elif i == len(ordered) - 1:
            role = "follow_up" if len(ordered) >= 3 else "end_of_treatment"
        elif i == len(ordered) - 2 and len(ordered) >= 3:
            role = "end_of_treatment"
        visits.append({"id": visit, "week": week, "role": role, "week_guessed": guessed})
    return visits


def guess_arms(values: list[str]) -> list[str]:
    """Arm ids with a control-like one first (the reference arm), else sorted."""
    ordered = sorted(values)
    control = [v for v in ordered if any(w in v.lower() for w in _CONTROL_WORDS)]
    return control[:1] + [v for v in ordered if v not in control[:1]]


def _label(identifier: str) -> str:
    text = re.sub(r"_+", " ", identifier).strip()
    text = re.sub(r"([a-z])(\d)", r"\1 \2", text)
    return text[:1].upper() + text[1:]


def _unit(column: str) -> str:
    for suffix, unit in sorted(_UNITS.items(), key=lambda kv: -len(kv[0])):
        if column.lower().endswith(suffix):
            return unit
    return ""


# --------------------------------------------------------------------------- writing


def scaffold_config(data_dir: str | Path, study_id: str) -> str:
    """A commented, schema-valid config with one study scaffolded from ``data_dir``.

    Raises
    ------
    ValueError
        When the folder holds no roster or no instrument table.
    """
    from trialflow.scaffold_writer import write_scaffold

    tables = scan_folder(data_dir)
    roster = _roster(tables)
    if roster is None:
        raise ValueError(
            f"{data_dir}: no roster found (participants.<ext>, or a table with a "
            "participant_id column and no visit column)"
        )
    measured = [
        t for t in tables if t is not roster and {"participant_id", "visit"} <= set(t.columns)
    ]
    if not measured:
        raise ValueError(f"{data_dir}: no table with participant_id and visit columns")
    unread = [t for t in tables if t is not roster and t not in measured]
    return write_scaffold(str(data_dir), study_id, roster, measured, unread)


def _roster(tables: list[Table]) -> Table | None:
    named = [t for t in tables if t.stem == ROSTER_STEM]
    if named:
        return named[0]
    candidates = [t for t in tables if "participant_id" in t.columns and "visit" not in t.columns]
    return candidates[0] if len(candidates) == 1 else None
