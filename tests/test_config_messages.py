"""Config mistakes reported all at once, each as file and line or key path and a plain
sentence (issue 10, classes 1, 3, 6 and 7)."""

import copy
import os
import textwrap
from pathlib import Path

import pytest
import yaml

from trialflow.config import studies_from_config
from trialflow.config_load import check_config, load_schema, load_yaml_strict
from trialflow.stage_config import resolved_study

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = load_schema(ROOT / "workflow" / "schemas" / "config.schema.yaml")
STUDY = """
    title: Tiny
    design: parallel
    data_dir: raw/tiny
    arms: [{id: usual}, {id: training}]
    visits:
      - {id: baseline, week: 0, role: baseline}
      - {id: week8, week: 8, role: end_of_treatment}
    instruments:
      tug: {type: tug}
      hads: {type: hads}
    covariates: [age]
    analysis: {primary: {outcome: tug_time, visit: week8, method: ancova}}
"""


def _config(**edits) -> dict:
    study = yaml.safe_load(textwrap.dedent(STUDY))
    study.update(edits)
    return {"studies": {"tiny": study}}


@pytest.fixture(autouse=True)
def _in_a_working_directory(tmp_path, monkeypatch):
    (tmp_path / "raw" / "tiny").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)


def test_the_reference_config_has_no_problem():
    assert check_config(_config(), SCHEMA) == []


def test_a_study_pasted_twice_is_rejected_with_both_lines(tmp_path):
    study = textwrap.indent(textwrap.dedent(STUDY), "    ")
    path = tmp_path / "twice.yaml"
    path.write_text("studies:\n  tiny:" + study + "  tiny:" + study)
    problems = check_config(None, SCHEMA, [path])
    assert problems == [
        f"{path}, line 15: the key 'tiny' appears twice in the same mapping (first on line 2); "
        "remove one copy (YAML would silently keep the last)"
    ]


def test_a_yaml_syntax_error_names_file_line_and_column(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("studies:\n  tiny:\n    title: Tiny\n   design: parallel\n")
    (problem,) = check_config(None, SCHEMA, [path])
    assert problem.startswith(f"{path}, line 4, column 4: YAML syntax error: ")
    assert "indentation" in problem
    path.write_text("studies:\n\ttiny: {}\n")
    (problem,) = check_config(None, SCHEMA, [path])
    assert problem.startswith(f"{path}, line 2, column 1: YAML syntax error")
    assert problem.endswith("indent with spaces, not tabs")


def test_schema_errors_are_key_paths_and_sentences_all_at_once():
    config = _config(design="crossover", simulated="yes")
    config["studies"]["tiny"]["analysis"] = {"alpha": 1.5, "primay_visit": "week8"}
    config["studies"]["tiny"]["arms"][1]["id"] = "2nd arm"
    config["studies"]["tiny"]["instruments"]["tug"]["type"] = "tugg"
    assert check_config(config, SCHEMA) == [
        "studies.tiny.analysis.primay_visit: unknown key (did you mean 'primary_visit'?); the "
        "keys here are primary, key_secondary, testing, exploratory_only, analysis_set, "
        "sensitivity_sets, sensitivity, tipping_point, test_selection, between_test, alpha, "
        "primary_visit, multiplicity, minimal_important_difference, responders, mmrm, "
        "mmrm_covariance",
        "studies.tiny.analysis.alpha: must be less than 1, got 1.5",
        "studies.tiny.arms[1].id: '2nd arm' is not a valid id (letters, digits and _, "
        "starting with a letter)",
        "studies.tiny.design: 'crossover' is not one of parallel, single_arm",
        "studies.tiny.instruments.tug.type: 'tugg' is not one of sf36, qualeffo41, hads, hss, "
        "spirometry, back_extensor, loaded_standing, spinal_mobility, knee_rom, proprioception, "
        "quadriceps, vas_pain, tug, gait_speed, measures (did you mean 'tug'?)",
        "studies.tiny.simulated: expected true or false, got 'yes'",
    ]


def test_unknown_and_mistyped_instrument_options_are_config_errors():
    config = _config()
    config["studies"]["tiny"]["instruments"] = {
        "tug": {"type": "tug", "options": {"missing_code": [999]}},
        "hads": {"type": "hads", "options": {"coding": 1}},
        "sf36": {"type": "sf36", "options": {"norms": "us1999"}},
    }
    assert check_config(config, SCHEMA) == [
        "studies.tiny.instruments.tug.options.missing_code: tug has no option 'missing_code' "
        "(did you mean 'missing_codes'?); its options are definition, missing_codes",
        "studies.tiny.instruments.hads.options.coding: 1 is not one of score, position",
        "studies.tiny.instruments.sf36.options.norms: 'us1999' is not one of us1998, us1990 "
        "(did you mean 'us1998'?)",
    ]


def test_analysis_typos_that_would_change_the_analysis_silently():
    config = _config(
        analysis={
            "exploratory_only": True,
            "primary_visit": "baseline",
            "minimal_important_difference": {"tug_tim": 1, "hads_anxiety_band": 2},
        }
    )
    problems = check_config(config, SCHEMA)
    assert problems == [
        "studies.tiny.analysis.minimal_important_difference.tug_tim: no outcome of this study "
        "has this id; its outcomes are tug_time, hads_anxiety, hads_depression, "
        "hads_anxiety_band, hads_depression_band",
        "studies.tiny.analysis.primary_visit: 'baseline' is the baseline visit; the primary "
        "visit is a visit after baseline, one of week8",
        "studies.tiny.analysis.minimal_important_difference.hads_anxiety_band: this outcome is "
        "scored but not analysed (a category or reference value), so a MID for it would be "
        "ignored",
    ]


def test_covariate_entries_are_typed():
    config = _config(
        covariates=[
            "age",
            {"name": "site", "type": "category"},
            {"name": "sex", "type": "numeric"},
        ]
    )
    assert check_config(config, SCHEMA) == [
        "studies.tiny.covariates[1].type: 'category' is not one of numeric, categorical "
        "(did you mean 'categorical'?)",
        "studies.tiny.covariates[2].type: 'sex' is a categorical roster column (trialflow "
        "checks its values), so its type is categorical, not numeric",
    ]
    good = _config(covariates=["age", {"name": "site", "type": "categorical"}, "sex"])
    assert check_config(good, SCHEMA) == []
    study = studies_from_config(good)["tiny"]
    assert dict(study.covariate_types) == {
        "age": "numeric",
        "site": "categorical",
        "sex": "categorical",
    }
    assert resolved_study(study)["covariates"] == [
        {"name": "age", "type": "numeric"},
        {"name": "site", "type": "categorical"},
        {"name": "sex", "type": "categorical"},
    ]


def test_data_outside_the_working_directory_needs_allow_external_data(tmp_path_factory):
    outside = tmp_path_factory.mktemp("cohort")
    config = _config(data_dir=str(outside))
    config["studies"]["tiny"]["instruments"]["tug"]["file"] = "../tug.csv"
    (problem,) = check_config(config, SCHEMA)
    assert problem.startswith(f"studies.tiny.data_dir: '{outside}' is outside the working")
    assert problem.endswith("set allow_external_data: true in the study to read data from there")
    inside = _config()
    inside["studies"]["tiny"]["instruments"]["tug"]["file"] = "../../../tug.csv"
    (problem,) = check_config(inside, SCHEMA)
    assert problem.startswith("studies.tiny.instruments.tug.file: '../../../tug.csv' is outside")
    config["studies"]["tiny"]["allow_external_data"] = True
    assert check_config(config, SCHEMA) == []


def test_a_symlinked_data_dir_is_resolved_before_the_test(tmp_path_factory):
    outside = tmp_path_factory.mktemp("cohort")
    os.symlink(outside, "linked", target_is_directory=True)
    (problem,) = check_config(_config(data_dir="linked"), SCHEMA)
    assert problem.startswith("studies.tiny.data_dir: 'linked' is outside the working directory")
    assert str(outside.resolve()) in problem


def test_new_keys_are_filled_in_and_round_trip():
    config = _config(missing_codes=[999.0, -99], allow_columns=["initials"])
    config["studies"]["tiny"]["instruments"]["tug"]["options"] = {"missing_codes": [99]}
    study = studies_from_config(copy.deepcopy(config))["tiny"]
    resolved = resolved_study(study)
    assert resolved["missing_codes"] == [-99, 999]
    assert resolved["allow_columns"] == ["initials"]
    assert resolved["allow_external_data"] is False
    assert resolved["instruments"]["tug"]["options"]["missing_codes"] == [99]
    assert check_config({"studies": {"tiny": resolved}}, SCHEMA) == []  # schema-valid
    again = studies_from_config({"studies": {"tiny": resolved}})["tiny"]
    assert resolved_study(again) == resolved


def test_load_yaml_strict_accepts_the_repository_config():
    data, problems = load_yaml_strict(ROOT / "config.yaml")
    assert problems == [] and set(data["studies"]) == {"spine_rct", "knee_sarcopenia"}


def test_check_config_command_names_file_line_and_column(tmp_path, capsys):
    from trialflow.cli import main

    path = tmp_path / "mine.yaml"
    path.write_text("studies:\n  tiny:\n    title: Tiny\n   design: parallel\n")
    assert main(["check-config", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"- {path}, line 4, column 4: YAML syntax error" in out
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(_config()))
    assert main(["check-config", str(good)]) == 0
