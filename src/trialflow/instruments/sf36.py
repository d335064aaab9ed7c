"""SF-36: RAND-36 (or QualityMetric pain/general health) scales and norm-based PCS/MCS.

Structure, recoding tables, coefficients and norms live in ``definitions/sf36.yaml``.

Options
-------
algorithm : {"rand36", "qualitymetric"}
    ``rand36`` (default) recodes every item to 0-100 and averages; ``qualitymetric`` scores
    bodily pain and general health with the QualityMetric/NEMC item values (the other six
    scales are identical under both).
norms : {"us1998", "us1990"}
    General-population means and SDs used to standardise the scales for PCS and MCS.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from trialflow.instruments._base import Instrument, item_row, outcome_row

SCALES = ("pf", "rp", "bp", "gh", "vt", "sf", "re", "mh")


def _column(item: int) -> str:
    return f"q{item}"


class SF36(Instrument):
    """The SF-36 Health Survey (36 items, printed positions, higher score = better health)."""

    name = "sf36"
    option_spec = {
        "algorithm": ("rand36", ("rand36", "qualitymetric")),
        "norms": ("us1998", ("us1998", "us1990")),
    }

    # -- structure ---------------------------------------------------------------------------
    def item_tables(self, options: Mapping[str, Any]) -> dict[int, dict[int, float]]:
        """RAND-36 recoding table of every item: printed position -> 0-100."""
        definition = self.definition(options)
        tables = definition["recode_tables"]
        out: dict[int, dict[int, float]] = {}
        for group in definition["item_recoding"]:
            for item in group["items"]:
                out[int(item)] = {int(k): float(v) for k, v in tables[group["table"]].items()}
        if sorted(out) != list(range(1, definition["n_items"] + 1)):
            raise ValueError("sf36 definition: every item needs exactly one recoding table")
        return out

    def min_answered(self, options: Mapping[str, Any]) -> dict[str, int]:
        """Answered items a scale needs: at least half of its items (rounded up)."""
        definition = self.definition(options)
        fraction = float(definition["min_answered_fraction"])
        return {
            scale: math.ceil(fraction * len(spec["items"]))
            for scale, spec in definition["scales"].items()
        }

    def algorithm(self, options: Mapping[str, Any]) -> str:
        """The algorithm string: variant and norms, e.g. ``RAND-36 1.0; PCS/MCS 1998 US norms``."""
        definition = self.definition(options)
        variant = (
            "RAND-36 1.0"
            if options["algorithm"] == "rand36"
            else "SF-36 QualityMetric/NEMC pain and general health (otherwise RAND-36 1.0)"
        )
        norms = definition["norms"][options["norms"]]["label"]
        return f"{variant}; PCS/MCS {norms}, 1990 US factor score coefficients"

    def _item_rows(self, options: Mapping[str, Any]) -> list[dict[str, Any]]:
        definition = self.definition(options)
        tables = self.item_tables(options)
        feeds: dict[int, list[str]] = {}
        for scale, spec in definition["scales"].items():
            for item in spec["items"]:
                feeds.setdefault(int(item), []).append(scale)
        rows = []
        for item, table in sorted(tables.items()):
            positions = sorted(table)
            # the healthier end is the end whose recoded value is higher
            better = "low" if table[positions[0]] > table[positions[-1]] else "high"
            scales = feeds.get(item, [])
            if scales:
                scales = [*scales, "pcs", "mcs"]
            rows.append(
                item_row(
                    _column(item),
                    kind="categorical",
                    responses=positions,
                    better=better,
                    scales=scales,
                )
            )
        return rows

    def _outcome_rows(self, options: Mapping[str, Any]) -> list[dict[str, Any]]:
        definition = self.definition(options)
        algorithm = self.algorithm(options)
        rows = [
            outcome_row(scale, definition["scales"][scale]["label"], "0-100", True, algorithm)
            for scale in SCALES
        ]
        for summary in ("pcs", "mcs"):
            spec = definition["summaries"][summary]
            rows.append(outcome_row(summary, spec["label"], spec["unit"], True, algorithm))
        return rows

    # -- scoring -----------------------------------------------------------------------------
    def _score(self, values: pd.DataFrame, options: Mapping[str, Any]) -> pd.DataFrame:
        definition = self.definition(options)
        tables = self.item_tables(options)
        minimum = self.min_answered(options)
        recoded = pd.DataFrame(
            {
                item: values[_column(item)].map(table).astype(float)
                for item, table in tables.items()
            },
            index=values.index,
        )
        out = {}
        for scale in SCALES:
            items = [int(i) for i in definition["scales"][scale]["items"]]
            block = recoded[items]
            answered = block.notna().sum(axis=1)
            # mean of the answered items stands in for the missing ones
            out[scale] = block.mean(axis=1).where(answered >= minimum[scale])
        if options["algorithm"] == "qualitymetric":
            out["bp"] = self._qualitymetric_bp(values, definition, minimum["bp"])
            out["gh"] = self._qualitymetric_gh(values, definition, minimum["gh"])
        scores = pd.DataFrame(out, index=values.index)
        return pd.concat([scores, self.summaries(scores, options)], axis=1)

    def summaries(self, scales: pd.DataFrame, options: Mapping[str, Any]) -> pd.DataFrame:
        """Norm-based PCS and MCS from the eight 0-100 scales.

        Parameters
        ----------
        scales : pandas.DataFrame
            Columns ``pf, rp, bp, gh, vt, sf, re, mh``.
        options : mapping
            Resolved options; ``norms`` selects the norm means and SDs.

        Returns
        -------
        pandas.DataFrame
            ``pcs`` and ``mcs`` (missing unless all eight scales are present).
        """
        definition = self.definition(options)
        norms = definition["norms"][options["norms"]]
        z = pd.DataFrame(
            {s: (scales[s] - norms["mean"][s]) / norms["sd"][s] for s in SCALES},
            index=scales.index,
        )
        out = {}
        for summary in ("pcs", "mcs"):
            coefficients = pd.Series(definition["coefficients"][summary])[list(SCALES)]
            # a summary needs all eight scales: min_count=8 leaves it missing otherwise
            weighted = z.mul(coefficients, axis=1).sum(axis=1, min_count=len(SCALES))
            out[summary] = 50 + 10 * weighted
        return pd.DataFrame(out, index=scales.index)

    @staticmethod
    def _qualitymetric_bp(
        values: pd.DataFrame, definition: Mapping[str, Any], minimum: int
    ) -> pd.Series:
        qm = definition["qualitymetric"]
        q21, q22 = values["q21"], values["q22"]
        r21 = q21.map({int(k): float(v) for k, v in qm["item21"].items()}).astype(float)
        with_21 = q22.map({int(k): float(v) for k, v in qm["item22_with_item21"].items()})
        with_21 = with_21.astype(float).mask(
            (q22 == 1) & (q21 == 1), qm["item22_first_when_item21_is_1"]
        )
        alone = q22.map({int(k): float(v) for k, v in qm["item22_alone"].items()}).astype(float)
        r22 = with_21.where(q21.notna(), alone)
        pair = pd.DataFrame({"q21": r21, "q22": r22})
        low, high = qm["bp_range"]
        mean = pair.mean(axis=1).where(pair.notna().sum(axis=1) >= minimum)
        return 100 * (mean - low) / (high - low)

    @staticmethod
    def _qualitymetric_gh(
        values: pd.DataFrame, definition: Mapping[str, Any], minimum: int
    ) -> pd.Series:
        qm = definition["qualitymetric"]
        low, high = qm["gh_range"]
        items = {
            "q1": values["q1"]
            .map({int(k): float(v) for k, v in qm["item1"].items()})
            .astype(float)
        }
        for item in qm["gh_reversed"]:
            items[f"q{item}"] = (high + low) - values[f"q{item}"]
        for item in qm["gh_as_printed"]:
            items[f"q{item}"] = values[f"q{item}"].astype(float)
        block = pd.DataFrame(items)
        mean = block.mean(axis=1).where(block.notna().sum(axis=1) >= minimum)
        return 100 * (mean - low) / (high - low)


INSTRUMENT = SF36()

__all__ = ["INSTRUMENT", "SCALES", "SF36"]
