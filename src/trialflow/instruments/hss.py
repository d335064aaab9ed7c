"""HSS knee score: component points, subtractions, total (0-100) and grade.

Option ``flexion_bands`` selects one of the published flexion-deformity band versions kept
in ``definitions/hss.yaml`` (default ``none_5_10``; alternative ``5_10_20``).
"""

from __future__ import annotations

import math
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

CATEGORICAL = (
    "pain_walking",
    "pain_rest",
    "walking",
    "stairs",
    "transfers",
    "muscle_strength",
    "walking_aid",
)
# CSV column order of docs/architecture.md
COLUMNS = (
    "pain_walking",
    "pain_rest",
    "walking",
    "stairs",
    "transfers",
    "rom_arc_deg",
    "muscle_strength",
    "flexion_deformity_deg",
    "instability_deg",
    "extension_lag_deg",
    "varus_deg",
    "valgus_deg",
    "walking_aid",
)
# score -> (label, maximum points)
COMPONENTS = {
    "pain": ("HSS pain (walking and rest)", 30),
    "function": ("HSS function (walking, stairs, transfers)", 22),
    "rom": ("HSS range of motion points", 18),
    "muscle_strength": ("HSS muscle strength points", 10),
    "flexion_deformity": ("HSS flexion deformity points", 10),
    "instability": ("HSS instability points", 10),
}
FEEDS = {
    "pain_walking": "pain",
    "pain_rest": "pain",
    "walking": "function",
    "stairs": "function",
    "transfers": "function",
    "rom_arc_deg": "rom",
    "muscle_strength": "muscle_strength",
    "flexion_deformity_deg": "flexion_deformity",
    "instability_deg": "instability",
    "extension_lag_deg": "subtractions",
    "varus_deg": "subtractions",
    "valgus_deg": "subtractions",
    "walking_aid": "subtractions",
}


def band_points(value: float, bands: list[Mapping[str, Any]]) -> float:
    """Points of the first band whose bound covers ``value`` (NaN stays NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    for band in bands:
        bound = float(band["upto"])
        if value < bound or (band["inclusive"] and value == bound):
            return float(band["points"])
    raise ValueError(f"no band covers {value}")


class HSS(Instrument):
    """The Hospital for Special Surgery knee score (higher = better)."""

    name = "hss"
    option_spec = {"flexion_bands": ("none_5_10", None)}

    def resolve_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Options with defaults; ``flexion_bands`` must name a version in the definition."""
        resolved = super().resolve_options(options)
        versions = self.definition(resolved)["flexion_deformity"]["versions"]
        if resolved["flexion_bands"] not in versions:
            raise ValueError(
                f"hss: option flexion_bands={resolved['flexion_bands']!r} is not one of "
                f"{list(versions)}"
            )
        return resolved

    def _item_rows(self, options: Mapping[str, Any]) -> list[dict[str, Any]]:
        definition = self.definition(options)
        rows = []
        for column in COLUMNS:
            scales = (FEEDS[column], "total", "grade")
            if column in CATEGORICAL:
                points = definition["categories"][column]["points"]
                rows.append(
                    item_row(
                        column,
                        kind="categorical",
                        responses=[str(k) for k in points],
                        # responses are listed healthiest first
                        better="low",
                        scales=scales,
                    )
                )
            else:
                maximum = (
                    definition["rom"]["max_deg"]
                    if column == "rom_arc_deg"
                    else definition["max_deg"]
                )
                rows.append(
                    item_row(
                        column,
                        kind="numeric",
                        minimum=0,
                        maximum=maximum,
                        better="high" if column == "rom_arc_deg" else "low",
                        scales=scales,
                    )
                )
        return rows

    def algorithm(self, options: Mapping[str, Any]) -> str:
        """Algorithm string naming the flexion-deformity band version."""
        version = self.definition(options)["flexion_deformity"]["versions"][
            options["flexion_bands"]
        ]
        return f"HSS knee score (Insall et al. 1976); {version['label']}"

    def _outcome_rows(self, options: Mapping[str, Any]) -> list[dict[str, Any]]:
        algorithm = self.algorithm(options)
        rows = [
            outcome_row(score, label, f"points (0-{top})", True, algorithm)
            for score, (label, top) in COMPONENTS.items()
        ]
        rows.append(outcome_row("subtractions", "HSS subtractions", "points", False, algorithm))
        rows.append(outcome_row("total", "HSS knee score", "0-100", True, algorithm))
        rows.append(
            outcome_row(
                "grade", "HSS grade", "excellent/good/fair/poor", True, algorithm, analysed=False
            )
        )
        return rows

    def _category_scores(self, options: Mapping[str, Any]) -> list[CategoryScore]:
        grades = self.definition(options)["grades"]
        levels = tuple(str(g["label"]) for g in grades)
        return [CategoryScore("grade", "total", "HSS grade", levels, lambda t: _grade(t, grades))]

    def _score(self, values: pd.DataFrame, options: Mapping[str, Any]) -> pd.DataFrame:
        definition = self.definition(options)
        points = {
            column: values[column]
            .map({str(k): float(v) for k, v in definition["categories"][column]["points"].items()})
            .astype(float)
            for column in CATEGORICAL
        }
        rom = definition["rom"]
        # whole steps of 8 degrees only: a 15 degree arc earns 1 point
        rom_points = np.minimum(
            np.floor(values["rom_arc_deg"] / rom["degrees_per_point"]), rom["max_points"]
        )
        flexion_bands = definition["flexion_deformity"]["versions"][options["flexion_bands"]][
            "bands"
        ]
        per_point = definition["varus_valgus_degrees_per_point"]
        subtractions = (
            points["walking_aid"]
            + map_distinct(
                values["extension_lag_deg"],
                lambda v: band_points(v, definition["extension_lag"]["bands"]),
            )
            + np.floor(values["varus_deg"] / per_point)
            + np.floor(values["valgus_deg"] / per_point)
        )
        out = pd.DataFrame(
            {
                "pain": points["pain_walking"] + points["pain_rest"],
                "function": points["walking"] + points["stairs"] + points["transfers"],
                "rom": rom_points,
                "muscle_strength": points["muscle_strength"],
                "flexion_deformity": map_distinct(
                    values["flexion_deformity_deg"], lambda v: band_points(v, flexion_bands)
                ),
                "instability": map_distinct(
                    values["instability_deg"],
                    lambda v: band_points(v, definition["instability"]["bands"]),
                ),
                "subtractions": subtractions,
            },
            index=values.index,
        ).astype(float)
        # any missing component leaves the total missing (NaN propagates through the sum)
        total = out[list(COMPONENTS)].sum(axis=1, skipna=False) - out["subtractions"]
        out["total"] = total.clip(lower=definition["total_floor"])
        out["grade"] = map_distinct(
            out["total"], lambda t: _grade(t, definition["grades"]), object
        )
        return out


def _grade(total: float, grades: list[Mapping[str, Any]]) -> Any:
    if pd.isna(total):
        return np.nan
    return next(g["label"] for g in grades if total >= float(g["min"]))


INSTRUMENT = HSS()
