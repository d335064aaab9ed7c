"""The instrument API contract of docs/architecture.md, for every built-in type."""

import math

import pandas as pd
import pytest

from trialflow import instruments
from trialflow.errors import InputProblem

DECLARED = {"grip_kg": {"label": "Grip", "unit": "kg", "higher_is_better": True}}


def options_for(name):
    return {"measures": DECLARED} if name == "measures" else {}


def test_all_built_in_types_are_known():
    assert set(instruments.TYPES) == {
        "sf36", "qualeffo41", "hads", "hss", "spirometry", "back_extensor", "loaded_standing",
        "spinal_mobility", "knee_rom", "proprioception", "quadriceps", "vas_pain", "tug",
        "gait_speed", "measures",
    }  # fmt: skip
    with pytest.raises(ValueError, match="unknown instrument type"):
        instruments.items("sf12")


@pytest.mark.parametrize("name", instruments.TYPES)
def test_items_table_contract(name):
    table = instruments.items(name, **options_for(name))
    assert list(table.columns) == ["column", "required", "kind", "responses", "min", "max", "better", "scales"]  # fmt: skip
    assert table["column"].is_unique
    assert set(table["kind"]) <= {"categorical", "numeric", "text"}
    assert set(table["better"]) <= {"high", "low"}
    scores = set(instruments.outcomes(name, **options_for(name))["score"])
    for row in table.itertuples():
        if row.kind == "categorical":
            assert isinstance(row.responses, tuple) and len(row.responses) >= 2
            assert math.isnan(row.min) and math.isnan(row.max)
        else:
            assert row.responses is None
        assert set(row.scales) <= scores


@pytest.mark.parametrize("name", instruments.TYPES)
def test_outcomes_table_contract(name):
    meta = instruments.outcomes(name, **options_for(name))
    assert list(meta.columns) == ["score", "label", "unit", "higher_is_better", "algorithm", "analysed"]  # fmt: skip
    assert meta["score"].is_unique
    assert all(s == s.lower() for s in meta["score"])
    assert meta["higher_is_better"].map(type).eq(bool).all()
    assert meta["label"].str.len().gt(0).all() and meta["algorithm"].str.len().gt(0).all()


def test_documented_score_names():
    names = {n: list(instruments.outcomes(n)["score"]) for n in ("sf36", "qualeffo41")}
    assert names["sf36"] == ["pf", "rp", "bp", "gh", "vt", "sf", "re", "mh", "pcs", "mcs"]
    assert names["qualeffo41"] == [
        "pain", "physical_function", "adl", "jobs", "mobility", "social_function",
        "general_health", "mental_function", "total",
    ]  # fmt: skip


def test_check_items_uses_source_columns_or_position():
    items = pd.DataFrame({"q1": [1, 9, None], "source_file": ["a.csv", "b.csv", "b.csv"], "source_row": [2, 7, 8]})  # fmt: skip
    assert instruments.check_items("hads", items) == [
        InputProblem("b.csv", 7, "q1", 9, "one of 0, 1, 2, 3 or blank")
    ]
    plain = pd.DataFrame({"q1": [1, 9]}, index=[40, 41])
    assert [(p.file, p.row) for p in instruments.check_items("hads", plain)] == [("<items>", 3)]


def test_unknown_option_is_rejected():
    with pytest.raises(ValueError, match="unknown option"):
        instruments.score("sf36", pd.DataFrame(), norm="us1990")
    with pytest.raises(ValueError, match="us2000"):
        instruments.outcomes("sf36", norms="us2000")
