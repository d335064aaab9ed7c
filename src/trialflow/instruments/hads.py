"""HADS: anxiety and depression subscales (0-21) and their bands.

Option ``coding``: ``score`` (default; the CSV holds the 0-3 item scores) or ``position``
(the printed option position 1-4, converted with the keys in ``definitions/hads.yaml``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from trialflow.instruments._base import (
    CategoryScore,
    Instrument,
    item_row,
    map_distinct,
    outcome_row,
)

SUBSCALES = ("anxiety", "depression")


class HADS(Instrument):
    """The Hospital Anxiety and Depression Scale (14 items, 3 = most symptomatic)."""

    name = "hads"
    option_spec = {"coding": ("score", ("score", "position"))}

    def _item_rows(self, options: Mapping[str, Any]) -> list[dict[str, Any]]:
        definition = self.definition(options)
        minus_one = set(definition["position_minus_one"])
        feeds = {
            int(item): [scale, f"{scale}_band"]
            for scale, spec in definition["subscales"].items()
            for item in spec["items"]
        }
        rows = []
        for item in range(1, definition["n_items"] + 1):
            if options["coding"] == "score":
                responses, better = (0, 1, 2, 3), "low"
            else:
                # position - 1 items grow worse with the position; 4 - position items improve
                responses = (1, 2, 3, 4)
                better = "low" if item in minus_one else "high"
            rows.append(
                item_row(
                    f"q{item}",
                    kind="categorical",
                    responses=responses,
                    better=better,
                    scales=feeds[item],
                )
            )
        return rows

    def _algorithm(self, options: Mapping[str, Any]) -> str:
        coding = (
            "items entered as 0-3 scores"
            if options["coding"] == "score"
            else "items entered as printed positions 1-4"
        )
        return f"HADS (Zigmond & Snaith 1983) sum of 7 items, {coding}; bands 0-7/8-10/11-21"

    def _outcome_rows(self, options: Mapping[str, Any]) -> list[dict[str, Any]]:
        definition = self.definition(options)
        algorithm = self._algorithm(options)
        rows = [
            outcome_row(s, definition["subscales"][s]["label"], "0-21", False, algorithm)
            for s in SUBSCALES
        ]
        rows += [
            outcome_row(
                f"{s}_band",
                definition["subscales"][s]["label"] + " band",
                "normal/borderline/abnormal",
                False,
                algorithm,
                analysed=False,
            )
            for s in SUBSCALES
        ]
        return rows

    def _category_scores(self, options: Mapping[str, Any]) -> list[CategoryScore]:
        definition = self.definition(options)
        levels = tuple(str(band["label"]) for band in definition["bands"])
        return [
            CategoryScore(
                f"{s}_band",
                s,
                definition["subscales"][s]["label"] + " band",
                levels,
                lambda total: _band(total, definition["bands"]),
            )
            for s in SUBSCALES
        ]

    def item_scores(self, values: pd.DataFrame, options: Mapping[str, Any]) -> pd.DataFrame:
        """The 0-3 score of every item (columns 1-14) from the entered codes."""
        definition = self.definition(options)
        minus_one = set(definition["position_minus_one"])
        out = {}
        for item in range(1, definition["n_items"] + 1):
            answer = values[f"q{item}"].astype(float)
            if options["coding"] == "position":
                answer = answer - 1 if item in minus_one else 4 - answer
            out[item] = answer
        return pd.DataFrame(out, index=values.index)

    def _score(self, values: pd.DataFrame, options: Mapping[str, Any]) -> pd.DataFrame:
        definition = self.definition(options)
        scores = self.item_scores(values, options)
        minimum = int(definition["min_answered"])
        out: dict[str, pd.Series] = {}
        for scale in SUBSCALES:
            block = scores[[int(i) for i in definition["subscales"][scale]["items"]]]
            out[scale] = block.sum(axis=1, min_count=minimum).where(
                block.notna().sum(axis=1) >= minimum
            )
        for scale in SUBSCALES:
            out[f"{scale}_band"] = map_distinct(
                out[scale], lambda total: _band(total, definition["bands"]), object
            )
        return pd.DataFrame(out, index=values.index)


def _band(total: float, bands: list[Mapping[str, Any]]) -> Any:
    if pd.isna(total):
        return np.nan
    return next(band["label"] for band in bands if total <= band["max"])


INSTRUMENT = HADS()
