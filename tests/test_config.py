"""The config schema and the Study model built from it."""

import copy
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from trialflow.config import config_problems, studies_from_config

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = str(ROOT / "workflow" / "schemas" / "config.schema.yaml")


@pytest.fixture
def config():
    return yaml.safe_load((ROOT / "config.yaml").read_text())


def test_default_config_is_valid(config):
    validate(config, schema=SCHEMA)
    assert config_problems(config) == []


def test_default_studies_have_the_published_designs(config):
    studies = studies_from_config(config)
    spine, knee = studies["spine_rct"], studies["knee_sarcopenia"]
    assert spine.design == "parallel"
    assert spine.reference_arm.id == "control"
    assert spine.arm_ids == ["control", "exercise"]
    assert spine.baseline.id == "baseline"
    assert [v.id for v in spine.post_baseline] == ["week8"]
    assert spine.primary_visit.id == "week8"
    assert knee.design == "single_arm"
    assert [(v.id, v.week) for v in knee.visits] == [
        ("baseline", 0),
        ("week12", 12),
        ("week24", 24),
    ]
    assert knee.end_of_treatment.id == "week12"
    assert knee.follow_up.id == "week24"
    assert knee.instrument("tug").type == "tug"


def test_schema_error_names_the_key(config):
    bad = copy.deepcopy(config)
    bad["studies"]["spine_rct"]["design"] = "crossover"
    with pytest.raises(Exception, match="design"):
        validate(bad, schema=SCHEMA)


def test_schema_rejects_unknown_instrument_type(config):
    bad = copy.deepcopy(config)
    bad["studies"]["knee_sarcopenia"]["instruments"]["gait"]["type"] = "gait"
    with pytest.raises(Exception, match="gait"):
        validate(bad, schema=SCHEMA)


def test_schema_requires_exactly_one_baseline(config):
    bad = copy.deepcopy(config)
    bad["studies"]["spine_rct"]["visits"][1]["role"] = "baseline"
    with pytest.raises(Exception, match="visits"):
        validate(bad, schema=SCHEMA)


def test_measures_instrument_needs_its_measures(config):
    bad = copy.deepcopy(config)
    bad["studies"]["spine_rct"]["instruments"]["extra"] = {"type": "measures"}
    with pytest.raises(Exception, match="measures"):
        validate(bad, schema=SCHEMA)


def test_cross_field_problems_name_the_key(config):
    bad = copy.deepcopy(config)
    bad["studies"]["knee_sarcopenia"]["arms"].append({"id": "control"})
    bad["studies"]["spine_rct"]["analysis"]["primary_visit"] = "week12"
    bad["studies"]["spine_rct"]["visits"][1]["week"] = 0
    assert config_problems(bad) == [
        "studies.spine_rct.visits: weeks must increase from visit to visit, got [0.0, 0.0]",
        "studies.spine_rct.analysis.primary_visit: 'week12' is not one of the visits "
        "['baseline', 'week8']",
        "studies.knee_sarcopenia.arms: a single_arm design has exactly one arm, got 2",
    ]
