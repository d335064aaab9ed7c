"""Instruments whose scores are numeric columns, possibly derived (speed, per kg)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from trialflow.instruments._base import Instrument, item_row, outcome_row


class NumericInstrument(Instrument):
    """A physical measure: each score is a column, or a column over a distance or body mass.

    The definition lists ``columns`` (``min``, ``max``, ``better``) and ``scores`` (``label``,
    ``unit``, ``higher_is_better``, ``from`` and optionally ``distance_over_m`` or
    ``divide_by_roster``).
    """

    def __init__(self, name: str):
        self.name = name
        self.roster = tuple(self.definition({}).get("roster", ()))

    def _algorithm(self, definition: Mapping[str, Any], spec: Mapping[str, Any]) -> str:
        if "distance_over_m" in spec:
            return f"{spec['distance_over_m']:g} m / {spec['from']}"
        if "divide_by_roster" in spec:
            return f"{spec['from']} / roster {spec['divide_by_roster']}"
        return f"{definition['label']}: {spec['from']} as measured"

    def _item_rows(self, options: Mapping[str, Any]) -> list[dict[str, Any]]:
        definition = self.definition(options)
        feeds: dict[str, list[str]] = {}
        for score, spec in definition["scores"].items():
            feeds.setdefault(spec["from"], []).append(score)
        return [
            item_row(
                column,
                kind="numeric",
                required=spec.get("required", True),
                minimum=spec.get("min", math.nan),
                maximum=spec.get("max", math.nan),
                better=spec.get("better", "high"),
                scales=feeds.get(column, ()),
            )
            for column, spec in definition["columns"].items()
        ]

    def _outcome_rows(self, options: Mapping[str, Any]) -> list[dict[str, Any]]:
        definition = self.definition(options)
        return [
            outcome_row(
                score,
                spec["label"],
                spec["unit"],
                spec["higher_is_better"],
                self._algorithm(definition, spec),
            )
            for score, spec in definition["scores"].items()
        ]

    def _score(self, values: pd.DataFrame, options: Mapping[str, Any]) -> pd.DataFrame:
        definition = self.definition(options)
        out = {}
        for score, spec in definition["scores"].items():
            value = values[spec["from"]].astype(float)
            if "distance_over_m" in spec:
                with np.errstate(divide="ignore"):
                    value = float(spec["distance_over_m"]) / value.where(value > 0)
            if "divide_by_roster" in spec:
                mass = values[spec["divide_by_roster"]].astype(float)
                value = value / mass.where(mass > 0)
            out[score] = value
        return pd.DataFrame(out, index=values.index)


class DeclaredMeasures(Instrument):
    """Type ``measures``: numeric columns declared in the study config (option ``measures``)."""

    name = "measures"
    option_spec = {"measures": (None, None)}

    def _declared(self, options: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        declared = options.get("measures")
        if not declared:
            raise ValueError(
                "measures: the option measures={column: {label, unit, higher_is_better}} "
                "is required"
            )
        for column, spec in declared.items():
            missing = [k for k in ("label", "unit", "higher_is_better") if k not in spec]
            if missing:
                raise ValueError(f"measures: column {column!r} lacks {missing}")
        return {str(column): dict(spec) for column, spec in declared.items()}

    def _item_rows(self, options: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [
            item_row(
                column,
                kind="numeric",
                minimum=spec.get("min", math.nan),
                maximum=spec.get("max", math.nan),
                better="high" if spec["higher_is_better"] else "low",
                scales=(column,),
            )
            for column, spec in self._declared(options).items()
        ]

    def _outcome_rows(self, options: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [
            outcome_row(
                column,
                spec["label"],
                spec["unit"],
                bool(spec["higher_is_better"]),
                "declared measure, as measured",
            )
            for column, spec in self._declared(options).items()
        ]

    def _score(self, values: pd.DataFrame, options: Mapping[str, Any]) -> pd.DataFrame:
        columns = list(self._declared(options))
        return values[columns].astype(float)
