"""Machinery shared by every instrument: definitions, item tables, checks and the scoring frame.

An instrument is a subclass of :class:`Instrument` that reads its structure from a YAML
definition file and implements :meth:`Instrument._item_rows`, :meth:`Instrument._outcome_rows`
and :meth:`Instrument._score`. The public functions in :mod:`trialflow.instruments` delegate
to one instance per type.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from trialflow.errors import InputError, InputProblem
from trialflow.roster import ROSTER_COLUMNS

ID_COLUMNS = ("participant_id", "visit")
SOURCE_COLUMNS = ("source_file", "source_row")
ITEM_COLUMNS = ("column", "required", "kind", "responses", "min", "max", "better", "scales")
OUTCOME_COLUMNS = ("score", "label", "unit", "higher_is_better", "algorithm", "analysed")


@cache
def _load_packaged(type_name: str) -> dict[str, Any]:
    text = (
        resources.files("trialflow.instruments")
        .joinpath("definitions", f"{type_name}.yaml")
        .read_text(encoding="utf-8")
    )
    # libyaml's parser when PyYAML has it: read at every Snakemake start, 10x faster
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_definition(type_name: str, path: str | Path | None = None) -> dict[str, Any]:
    """Read an instrument definition file.

    Parameters
    ----------
    type_name : str
        Instrument type; the packaged file ``definitions/<type_name>.yaml`` is used.
    path : str or Path, optional
        An alternative definition file (option ``definition=``), for studies that need a
        different published variant of the item structure.

    Returns
    -------
    dict
        The parsed YAML mapping (a fresh copy for a custom path, a cached one otherwise).
    """
    if path is None:
        return _load_packaged(type_name)
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def item_row(
    column: str,
    *,
    kind: str,
    required: bool = True,
    responses: Iterable[Any] | None = None,
    minimum: float = math.nan,
    maximum: float = math.nan,
    better: str = "high",
    scales: Iterable[str] = (),
) -> dict[str, Any]:
    """One row of an ``items()`` table (see docs/architecture.md)."""
    if kind not in ("categorical", "numeric", "text"):
        raise ValueError(f"unknown item kind {kind!r}")
    if better not in ("high", "low"):
        raise ValueError(f"better must be 'high' or 'low', got {better!r}")
    return {
        "column": column,
        "required": bool(required),
        "kind": kind,
        "responses": None if responses is None else tuple(responses),
        "min": float(minimum),
        "max": float(maximum),
        "better": better,
        "scales": tuple(scales),
    }


def outcome_row(
    score: str,
    label: str,
    unit: str,
    higher_is_better: bool,
    algorithm: str,
    analysed: bool = True,
) -> dict[str, Any]:
    """One row of an ``outcomes()`` table (see docs/architecture.md)."""
    return {
        "score": score,
        "label": label,
        "unit": unit,
        "higher_is_better": bool(higher_is_better),
        "algorithm": algorithm,
        "analysed": bool(analysed),
    }


def is_blank(value: Any) -> bool:
    """True for the ways a CSV cell can be empty: NaN, None, pandas NA or whitespace."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def as_number(value: Any) -> float | None:
    """The value as a finite float, or None when it is not a number."""
    if isinstance(value, bool | np.bool_):
        return None
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _format_response(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def describe_expected(row: Mapping[str, Any]) -> str:
    """Human wording of what an item accepts, used in problem messages."""
    if row["kind"] == "categorical":
        return "one of " + ", ".join(_format_response(r) for r in row["responses"]) + " or blank"
    low, high = row["min"], row["max"]
    if math.isfinite(low) and math.isfinite(high):
        return f"a number from {low:g} to {high:g} or blank"
    if math.isfinite(low):
        return f"a number of at least {low:g} or blank"
    if math.isfinite(high):
        return f"a number of at most {high:g} or blank"
    return "a number or blank"


def _location(items: pd.DataFrame, position: int) -> tuple[str, int]:
    """File and 1-based CSV row of one row, from source columns or the frame position."""
    file = "<items>"
    if "source_file" in items.columns:
        value = items["source_file"].iloc[position]
        file = "<items>" if is_blank(value) else str(value)
    row = position + 2
    if "source_row" in items.columns:
        value = items["source_row"].iloc[position]
        row = row if is_blank(value) else int(value)
    return file, row


def _acceptor(row: Mapping[str, Any]) -> Callable[[Any], bool]:
    """Whether an item accepts one non-blank cell value."""
    if row["kind"] == "categorical":
        responses = row["responses"]
        if all(isinstance(r, int | float) for r in responses):
            allowed_numbers = {float(r) for r in responses}

            def accepts(value: Any) -> bool:
                number = as_number(value)
                return number is not None and number in allowed_numbers

            return accepts
        allowed_text = {str(r) for r in responses}
        return lambda value: isinstance(value, str) and value.strip() in allowed_text
    low, high = row["min"], row["max"]

    def in_range(value: Any) -> bool:
        number = as_number(value)
        return (
            number is not None
            and not (math.isfinite(low) and number < low)
            and not (math.isfinite(high) and number > high)
        )

    return in_range


def _numbers_accepted(x: np.ndarray, row: Mapping[str, Any]) -> np.ndarray:
    """:func:`_acceptor` on a float array, elementwise (NaN is blank and never asked)."""
    finite = np.isfinite(x)  # as_number turns inf into "not a number"
    if row["kind"] == "categorical":
        if not all(isinstance(r, int | float) for r in row["responses"]):
            return np.zeros(len(x), dtype=bool)  # text answers expected, got numbers
        return finite & np.isin(x, [float(r) for r in row["responses"]])
    low, high = row["min"], row["max"]
    ok = finite.copy()
    if math.isfinite(low):
        ok &= ~(x < low)
    if math.isfinite(high):
        ok &= ~(x > high)
    return ok


def _per_distinct(series: pd.Series, function: Callable[[Any], Any], otype) -> np.ndarray | None:
    """``function`` of every cell, called once per distinct value; None for a column where
    equal values need not be the same cell content.

    Text and integer columns only: in an object column ``1``, ``1.0`` and ``True`` are equal
    but not the same answer, and in a float column so are ``0.0`` and ``-0.0``.
    """
    dtype = series.dtype
    if not (
        isinstance(dtype, pd.StringDtype) or (isinstance(dtype, np.dtype) and dtype.kind in "iu")
    ):
        return None
    codes, distinct = pd.factorize(series, use_na_sentinel=True)
    # missing cells get code -1, which picks the last entry: the function of a blank
    mapped = np.array(
        [function(value) for value in distinct.tolist()] + [function(np.nan)], dtype=otype
    )
    return mapped[codes]


def map_distinct(series: pd.Series, function: Callable[[float], Any], otype=float) -> pd.Series:
    """``series.map(function)`` for a numeric score column, calling ``function`` once per
    distinct value rather than once per row (bands and grades of a score).

    ``function`` must give equal results for equal numbers (``0.0`` and ``-0.0`` share one
    call) and take NaN for a missing value.
    """
    codes, distinct = pd.factorize(series.astype(float), use_na_sentinel=True)
    mapped = np.array([function(v) for v in distinct.tolist()] + [function(math.nan)], dtype=otype)
    return pd.Series(mapped[codes], index=series.index, name=series.name, dtype=otype)


def _rejected(series: pd.Series, row: Mapping[str, Any]) -> np.ndarray:
    """Boolean array: cells that are neither blank nor accepted by the item."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
        x = series.to_numpy(dtype=float)
        return ~np.isnan(x) & ~_numbers_accepted(x, row)
    accepts = _acceptor(row)

    def rejected(value: Any) -> bool:
        return not is_blank(value) and not accepts(value)

    verdicts = _per_distinct(series, rejected, bool)
    if verdicts is None:  # a column of Python objects: cell by cell
        verdicts = np.array([rejected(value) for value in series.tolist()], dtype=bool)
    return verdicts


def check_values(items: pd.DataFrame, table: pd.DataFrame) -> list[InputProblem]:
    """Every cell of ``items`` that an item of ``table`` does not accept.

    Columns of ``table`` absent from ``items`` are not checked here (the validator reports
    missing columns; :meth:`Instrument.score` reports the ones it needs). Problems are listed
    item by item, each item's in row order.
    """
    problems: list[InputProblem] = []
    for row in table.to_dict("records"):
        column = row["column"]
        if column not in items.columns or row["kind"] == "text":
            continue
        bad = np.flatnonzero(_rejected(items[column], row))
        if not len(bad):
            continue
        expected = describe_expected(row)
        for position, value in zip(bad, items[column].iloc[bad].tolist(), strict=True):
            problems.append(InputProblem(*_location(items, position), column, value, expected))
    return problems


def clean_column(series: pd.Series, row: Mapping[str, Any]) -> pd.Series:
    """A checked column as float (numbers, numeric categories) or object (text categories).

    Blanks become NaN. Call only after :func:`check_values` found no problem.
    """
    if row["kind"] == "categorical" and not all(
        isinstance(r, int | float) for r in row["responses"]
    ):
        return _cleaned(series, lambda v: np.nan if is_blank(v) else str(v).strip(), object)
    if row["kind"] == "text":
        return _cleaned(series, lambda v: np.nan if is_blank(v) else str(v), object)
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        x = series.to_numpy(dtype=float)
        values = np.where(np.isfinite(x), x, np.nan)  # as_number: inf is not a number
    else:
        values = _cleaned(series, _as_number_or_nan, float).to_numpy()
    return pd.Series(values, index=series.index, name=series.name, dtype=float)


def _as_number_or_nan(value: Any) -> float:
    if is_blank(value):
        return np.nan
    number = as_number(value)
    return np.nan if number is None else number


def _cleaned(series: pd.Series, function: Callable[[Any], Any], otype) -> pd.Series:
    values = _per_distinct(series, function, otype)
    if values is None:
        values = np.array([function(value) for value in series.tolist()], dtype=otype)
    return pd.Series(values, index=series.index, name=series.name, dtype=otype)


@dataclass(frozen=True)
class CategoryScore:
    """A categorical score (a band or grade) that is a function of an analysed score.

    Attributes
    ----------
    score : str
        The categorical score's name (e.g. ``"anxiety_band"``).
    source : str
        The analysed score it is cut from (e.g. ``"anxiety"``).
    label : str
        Printed name.
    levels : tuple of str
        The categories in their printed order, as the definition lists them.
    classify : callable
        Score value -> category (NaN for a missing value), the function scoring uses.
    """

    score: str
    source: str
    label: str
    levels: tuple[str, ...]
    classify: Callable[[float], Any]


class Instrument:
    """Base class of an instrument type: structure from a definition file, scoring in code.

    Subclasses set :attr:`name`, :attr:`roster` and :attr:`option_spec` and implement
    ``_item_rows``, ``_outcome_rows`` and ``_score``.
    """

    #: the type name, also the definition file's stem
    name: str = ""
    #: roster columns read from extra columns of the item frame
    roster: tuple[str, ...] = ()
    #: option -> (default, allowed values or None for free values)
    option_spec: Mapping[str, tuple[Any, tuple[Any, ...] | None]] = {}

    # -- options and definition ------------------------------------------------------------
    def resolve_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Options with defaults filled in; unknown options or values raise ``ValueError``."""
        spec = {"definition": (None, None), **self.option_spec}
        unknown = sorted(set(options) - set(spec))
        if unknown:
            raise ValueError(
                f"{self.name}: unknown option(s) {unknown}; known options: {sorted(spec)}"
            )
        resolved = {}
        for key, (default, allowed) in spec.items():
            value = options.get(key, default)
            if allowed is not None and value not in allowed:
                raise ValueError(
                    f"{self.name}: option {key}={value!r} is not one of {list(allowed)}"
                )
            resolved[key] = value
        return resolved

    def definition(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """The definition mapping selected by the (resolved) options."""
        return load_definition(self.name, options.get("definition"))

    # -- public API ------------------------------------------------------------------------
    def items(self, **options: Any) -> pd.DataFrame:
        """The CSV columns of the instrument (one row each); see docs/architecture.md."""
        opts = self.resolve_options(options)
        return pd.DataFrame(self._item_rows(opts), columns=list(ITEM_COLUMNS))

    def roster_items(self, **options: Any) -> pd.DataFrame:
        """The roster columns the instrument reads, in the format of :meth:`items`."""
        opts = self.resolve_options(options)
        return pd.DataFrame(self._roster_rows(opts), columns=list(ITEM_COLUMNS))

    def outcomes(self, **options: Any) -> pd.DataFrame:
        """One row per score column: label, unit, direction, algorithm, analysed."""
        opts = self.resolve_options(options)
        return pd.DataFrame(self._outcome_rows(opts), columns=list(OUTCOME_COLUMNS))

    def categories(self, **options: Any) -> list[CategoryScore]:
        """The categorical scores (bands, grades) derived from an analysed score; none here."""
        return self._category_scores(self.resolve_options(options))

    def _category_scores(self, options: Mapping[str, Any]) -> list[CategoryScore]:
        return []

    def check_items(self, items: pd.DataFrame, **options: Any) -> list[InputProblem]:
        """Answers outside an item's allowed responses (and bad roster values if present)."""
        opts = self.resolve_options(options)
        table = pd.concat(
            [
                pd.DataFrame(self._item_rows(opts), columns=list(ITEM_COLUMNS)),
                pd.DataFrame(self._roster_rows(opts), columns=list(ITEM_COLUMNS)),
            ],
            ignore_index=True,
        )
        return check_values(items, table)

    def score(self, items: pd.DataFrame, **options: Any) -> pd.DataFrame:
        """Score an item frame: one row per input row, id columns first, then the scores."""
        opts = self.resolve_options(options)
        item_table = pd.DataFrame(self._item_rows(opts), columns=list(ITEM_COLUMNS))
        roster_table = pd.DataFrame(self._roster_rows(opts), columns=list(ITEM_COLUMNS))
        table = pd.concat([item_table, roster_table], ignore_index=True)
        problems = self._missing_columns(items, item_table, roster_table)
        problems += check_values(items, table)
        if problems:
            raise InputError(problems)
        values = {
            row["column"]: (
                clean_column(items[row["column"]], row)
                if row["column"] in items.columns
                else pd.Series(np.nan, index=items.index, dtype=float)
            )
            for row in table.to_dict("records")
        }
        frame = pd.DataFrame(values, index=items.index)
        scores = self._score(frame, opts)
        order = [row["score"] for row in self._outcome_rows(opts)]
        scores = scores.reindex(columns=order)
        ids = items[[c for c in ID_COLUMNS if c in items.columns]]
        return pd.concat([ids, scores], axis=1)

    # -- helpers -----------------------------------------------------------------------------
    def _missing_columns(
        self, items: pd.DataFrame, item_table: pd.DataFrame, roster_table: pd.DataFrame
    ) -> list[InputProblem]:
        file = "<items>"
        if (
            "source_file" in items.columns
            and len(items)
            and not is_blank(items["source_file"].iloc[0])
        ):
            file = str(items["source_file"].iloc[0])
        problems = []
        for row in item_table.to_dict("records"):
            if row["required"] and row["column"] not in items.columns:
                problems.append(
                    InputProblem(
                        file, None, row["column"], None, f"a column named '{row['column']}'"
                    )
                )
        for row in roster_table.to_dict("records"):
            if row["required"] and row["column"] not in items.columns:
                problems.append(
                    InputProblem(
                        file,
                        None,
                        row["column"],
                        None,
                        f"the roster column '{row['column']}' joined to the items for {self.name}",
                    )
                )
        return problems

    def _roster_rows(self, options: Mapping[str, Any]) -> list[dict[str, Any]]:
        rows = roster_item_rows()
        return [rows[column] for column in self.roster]

    def _item_rows(self, options: Mapping[str, Any]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _outcome_rows(self, options: Mapping[str, Any]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _score(self, values: pd.DataFrame, options: Mapping[str, Any]) -> pd.DataFrame:
        raise NotImplementedError


def roster_item_rows() -> dict[str, dict[str, Any]]:
    """Item-table rows for the roster columns instruments can read (the numeric and
    categorical ones of :data:`ROSTER_COLUMNS`; the analysis plan's columns are no items)."""
    return {
        name: item_row(
            name,
            kind=column.kind,
            required=not column.optional,
            responses=column.responses,
            minimum=column.minimum,
            maximum=column.maximum,
        )
        for name, column in ROSTER_COLUMNS.items()
        if column.kind in ("numeric", "categorical")
    }
