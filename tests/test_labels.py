"""Labels (issue 14): codes reach readers as words, from built-in defaults or the config."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import pandas as pd
import yaml

from trialflow.config import config_problems, studies_from_config
from trialflow.config_load import load_schema, schema_problems
from trialflow.labels import label
from trialflow.stage_config import stage_params, study_from_params
from trialflow.tables import table1_table

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
SCHEMA = load_schema(ROOT / "workflow" / "schemas" / "config.schema.yaml")


def test_built_in_labels():
    assert label("sex", "F") == "Female"
    assert label("sex", "M") == "Male"
    assert label("ethnicity", "ne_asian") == "North-East Asian"
    assert label("ethnicity", "caucasian") == "Caucasian"
    assert label("covariance", "toeplitz") == "Toeplitz (TOEP)"
    assert label("analysis_set", "full_analysis") == "full analysis set"
    assert label("site", "3") == "3"  # no label: the code as it is


def test_config_labels_override_and_reach_the_report_stage():
    config = copy.deepcopy(CONFIG)
    config["studies"]["knee_sarcopenia"]["labels"] = {
        "sex": {"F": "Women"},
        "site": {"1": "Ankara"},
    }
    assert config_problems(config) == []
    study = studies_from_config(config)["knee_sarcopenia"]
    assert label("sex", "F", study) == "Women"
    assert label("sex", "M", study) == "Male"  # the default stays for other codes
    assert label("site", "1", study) == "Ankara"
    rebuilt = study_from_params(stage_params(study, "report"))
    assert label("sex", "F", rebuilt) == "Women"
    # labels are for readers: the analysis stage does not see them (no rerun of analyse)
    assert stage_params(study, "analyse") == stage_params(
        studies_from_config(CONFIG)["knee_sarcopenia"], "analyse"
    )


def test_a_label_that_is_not_text_is_a_config_problem():
    config = copy.deepcopy(CONFIG)
    config["studies"]["knee_sarcopenia"]["labels"] = {"sex": {"F": 1}}
    (problem,) = schema_problems(config, SCHEMA)
    assert problem.startswith("studies.knee_sarcopenia.labels.sex.F")


def test_table1_shows_labels_not_codes():
    study = studies_from_config(CONFIG)["knee_sarcopenia"]
    roster = pd.DataFrame(
        {
            "participant_id": ["a", "b", "c"],
            "arm": ["training"] * 3,
            "age": [60.0, 70.0, 80.0],
            "sex": ["F", "F", "M"],
            "height_cm": [150.0, 160.0, 170.0],
            "weight_kg": [50.0, 60.0, 70.0],
        }
    )
    frame = table1_table(study, roster).frame
    levels = frame.loc[frame["Characteristic"].str.startswith("Sex, n"), "Level"].tolist()
    assert levels == ["Female", "Male"]
    renamed = dataclasses.replace(study, labels={"sex": {"F": "Women", "M": "Men"}})
    frame = table1_table(renamed, roster).frame
    cells = frame.loc[frame["Characteristic"].str.startswith("Sex, n")]
    assert cells["Level"].tolist() == ["Women", "Men"]
    assert cells.iloc[0, -1] == "2 (66.7%)"
