"""The analysis plan in the config: the Study it builds, and one test per config error.

Every message is ``<key path>: <plain sentence>`` (``trialflow.plan_problems``); the
messages asserted here are the ones a user sees when the workflow starts.
"""

import copy
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from trialflow.config import (
    Estimand,
    IntercurrentEvent,
    PlannedAnalysis,
    config_problems,
    studies_from_config,
    study_from_mapping,
)

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = str(ROOT / "workflow" / "schemas" / "config.schema.yaml")


@pytest.fixture
def config():
    return yaml.safe_load((ROOT / "config.yaml").read_text())


def spine_analysis(config):
    return config["studies"]["spine_rct"]["analysis"]


def knee_analysis(config):
    return config["studies"]["knee_sarcopenia"]["analysis"]


def without_primary(analysis, key_secondary=True):
    """Remove the primary analysis, and what defaults to its outcome: the key secondary
    analyses (optionally) and the missing-data sensitivity analyses."""
    del analysis["primary"]
    if key_secondary:
        del analysis["key_secondary"]
    analysis.pop("sensitivity", None)
    analysis.pop("tipping_point", None)


def problems_of(config):
    validate(config, schema=SCHEMA)  # every case is valid JSON Schema: the rule is beyond it
    return config_problems(config)


# ------------------------------------------------------------------ the plan as objects


def test_default_studies_declare_their_primary_analysis(config):
    studies = studies_from_config(config)
    spine, knee = studies["spine_rct"], studies["knee_sarcopenia"]
    assert spine.analysis.primary == PlannedAnalysis(
        outcome="back_extensor_peak_torque",
        visit="week8",
        method="ancova",
        estimand=Estimand(
            population="postmenopausal women with vertebral osteoporosis, as randomised",
            variable="back-extensor peak torque (Nm) at week 8",
            intercurrent_events=(IntercurrentEvent("discontinued_treatment", "treatment_policy"),),
            summary="difference in means between arms, adjusted for baseline torque and age",
        ),
    )
    assert [p.outcome for p in spine.analysis.key_secondary] == [
        "endurance_time",
        "qualeffo41_total",
    ]
    assert spine.analysis.planned[0] is spine.analysis.primary
    assert spine.analysis.testing == "fixed_sequence"
    assert knee.analysis.primary == PlannedAnalysis("tug_time", "week12", "mmrm")
    assert knee.primary_visit.id == "week12"  # defaults to the primary analysis's visit
    assert spine.table1.variables[0] == "age"
    assert spine.tables.within_arm is True


def test_primary_visit_defaults_to_the_primary_analysis_visit(config):
    study = copy.deepcopy(config["studies"]["knee_sarcopenia"])
    study["analysis"].pop("primary_visit", None)
    study["analysis"]["primary"]["visit"] = "week24"
    assert study_from_mapping("knee", study).primary_visit.id == "week24"


def test_responder_thresholds_absolute_relative_and_mid(config):
    analysis = spine_analysis(config)
    analysis["responders"] = {
        "thresholds": {"sf36_pcs": {"percent_improvement": 35}, "endurance_time": 10},
        "missing": "exclude",
    }
    study = studies_from_config(config)["spine_rct"]
    # responders.thresholds override the MID; a plain number is an absolute threshold
    assert study.analysis.responder_thresholds() == {
        "endurance_time": {"mid": 10.0},
        "sf36_mcs": {"mid": 5.0},
        "sf36_pcs": {"percent_improvement": 35.0},
    }
    assert study.analysis.responders.missing == "exclude"


def test_mmrm_options_and_table_options(config):
    knee = config["studies"]["knee_sarcopenia"]
    knee["analysis"]["mmrm"] = {"covariance": ["ar1"], "tolerance": 1e-12}
    knee["flow"] = {"screened": 420, "excluded": {"declined": 30, "ineligible": 15}}
    study = studies_from_config(config)["knee_sarcopenia"]
    assert study.analysis.mmrm.covariance == ("ar1",)
    assert study.analysis.mmrm.tolerance == 1e-12
    assert study.analysis.mmrm.baseline_by_visit is False
    assert study.flow.screened == 420
    assert list(study.flow.excluded) == ["declined", "ineligible"]


# ------------------------------------------------------------------ one test per error


def test_parallel_study_without_primary_is_an_error(config):
    without_primary(spine_analysis(config))
    assert problems_of(config) == [
        "studies.spine_rct.analysis.primary: a parallel-group study needs a declared primary "
        "analysis (outcome, visit, method); if the study has none, set "
        "analysis.exploratory_only: true"
    ]


def test_exploratory_only_study_needs_no_primary(config):
    analysis = spine_analysis(config)
    without_primary(analysis)
    analysis["exploratory_only"] = True
    assert problems_of(config) == []


def test_exploratory_only_with_a_primary_is_an_error(config):
    spine_analysis(config)["exploratory_only"] = True
    assert problems_of(config) == [
        "studies.spine_rct.analysis.exploratory_only: it is true, but analysis.primary is "
        "declared; remove one of them"
    ]


def test_key_secondary_without_primary_is_an_error(config):
    analysis = spine_analysis(config)
    without_primary(analysis, key_secondary=False)
    analysis["exploratory_only"] = True
    assert problems_of(config) == [
        "studies.spine_rct.analysis.key_secondary: key secondary analyses are tested after "
        "the primary one; declare analysis.primary first"
    ]


def test_unknown_primary_outcome_names_the_key(config):
    spine_analysis(config)["primary"]["outcome"] = "back_extensor_torque"
    (problem,) = problems_of(config)
    assert problem.startswith(
        "studies.spine_rct.analysis.primary.outcome: 'back_extensor_torque' is not an "
        "analysed outcome of this study; its outcomes are back_extensor_peak_torque, "
    )
    assert "spirometry_fev1_lln" not in problem  # reference values are not analysed


def test_primary_at_baseline_is_an_error(config):
    spine_analysis(config)["key_secondary"][1]["visit"] = "baseline"
    assert problems_of(config) == [
        "studies.spine_rct.analysis.key_secondary[1].visit: 'baseline' is not a post-baseline "
        "visit of this study; expected one of week8"
    ]


def test_ancova_on_a_single_arm_study_is_an_error(config):
    knee_analysis(config)["primary"]["method"] = "ancova"
    assert problems_of(config) == [
        "studies.knee_sarcopenia.analysis.primary.method: ancova compares arms, and this "
        "study has one arm; its analysis is the within-arm change from baseline by mmrm"
    ]


def test_responder_method_needs_a_threshold(config):
    spine_analysis(config)["key_secondary"][0]["method"] = "responder"
    assert problems_of(config) == [
        "studies.spine_rct.analysis.key_secondary[0].method: responder needs a responder "
        "threshold for 'endurance_time' (analysis.responders.thresholds or "
        "analysis.minimal_important_difference)"
    ]


def test_the_same_analysis_twice_is_an_error(config):
    spine_analysis(config)["key_secondary"][1] = dict(spine_analysis(config)["key_secondary"][0])
    assert problems_of(config) == [
        "studies.spine_rct.analysis.key_secondary[1]: the same analysis as "
        "analysis.key_secondary[0] (endurance_time at week8 by ancova)"
    ]


def test_one_mmrm_with_two_estimands_is_an_error(config):
    analysis = knee_analysis(config)
    analysis["key_secondary"] = [
        {
            "outcome": "tug_time",
            "visit": "week24",
            "method": "mmrm",
            "estimand": {"intercurrent_events": [{"type": "fall", "strategy": "hypothetical"}]},
        }
    ]
    assert problems_of(config) == [
        "studies.knee_sarcopenia.analysis.key_secondary[0].estimand: tug_time by mmrm is one "
        "model for every visit, and analysis.primary declares another estimand for it; give "
        "both the same estimand"
    ]


def test_principal_stratum_is_not_supported(config):
    events = spine_analysis(config)["primary"]["estimand"]["intercurrent_events"]
    events[0]["strategy"] = "principal_stratum"
    assert problems_of(config) == [
        "studies.spine_rct.analysis.primary.estimand.intercurrent_events[0].strategy: "
        "principal_stratum is not supported; use treatment_policy, hypothetical, "
        "while_on_treatment or (responder analyses) composite"
    ]


def test_composite_needs_a_responder_analysis(config):
    events = spine_analysis(config)["primary"]["estimand"]["intercurrent_events"]
    events[0]["strategy"] = "composite"
    assert problems_of(config) == [
        "studies.spine_rct.analysis.primary.estimand.intercurrent_events[0].strategy: "
        "composite counts the event as non-response and needs method responder; method "
        "ancova analyses the value itself"
    ]
    # as a responder analysis the composite strategy is accepted
    spine_analysis(config)["primary"]["method"] = "responder"
    spine_analysis(config)["responders"]["thresholds"] = {"back_extensor_peak_torque": 10}
    assert problems_of(config) == []


def test_an_event_type_listed_twice_is_an_error(config):
    events = spine_analysis(config)["primary"]["estimand"]["intercurrent_events"]
    events.append({"type": "discontinued_treatment", "strategy": "hypothetical"})
    assert problems_of(config) == [
        "studies.spine_rct.analysis.primary.estimand.intercurrent_events[1].type: "
        "'discontinued_treatment' is listed twice"
    ]


def test_the_primary_set_as_a_sensitivity_set_is_an_error(config):
    analysis = spine_analysis(config)
    analysis["analysis_set"] = "per_protocol"
    analysis["sensitivity_sets"] = ["full_analysis", "per_protocol"]
    assert problems_of(config) == [
        "studies.spine_rct.analysis.sensitivity_sets: 'per_protocol' is the primary analysis "
        "set (analysis.analysis_set); list only other sets"
    ]


def test_sensitivity_sets_without_a_primary_analysis_are_an_error(config):
    analysis = spine_analysis(config)
    without_primary(analysis)
    analysis["exploratory_only"] = True
    analysis["sensitivity_sets"] = ["completers"]
    assert problems_of(config) == [
        "studies.spine_rct.analysis.sensitivity_sets: sensitivity analyses repeat the primary "
        "and key secondary analyses on other sets, and none is declared"
    ]


def test_unknown_responder_threshold_outcome_names_the_key(config):
    spine_analysis(config)["responders"]["thresholds"] = {"sf36_pcz": {"mid": 5}}
    (problem,) = problems_of(config)
    assert problem.startswith(
        "studies.spine_rct.analysis.responders.thresholds.sf36_pcz: no analysed outcome of "
        "this study has this id; its outcomes are "
    )


def test_a_threshold_is_absolute_or_relative_and_positive(config):
    thresholds = {"sf36_pcs": {"mid": 5, "percent_improvement": 35}}
    spine_analysis(config)["responders"]["thresholds"] = thresholds
    with pytest.raises(Exception, match="thresholds"):
        validate(config, schema=SCHEMA)
    spine_analysis(config)["responders"]["thresholds"] = {"sf36_pcs": {"mid": -5}}
    with pytest.raises(Exception, match="thresholds"):
        validate(config, schema=SCHEMA)


def test_the_replaced_mmrm_covariance_key_says_where_it_went(config):
    knee_analysis(config)["mmrm_covariance"] = ["unstructured", "ar1"]
    assert problems_of(config) == [
        "studies.knee_sarcopenia.analysis.mmrm_covariance: this key was replaced by "
        "analysis.mmrm.covariance; write `mmrm: {covariance: [...]}` instead"
    ]
    with pytest.raises(ValueError, match="replaced by analysis.mmrm.covariance"):
        studies_from_config(config)


def test_baseline_by_visit_on_a_single_arm_study_is_an_error(config):
    knee_analysis(config)["mmrm"]["baseline_by_visit"] = True
    assert problems_of(config) == [
        "studies.knee_sarcopenia.analysis.mmrm.baseline_by_visit: a single-arm MMRM models "
        "baseline as a visit (value ~ visit) and has no baseline covariate; remove the key"
    ]


def test_the_within_arm_table_of_a_single_arm_study_cannot_be_turned_off(config):
    config["studies"]["knee_sarcopenia"]["tables"] = {"within_arm": False}
    assert problems_of(config) == [
        "studies.knee_sarcopenia.tables.within_arm: a single-arm study's analyses are "
        "within-arm changes (Table 3); the table cannot be turned off"
    ]
    config["studies"]["knee_sarcopenia"]["tables"] = {}
    config["studies"]["spine_rct"]["tables"] = {"within_arm": False}
    assert problems_of(config) == []


def test_flow_exclusions_need_and_fit_the_screened(config):
    knee = config["studies"]["knee_sarcopenia"]
    knee["flow"] = {"excluded": {"declined": 30}}
    assert problems_of(config) == [
        "studies.knee_sarcopenia.flow.excluded: exclusions are counted among the screened; "
        "give flow.screened too"
    ]
    knee["flow"] = {"screened": 20, "excluded": {"declined": 30, "ineligible": 5}}
    assert problems_of(config) == [
        "studies.knee_sarcopenia.flow.excluded: the exclusions add up to 35, more than the "
        "20 screened"
    ]


def test_table1_summary_of_an_undeclared_variable_is_an_error(config):
    config["studies"]["spine_rct"]["table1"]["summary"] = {
        "t_score": "median_iqr",
        "bmi": "mean_sd",
    }
    assert problems_of(config) == [
        "studies.spine_rct.table1.summary.bmi: 'bmi' is not one of table1.variables"
    ]
