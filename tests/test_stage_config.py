"""Config slices per workflow stage, and the resolved config that provenance archives."""

import json
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from trialflow.config import studies_from_config, study_from_mapping
from trialflow.stage_config import (
    STAGE_KEYS,
    MissingSection,
    canonical_json,
    config_sha256,
    resolved_study,
    stage_params,
    study_from_params,
    study_slice,
)

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = str(ROOT / "workflow" / "schemas" / "config.schema.yaml")


@pytest.fixture(scope="module")
def spine():
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    return studies_from_config(config)["spine_rct"]


def test_canonical_json_ignores_key_order():
    assert canonical_json({"b": 1, "a": {"d": 2, "c": 3}}) == '{"a":{"c":3,"d":2},"b":1}'


def test_resolved_config_is_valid_and_describes_the_same_study(spine):
    resolved = resolved_study(spine)
    validate({"studies": {spine.id: resolved}}, schema=SCHEMA)
    again = study_from_mapping(spine.id, resolved)
    assert resolved_study(again) == resolved
    assert config_sha256(again) == config_sha256(spine)
    # defaults are spelled out: the primary visit, multiplicity, instrument options
    assert resolved["analysis"]["primary_visit"] == "week8"
    assert resolved["instruments"]["sf36"]["options"] == {
        "definition": None,
        "norms": "us1998",
        "algorithm": "rand36",
    }


def test_config_hash_follows_instrument_order(spine):
    resolved = resolved_study(spine)
    swapped = dict(resolved, instruments=dict(reversed(list(resolved["instruments"].items()))))
    assert config_sha256(study_from_mapping(spine.id, swapped)) != config_sha256(spine)


def test_only_the_reader_stages_see_labels_and_title(spine):
    for stage, keys in STAGE_KEYS.items():
        part = study_slice(spine, stage)
        assert set(part) == set(keys)
        labelled = stage == "report"
        assert ("title" in part) is labelled
        assert all(("label" in arm) is labelled for arm in part["arms"])
        assert all(("label" in visit) is labelled for visit in part["visits"])


def test_a_stage_study_keeps_what_the_stage_reads(spine):
    analyse = study_from_params(stage_params(spine, "analyse"))
    assert analyse.analysis == study_from_params(stage_params(spine, "report")).analysis
    assert analyse.covariates == ("age",)
    assert [a.label for a in analyse.arms] == ["control", "exercise"]  # ids, not labels
    report = study_from_params(stage_params(spine, "report"))
    assert resolved_study(report) == resolved_study(spine)


def test_only_the_report_stage_sees_the_figure_options(spine):
    assert [stage for stage, keys in STAGE_KEYS.items() if "figures" in keys] == ["report"]
    report = study_from_params(stage_params(spine, "report"))
    assert report.figures.formats == ("png",) and report.figures.trajectory_sample == 200
    analyse = study_from_params(stage_params(spine, "analyse"))
    with pytest.raises(AttributeError, match="figures.*not part of this job's params"):
        _ = analyse.figures.formats


def test_reading_an_unsliced_section_fails_loudly(spine):
    score = study_from_params(stage_params(spine, "score"))
    assert isinstance(score.analysis, MissingSection)
    with pytest.raises(AttributeError, match="analysis.*not part of this job's params"):
        _ = score.analysis.alpha
    with pytest.raises(AttributeError, match="data_dir"):
        str(score.data_dir)
    assert [i.id for i in score.instruments][:2] == ["back_extensor", "endurance"]


def test_params_text_is_canonical(spine):
    text = stage_params(spine, "validate")
    assert text == canonical_json(json.loads(text))
    # instrument order survives sorting of keys (it is the order of outcomes in tables)
    ids = [entry["id"] for entry in json.loads(text)["config"]["instruments"]]
    assert ids == [spec.id for spec in spine.instruments]


def test_unknown_stage_is_an_error(spine):
    with pytest.raises(ValueError, match="unknown stage 'plot'"):
        study_slice(spine, "plot")
