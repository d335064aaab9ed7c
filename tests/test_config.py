"""The config schema and the Study model built from it."""

import copy
import dataclasses
from pathlib import Path
from typing import get_args

import pytest
import yaml
from snakemake.utils import validate

from trialflow.config import (
    AnalysisOptions,
    AnalysisSetName,
    BetweenTest,
    CovariateType,
    Design,
    FigureFormat,
    FigureOptions,
    IceStrategy,
    MultiplicityFamily,
    MultiplicityMethod,
    PlannedMethod,
    ResponderMissing,
    Study,
    Table1Summary,
    TestingStrategy,
    TestSelection,
    VisitRole,
    config_problems,
    studies_from_config,
    study_outcome_ids,
)
from trialflow.figures import FIGURE_FORMATS
from trialflow.instruments import TYPES
from trialflow.sensitivity_config import (
    IMPUTATION_METHODS,
    IMPUTATION_STRATEGIES,
    ImputationMethod,
)
from trialflow.stats import imputation
from trialflow.stats.between import BETWEEN_TESTS
from trialflow.stats.confirmatory import PLANNED_METHODS
from trialflow.stats.estimands import ANALYSIS_SETS, STRATEGIES
from trialflow.stats.mmrm import SAS_CONVH, STRUCTURES
from trialflow.stats.multiplicity import METHODS
from trialflow.stats.responders import MISSING_POLICIES
from trialflow.stats.results import FAMILIES, TEST_SELECTIONS
from trialflow.stats.table1 import SUMMARIES
from trialflow.stats.testing import TESTING_METHODS

#: Strategies the config accepts only to say they are not supported.
UNSUPPORTED_STRATEGIES = ("principal_stratum",)

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


# ------------------------------------------------------------------ one source of truth


def _schema() -> dict:
    return yaml.safe_load(Path(SCHEMA).read_text())


def test_schema_enums_equal_the_code_registries():
    """Adding a type, structure or option in code without the schema (or back) fails here."""
    schema = _schema()["$defs"]
    study, analysis = schema["study"]["properties"], schema["analysis"]["properties"]
    multiplicity = analysis["multiplicity"]["properties"]
    event = schema["estimand"]["properties"]["intercurrent_events"]["items"]["properties"]
    pairs = {
        "instrument types": (schema["instrument"]["properties"]["type"]["enum"], TYPES),
        "covariance structures": (
            analysis["mmrm"]["properties"]["covariance"]["items"]["enum"],
            STRUCTURES,
        ),
        "test selections": (analysis["test_selection"]["enum"], TEST_SELECTIONS),
        "multiplicity methods": (multiplicity["method"]["enum"], METHODS),
        "multiplicity families": (multiplicity["family"]["enum"], FAMILIES),
        "designs": (study["design"]["enum"], get_args(Design)),
        "visit roles": (
            study["visits"]["items"]["properties"]["role"]["enum"],
            get_args(VisitRole),
        ),
        "covariate types": (
            schema["covariate"]["oneOf"][1]["properties"]["type"]["enum"],
            get_args(CovariateType),
        ),
        "planned methods": (
            schema["planned_analysis"]["properties"]["method"]["enum"],
            PLANNED_METHODS,
        ),
        "testing strategies": (analysis["testing"]["enum"], TESTING_METHODS),
        "analysis sets": (analysis["analysis_set"]["enum"], ANALYSIS_SETS),
        "sensitivity sets": (analysis["sensitivity_sets"]["items"]["enum"], ANALYSIS_SETS),
        "between tests": (analysis["between_test"]["enum"], BETWEEN_TESTS),
        "intercurrent-event strategies": (
            event["strategy"]["enum"],
            (*STRATEGIES, *UNSUPPORTED_STRATEGIES),
        ),
        "responder missing policies": (
            analysis["responders"]["properties"]["missing"]["enum"],
            MISSING_POLICIES,
        ),
        "imputation methods": (
            schema["sensitivity_analysis"]["properties"]["method"]["enum"],
            IMPUTATION_METHODS,
        ),
        "tipping-point methods": (
            schema["tipping_point"]["properties"]["method"]["enum"],
            IMPUTATION_METHODS,
        ),
        "imputation strategies": (
            schema["imputation_strategy"]["oneOf"][0]["enum"],
            imputation.STRATEGIES,
        ),
        "imputation strategies per ICE type": (
            schema["imputation_strategy"]["oneOf"][1]["additionalProperties"]["enum"],
            IMPUTATION_STRATEGIES,
        ),
        "Table 1 summaries": (
            study["table1"]["properties"]["summary"]["additionalProperties"]["enum"],
            SUMMARIES,
        ),
        "figure formats": (
            schema["figures"]["properties"]["formats"]["items"]["enum"],
            get_args(FigureFormat),
        ),
    }
    for name, (in_schema, in_code) in pairs.items():
        assert list(in_schema) == list(in_code), name
    literals = {
        FigureFormat: FIGURE_FORMATS,
        TestSelection: TEST_SELECTIONS,
        MultiplicityMethod: METHODS,
        MultiplicityFamily: FAMILIES,
        PlannedMethod: PLANNED_METHODS,
        TestingStrategy: TESTING_METHODS,
        AnalysisSetName: ANALYSIS_SETS,
        BetweenTest: BETWEEN_TESTS,
        IceStrategy: (*STRATEGIES, *UNSUPPORTED_STRATEGIES),
        ResponderMissing: MISSING_POLICIES,
        Table1Summary: SUMMARIES,
        ImputationMethod: IMPUTATION_METHODS,
    }
    for literal, registry in literals.items():
        assert get_args(literal) == tuple(registry)


def test_schema_defaults_equal_the_dataclass_defaults():
    schema = _schema()["$defs"]
    study, analysis = schema["study"]["properties"], schema["analysis"]["properties"]
    multiplicity = analysis["multiplicity"]["properties"]
    options, fields = AnalysisOptions(), {f.name: f for f in dataclasses.fields(Study)}
    mmrm = analysis["mmrm"]["properties"]
    assert study["simulated"]["default"] == fields["simulated"].default
    assert tuple(study["covariates"]["default"]) == fields["covariates"].default
    assert tuple(study["missing_codes"]["default"]) == fields["missing_codes"].default
    assert tuple(study["allow_columns"]["default"]) == fields["allow_columns"].default
    assert study["allow_external_data"]["default"] == fields["allow_external_data"].default
    assert study["tables"]["properties"]["within_arm"]["default"] is True
    assert fields["tables"].default_factory().within_arm is True
    assert analysis["test_selection"]["default"] == options.test_selection == "parametric"
    assert analysis["alpha"]["default"] == options.alpha
    assert analysis["testing"]["default"] == options.testing
    assert analysis["exploratory_only"]["default"] == options.exploratory_only
    assert analysis["analysis_set"]["default"] == options.analysis_set
    assert tuple(analysis["sensitivity_sets"]["default"]) == options.sensitivity_sets
    assert tuple(analysis["sensitivity"]["default"]) == options.sensitivity
    assert options.tipping_point is None
    assert analysis["between_test"]["default"] == options.between_test
    assert analysis["responders"]["properties"]["missing"]["default"] == options.responders.missing
    assert tuple(mmrm["covariance"]["default"]) == options.mmrm.covariance
    assert mmrm["baseline_by_visit"]["default"] == options.mmrm.baseline_by_visit
    assert mmrm["tolerance"]["default"] == options.mmrm.tolerance == SAS_CONVH
    assert multiplicity["method"]["default"] == options.multiplicity.method
    assert multiplicity["family"]["default"] == options.multiplicity.family
    figures, figure_options = schema["figures"]["properties"], FigureOptions()
    assert tuple(figures["formats"]["default"]) == figure_options.formats
    assert figures["dpi"]["default"] == figure_options.dpi
    assert figures["trajectory_sample"]["default"] == figure_options.trajectory_sample
    assert figures["seed"]["default"] == figure_options.seed
    # and a study built from a config that leaves them out has exactly these defaults
    minimal = {
        "title": "t",
        "design": "parallel",
        "data_dir": "d",
        "arms": [{"id": "a"}, {"id": "b"}],
        "visits": [
            {"id": "v0", "week": 0, "role": "baseline"},
            {"id": "v1", "week": 1, "role": "follow_up"},
        ],
        "instruments": {"tug": {"type": "tug"}},
        "analysis": {
            "primary": {"outcome": "tug_time", "visit": "v1", "method": "ancova"},
            "mmrm": {},
            "responders": {},
        },
        "tables": {},
    }
    config = {"studies": {"s": copy.deepcopy(minimal)}}
    validate(config, schema=SCHEMA)  # fills the schema's defaults in
    from_schema = studies_from_config(config)["s"]
    from_code = studies_from_config({"studies": {"s": minimal}})["s"]
    assert from_schema == from_code


def test_unknown_mid_outcome_and_reserved_covariate_name_the_key(config):
    bad = copy.deepcopy(config)
    bad["studies"]["spine_rct"]["analysis"]["minimal_important_difference"]["sf36_pcz"] = 5
    bad["studies"]["spine_rct"]["covariates"] = ["age", "baseline"]
    problems = config_problems(bad)
    assert len(problems) == 2
    assert problems[0] == (
        "studies.spine_rct.covariates[1]: 'baseline' is a column trialflow makes itself "
        "(participant_id, arm, visit, week, outcome, value, baseline); rename the roster column"
    )
    assert problems[1].startswith(
        "studies.spine_rct.analysis.minimal_important_difference.sf36_pcz: no outcome of this "
        "study has this id; its outcomes are back_extensor_peak_torque, "
    )
    assert "sf36_pcs" in problems[1]  # the one meant is listed


def test_mid_outcome_ids_follow_the_instruments(config):
    ids = study_outcome_ids(config["studies"]["spine_rct"])
    assert "sf36_pcs" in ids and "endurance_time" in ids
    declared = {
        "grip": {
            "type": "measures",
            "measures": {"kg": {"label": "Grip", "unit": "kg", "higher_is_better": True}},
        }
    }
    assert study_outcome_ids({"instruments": declared}) == ["grip_kg"]
