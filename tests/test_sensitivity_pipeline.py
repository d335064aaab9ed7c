"""The missing-data sensitivity analyses wired into the pipeline (issue 13).

The engine (``trialflow.stats.imputation``) is validated in ``test_imputation_engine.py`` and
``test_imputation_methods.py``; here: the rows of the analyse stage equal the engine called
directly on the analysis data (built independently below), ``cmi_mar`` equals the pipeline's
MMRM with the same mean model, results are byte-identical for a fixed seed, the tipping row
sits where p = alpha, the config errors name their key, and the figure, Table 2, Methods and
the workflow carry the results.
"""

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers.dropout_study import VISITS, dropout_trial, with_sensitivity

from trialflow.config import study_from_mapping
from trialflow.config_load import check_config
from trialflow.figures.tipping import tipping_point_from_results, write_tipping_point_figure
from trialflow.methods import methods_paragraphs
from trialflow.stage_config import resolved_study, study_slice
from trialflow.stats import descriptives, read_results_csv, write_results_csv
from trialflow.stats.imputation import (
    bootstrap_mi,
    conditional_mean,
    resolve_strategies,
    tipping_point,
)
from trialflow.stats.study_analysis import analyse_planned_study
from trialflow.tables.build import outcomes_by_visit_table

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
POST = [v[0] for v in VISITS[1:]]
NUMBERS = ["estimate", "se", "ci_low", "ci_high", "statistic", "p_value"]


@pytest.fixture(scope="module")
def trial():
    return dropout_trial()


def engine_frame(analysis: pd.DataFrame) -> pd.DataFrame:
    """The engine's input written here from the long data, independently of the pipeline."""
    baseline = analysis.loc[analysis["visit"] == "baseline"].set_index("participant_id")["value"]
    post = analysis.loc[analysis["visit"] != "baseline"].copy()
    post["baseline"] = post["participant_id"].map(baseline)
    return post[["participant_id", "arm", "visit", "value", "baseline", "age"]]


def analysed(trial, study):
    return analyse_planned_study(
        trial["analysis"], trial["outcomes"], trial["participants"], study
    ).results


def test_pipeline_rows_equal_the_engine_on_the_analysis_data(trial):
    study = with_sensitivity(
        trial["study"],
        [
            {"method": "conditional_mean", "strategy": "j2r"},
            {
                "method": "bootstrap_mi",
                "strategy": "cir",
                "reference_arm": "exercise",
                "n_imputations": 20,
                "seed": 7,
            },
        ],
    )
    results = analysed(trial, study)
    frame = engine_frame(trial["analysis"])
    arms = ["control", "exercise"]
    cmi = conditional_mean(frame, POST, arms, "j2r", covariates=["age"])
    bmi = bootstrap_mi(
        frame, POST, arms, 20, 7, "cir", reference_arm="exercise", covariates=["age"]
    )
    for name, expected in (("cmi_j2r", cmi.table), ("bmi_cir", bmi.table)):
        got = results.loc[results["analysis"] == name].reset_index(drop=True)
        assert got["visit"].tolist() == POST
        # the contrast is against the first arm whatever the reference arm is
        assert set(got["contrast"]) == {"exercise - control"}
        assert (got["n"] == 80).all() and (got["flags"] == "sensitivity").all()
        assert got["p_adjusted"].isna().all()  # outside the testing strategy and families
        for column in [*NUMBERS, "df", "mc_se"]:
            np.testing.assert_allclose(got[column], expected[column], rtol=1e-12, atol=0)
    bmi_rows = results.loc[results["analysis"] == "bmi_cir"]
    assert (bmi_rows["n_imputations"] == 20).all() and (bmi_rows["seed"] == 7).all()
    assert (bmi_rows["mc_se"] > 0).all()
    assert bmi_rows["note"].str.contains("M = 20 imputations, seed 7").all()
    cmi_rows = results.loc[results["analysis"] == "cmi_j2r"]
    assert cmi_rows[["mc_se", "n_imputations", "seed", "df"]].isna().all().all()


def test_ice_from_the_roster_with_a_strategy_per_type(trial):
    roster = trial["participants"].copy()
    roster["ice_visit"] = ""
    roster["ice_type"] = ""
    # two discontinue (one keeps attending: its week12 value is set aside), one has rescue
    roster.loc[[45, 50], ["ice_visit", "ice_type"]] = ["week8", "discontinued"]
    roster.loc[[5], ["ice_visit", "ice_type"]] = ["week4", "rescue"]
    strategy = {"discontinued": "j2r", "rescue": "cr"}
    study = with_sensitivity(
        trial["study"], [{"method": "conditional_mean", "strategy": strategy}]
    )
    results = analyse_planned_study(trial["analysis"], trial["outcomes"], roster, study).results
    got = results.loc[results["analysis"] == "cmi_cr+j2r"].reset_index(drop=True)
    ice = roster[["participant_id", "ice_visit", "ice_type"]].replace("", np.nan)
    expected = conditional_mean(
        engine_frame(trial["analysis"]),
        POST,
        ["control", "exercise"],
        ice=resolve_strategies(ice, strategy),
        covariates=["age"],
    ).table
    for column in NUMBERS:
        np.testing.assert_allclose(got[column], expected[column], rtol=1e-12, atol=0)
    # not the monotone-dropout analysis
    derived = conditional_mean(
        engine_frame(trial["analysis"]), POST, ["control", "exercise"], "j2r", covariates=["age"]
    ).table
    assert not np.allclose(got["estimate"], derived["estimate"])


def test_cmi_mar_equals_the_pipeline_mmrm_with_the_same_mean_model(trial):
    """MAR conditional mean imputation = the MMRM with baseline x visit (no covariates)."""
    from dataclasses import replace

    study = replace(trial["study"], covariates=())
    study = with_sensitivity(study, [{"method": "conditional_mean", "strategy": "mar"}])
    results = analysed(trial, study)
    mmrm = results.loc[results["analysis"] == "mmrm"].set_index("visit")
    cmi = results.loc[results["analysis"] == "cmi_mar"].set_index("visit")
    np.testing.assert_allclose(cmi.loc[POST, "estimate"], mmrm.loc[POST, "estimate"], rtol=1e-6)


def test_results_are_byte_identical_for_a_fixed_seed(trial, tmp_path):
    entry = {"method": "bootstrap_mi", "strategy": "j2r", "n_imputations": 10, "seed": 3}
    study = with_sensitivity(trial["study"], [entry])
    write_results_csv(analysed(trial, study), tmp_path / "a.csv")
    write_results_csv(analysed(trial, study), tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    other = with_sensitivity(trial["study"], [{**entry, "seed": 4}])
    first = read_results_csv(tmp_path / "a.csv")
    second = analysed(trial, other)
    pick = [r.loc[r["analysis"] == "bmi_j2r", "estimate"].to_numpy() for r in (first, second)]
    assert not np.allclose(*pick)


@pytest.fixture(scope="module")
def tipping(trial):
    spec = {"method": "conditional_mean", "strategy": "j2r", "deltas": [-20, -15, -10, -5, 0]}
    study = with_sensitivity(trial["study"], tipping_point=spec)
    return study, analysed(trial, study)


def test_the_tipping_row_is_where_p_reaches_alpha(trial, tipping):
    study, results = tipping
    rows = results.loc[results["analysis"] == "tipping_point"]
    grid = rows.loc[~rows["flags"].str.contains("tipping_point")]
    assert grid["contrast"].str.match(r"exercise - control \(delta=-?\d+\)$").all()
    assert sorted(set(grid["delta"])) == [-20, -15, -10, -5, 0]
    point = rows.loc[rows["flags"] == "sensitivity;tipping_point"].set_index("visit")
    assert set(point["contrast"]) == {"exercise - control (tipping point)"}
    week12 = point.loc["week12"]
    assert -20 < week12["delta"] < 0  # unfavourable to exercise (higher is better)
    np.testing.assert_allclose(week12["p_value"], 0.05, atol=1e-8)
    result = conditional_mean(
        engine_frame(trial["analysis"]),
        POST,
        ["control", "exercise"],
        "j2r",
        covariates=["age"],
        delta_arm="exercise",
    )
    expected = tipping_point(result, [-20, -15, -10, -5, 0]).tipping.set_index("visit")
    np.testing.assert_allclose(
        point.loc[POST, "delta"], expected.loc[POST, "tipping_delta"], rtol=1e-10
    )
    at_zero = grid.loc[(grid["delta"] == 0) & (grid["visit"] == "week12"), "estimate"]
    assert at_zero.iloc[0] == pytest.approx(
        result.table.set_index("visit").at["week12", "estimate"]
    )


def test_tipping_figure_is_drawn_from_the_rows_deterministically(trial, tipping, tmp_path):
    study, results = tipping
    found = tipping_point_from_results(results, study)
    assert set(found.tipping["visit"]) == set(POST)
    for run in ("a", "b"):
        write_tipping_point_figure(study, results, trial["outcomes"], tmp_path / run)
    png = [(tmp_path / run / "tipping_point.png").read_bytes() for run in ("a", "b")]
    assert png[0] == png[1] and png[0][:8] == b"\x89PNG\r\n\x1a\n"


def test_table2_and_methods_show_the_sensitivity_analyses(trial):
    study = with_sensitivity(
        trial["study"],
        [{"method": "bootstrap_mi", "strategy": "j2r", "n_imputations": 10, "seed": 3}],
        {"method": "conditional_mean", "strategy": "j2r", "deltas": [-20, -10, 0]},
    )
    results = analysed(trial, study)
    desc = descriptives(trial["analysis"], trial["participants"], study)
    table = outcomes_by_visit_table(study, trial["outcomes"], results, desc).frame
    plan = table["Analysis plan"]
    bmi = results.loc[(results["analysis"] == "bmi_j2r") & (results["visit"] == "week12")]
    row = table.loc[plan.eq("Sensitivity (missing data): J2R, multiple imputation, M = 10")]
    assert row["Visit"].tolist() == POST  # one row after each visit's primary row
    cell = row.iloc[-1]["ANCOVA difference (95% CI)"]
    assert cell.startswith(f"{bmi['estimate'].iloc[0]:.2f} ({bmi['ci_low'].iloc[0]:.2f} to ")
    assert plan.str.startswith("Sensitivity (missing data): tipping point, delta = ").any()
    text = " ".join(methods_paragraphs(study, results, {"python": "3"}))
    assert "Rubin's variance is conservative" in text
    assert "J2R (jump to reference" in text and "set aside and imputed" in text


@pytest.fixture
def config():
    return yaml.safe_load((ROOT / "config.yaml").read_text())


def spine(config):
    return config["studies"]["spine_rct"]["analysis"]


def test_default_config_declares_them_for_the_parallel_study_only(config):
    assert spine(config)["sensitivity"] and spine(config)["tipping_point"]
    assert "sensitivity" not in config["studies"]["knee_sarcopenia"]["analysis"]
    assert check_config(config, SCHEMA) == []


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda c: c["studies"]["knee_sarcopenia"]["analysis"].update(
                sensitivity=[{"method": "conditional_mean", "strategy": "j2r"}]
            ),
            "studies.knee_sarcopenia.analysis.sensitivity[0].strategy: j2r imputes from another "
            "arm (reference-based) and needs design: parallel; this study is single-arm",
        ),
        (
            lambda c: c["studies"]["knee_sarcopenia"]["analysis"].update(
                tipping_point={"method": "conditional_mean", "strategy": "mar", "deltas": [1]}
            ),
            "studies.knee_sarcopenia.analysis.tipping_point: imputation sensitivity analyses "
            "compare arms and need design: parallel; this study is single-arm",
        ),
        (
            lambda c: spine(c)["sensitivity"][0].update(reference_arm="placebo"),
            "studies.spine_rct.analysis.sensitivity[0].reference_arm: 'placebo' is not an arm "
            "of this study; its arms are control, exercise",
        ),
        (
            lambda c: spine(c)["tipping_point"].update(arm="placebo"),
            "studies.spine_rct.analysis.tipping_point.arm: 'placebo' is not an arm of this "
            "study; its arms are control, exercise",
        ),
        (
            lambda c: spine(c)["sensitivity"][1].pop("seed"),
            "studies.spine_rct.analysis.sensitivity[1].seed: bootstrap_mi needs a seed (a "
            "non-negative integer), so that its draws are reproducible",
        ),
        (
            lambda c: spine(c)["sensitivity"][0].update(n_imputations=50),
            "studies.spine_rct.analysis.sensitivity[0].n_imputations: conditional_mean is "
            "deterministic and takes no n_imputations; remove it (or use method bootstrap_mi)",
        ),
        (
            lambda c: spine(c)["sensitivity"].append(dict(spine(c)["sensitivity"][0])),
            "studies.spine_rct.analysis.sensitivity[2]: the same analysis (cmi_j2r of "
            "back_extensor_peak_torque) as analysis.sensitivity[0]; results rows are named by "
            "method and strategy, so declare each once",
        ),
    ],
)
def test_config_errors_name_the_key(config, edit, message):
    edit(config)
    assert check_config(config, SCHEMA) == [message]


def test_without_a_primary_analysis_the_outcomes_must_be_named(config):
    analysis = spine(config)
    del analysis["primary"], analysis["key_secondary"]
    analysis["exploratory_only"] = True
    assert check_config(config, SCHEMA) == [
        f"studies.spine_rct.analysis.{where}: no primary analysis is declared, so there is no "
        f"default outcome; name the {key}"
        for where, key in (
            ("sensitivity[0].outcomes", "outcomes"),
            ("sensitivity[1].outcomes", "outcomes"),
            ("tipping_point.outcome", "outcome"),
        )
    ]


def test_an_unknown_outcome_names_the_key(config):
    spine(config)["sensitivity"][0]["outcomes"] = ["torque"]
    (problem,) = check_config(config, SCHEMA)
    assert problem.startswith(
        "studies.spine_rct.analysis.sensitivity[0].outcomes: 'torque' is not an analysed "
        "outcome of this study; its outcomes are back_extensor_peak_torque, "
    )


def test_the_analyse_slice_carries_the_resolved_declarations(config):
    raw = copy.deepcopy(config["studies"]["spine_rct"])
    study = study_from_mapping("spine_rct", raw)
    (cmi, bmi) = study_slice(study, "analyse")["analysis"]["sensitivity"]
    assert cmi == {
        "method": "conditional_mean",
        "strategy": "j2r",
        "reference_arm": "control",
        "outcomes": ["back_extensor_peak_torque"],
    }
    assert bmi["n_imputations"] == 100 and bmi["seed"] == 20250211
    tipping = study_slice(study, "analyse")["analysis"]["tipping_point"]
    assert tipping["arm"] == "exercise" and tipping["outcome"] == "back_extensor_peak_torque"
    # the resolved config describes the same study and is valid against the schema
    again = study_from_mapping("spine_rct", resolved_study(study)).analysis
    assert again.sensitivity == study.analysis.sensitivity
    assert again.tipping_point == study.analysis.tipping_point
    spelled = copy.deepcopy(config)
    spelled["studies"]["spine_rct"] = resolved_study(study)
    assert check_config(spelled, SCHEMA) == []


def test_the_workflow_writes_the_rows_figure_and_report(tmp_path, tiny_study, snakemake_run):
    """The tiny study with a sensitivity analysis and a tipping point, end to end; a forced
    rerun of the analysis and the figure gives the same bytes."""
    tiny_study(tmp_path)
    config = yaml.safe_load((tmp_path / "config.yaml").read_text())
    config["studies"]["tiny"]["analysis"].update(
        sensitivity=[{"method": "conditional_mean", "strategy": "j2r"}],
        tipping_point={"method": "conditional_mean", "strategy": "j2r", "deltas": [-4, -2, 0]},
    )
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    run = snakemake_run(tmp_path)
    assert run.returncode == 0, run.stderr[-5000:]
    out = tmp_path / "results" / "tiny"
    results = read_results_csv(out / "tables" / "results.csv")
    cmi = results.loc[results["analysis"] == "cmi_j2r"]
    assert cmi["contrast"].tolist() == ["training - usual"] and cmi["n"].tolist() == [8]
    assert np.isfinite(cmi["estimate"]).all()
    figure = out / "figures" / "tipping_point.png"
    report = (out / "report.html").read_text()
    assert 'id="tipping-point"' in report and "Missing-data sensitivity analyses" in report
    table2 = (out / "tables" / "table2_outcomes_by_visit.csv").read_text()
    assert "Sensitivity (missing data): J2R, conditional mean imputation" in table2
    before = [(out / "tables" / "results.csv").read_bytes(), figure.read_bytes()]
    rerun = snakemake_run(tmp_path, "--forcerun", "analyse", "tipping_point_figure")
    assert rerun.returncode == 0, rerun.stderr[-5000:]
    assert [(out / "tables" / "results.csv").read_bytes(), figure.read_bytes()] == before
