"""QUALEFFO-41: five domains, three physical-function subdomains and the total, 0-100.

Higher scores are WORSE. Option counts, reverse keys and "not applicable" codes are a
documented choice kept in ``definitions/qualeffo41.yaml`` (see :func:`QUALEFFO41.item_table`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from trialflow.instruments._base import Instrument, item_row, outcome_row

DOMAINS = (
    "pain",
    "physical_function",
    "adl",
    "jobs",
    "mobility",
    "social_function",
    "general_health",
    "mental_function",
)
N_ITEMS = 41


class QUALEFFO41(Instrument):
    """The QUALEFFO-41 questionnaire (printed positions, higher score = worse)."""

    name = "qualeffo41"

    def item_table(self, **options: Any) -> pd.DataFrame:
        """The item structure in force: one row per item.

        Returns
        -------
        pandas.DataFrame
            ``item`` (1-41), ``column``, ``options`` (printed answer options, not counting
            "not applicable"), ``reverse`` (bool: option 1 is the worst answer),
            ``not_applicable`` (printed position of the "not applicable" answer, or None),
            ``domains`` (tuple of score names the item feeds).
        """
        opts = self.resolve_options(options)
        return pd.DataFrame(self._structure(opts))

    def _structure(self, options: Mapping[str, Any]) -> list[dict[str, Any]]:
        definition = self.definition(options)
        default = int(definition["default_options"])
        per_item = {int(k): v for k, v in (definition.get("items") or {}).items()}
        feeds: dict[int, list[str]] = {}
        for domain in DOMAINS:
            for item in definition["domains"][domain]["items"]:
                feeds.setdefault(int(item), []).append(domain)
        rows = []
        for item in range(1, N_ITEMS + 1):
            spec = per_item.get(item, {})
            n_options = int(spec.get("options", default))
            if n_options not in (3, 4, 5):
                raise ValueError(f"qualeffo41 definition: item {item} has {n_options} options")
            na = spec.get("not_applicable")
            rows.append(
                {
                    "item": item,
                    "column": f"q{item}",
                    "options": n_options,
                    "reverse": bool(spec.get("reverse", False)),
                    "not_applicable": None if na is None else int(na),
                    "domains": (*feeds.get(item, ()), "total"),
                }
            )
        return rows

    def _item_rows(self, options: Mapping[str, Any]) -> list[dict[str, Any]]:
        rows = []
        for spec in self._structure(options):
            responses = list(range(1, spec["options"] + 1))
            if spec["not_applicable"] is not None:
                responses.append(spec["not_applicable"])
            rows.append(
                item_row(
                    spec["column"],
                    kind="categorical",
                    responses=responses,
                    # option 1 is the best answer unless the item is reverse-keyed
                    better="high" if spec["reverse"] else "low",
                    scales=spec["domains"],
                )
            )
        return rows

    def _outcome_rows(self, options: Mapping[str, Any]) -> list[dict[str, Any]]:
        definition = self.definition(options)
        algorithm = (
            "QUALEFFO-41 Lips & Cooper algorithm (items oriented 1 = best, 3/4-option items "
            "rescaled to 1-5, 100 x (mean - 1) / 4); item structure: trialflow definition "
            "qualeffo41.yaml (documented choice)"
        )
        rows = [
            outcome_row(d, definition["domains"][d]["label"], "0-100", False, algorithm)
            for d in DOMAINS
        ]
        rows.append(outcome_row("total", definition["total"]["label"], "0-100", False, algorithm))
        return rows

    def _score(self, values: pd.DataFrame, options: Mapping[str, Any]) -> pd.DataFrame:
        definition = self.definition(options)
        minimum = int(definition["min_answered"])
        oriented = {}
        for spec in self._structure(options):
            answer = values[spec["column"]]
            if spec["not_applicable"] is not None:
                answer = answer.mask(answer == spec["not_applicable"])
            n = spec["options"]
            if spec["reverse"]:
                answer = (n + 1) - answer
            # linear map of 1..n onto 1..5
            oriented[spec["item"]] = 1 + (answer - 1) * 4 / (n - 1)
        frame = pd.DataFrame(oriented, index=values.index)

        def transform(block: pd.DataFrame) -> pd.Series:
            mean = block.mean(axis=1).where(block.notna().sum(axis=1) >= minimum)
            return 100 * (mean - 1) / 4

        out = {
            d: transform(frame[[int(i) for i in definition["domains"][d]["items"]]])
            for d in DOMAINS
        }
        # the total averages all answered items, not the domain scores
        out["total"] = transform(frame)
        return pd.DataFrame(out, index=values.index)


INSTRUMENT = QUALEFFO41()
