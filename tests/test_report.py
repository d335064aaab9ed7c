"""Tests of trialflow.report: content, embedding, banner, determinism."""

from __future__ import annotations

import dataclasses
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from helpers.report_inputs import (
    data_quality_frame,
    parallel_inputs,
    scoring_summary_frame,
    single_arm_inputs,
)

from trialflow import figures as G
from trialflow import report as R
from trialflow.config import Estimand, FigureOptions, IntercurrentEvent, PlannedAnalysis

VERSIONS = {"python": "3.11.7", "trialflow": "0.1.0", "pandas": "3.1.1"}


def make_report(tmp_path, inp, name="report.html", versions=VERSIONS):
    figures_dir = tmp_path / "figures"
    if not (figures_dir / G.MANIFEST).exists():
        G.write_study_figures(
            inp["study"],
            inp["analysis"],
            inp["outcomes"],
            inp["participants"],
            inp["results"],
            figures_dir,
        )
    return R.write_report(
        inp["study"],
        tmp_path / name,
        analysis=inp["analysis"],
        outcomes=inp["outcomes"],
        participants=inp["participants"],
        results=inp["results"],
        descriptives=inp["descriptives"],
        figures_dir=figures_dir,
        data_quality=data_quality_frame(),
        scoring_summary=scoring_summary_frame(),
        versions=versions,
        model_fits=inp["model_fits"],
    )


def test_report_is_self_contained_and_complete(tmp_path):
    inp = parallel_inputs()
    text = make_report(tmp_path, inp).read_text()
    manifest = pd.read_csv(tmp_path / "figures" / G.MANIFEST, keep_default_na=False)
    # the flow diagram, the forest plot and the trajectories are embedded as screen-resolution
    # PNGs; every figure links to its 300-dpi file beside the report
    embedded = manifest["kind"].isin(["consort", "forest", "trajectory"]).sum()
    assert text.count('src="data:image/png;base64,') == embedded
    assert "<svg" not in text and "<?xml" not in text
    # nothing is fetched from outside the file; links go to the figure files only
    assert not re.search(r'src="(?!data:)', text)
    links = set(re.findall(r'href="([^"#][^"]*)"', text))
    assert links == {f"figures/{stem}.png" for stem in manifest["stem"]}
    for table in ("table1_baseline", "table2_outcomes_by_visit", "table3_tests"):
        assert f'id="{table}"' in text
    # the ANCOVA cell; non-breaking spaces keep "p < 0.001" and the CI on one line
    assert "8.05 (3.45 to 12.65); p &lt; 0.001; adj. p &lt; 0.001" in text.replace("&nbsp;", " ")
    assert "p&nbsp;&lt;&nbsp;0.001" in text
    assert "1 value outside 0-60 s set missing" in text  # data-quality frame, as given
    assert "n_scored" in text  # scoring summary, every column
    assert str(tmp_path) not in text


def test_methods_are_generated_from_config_and_results():
    inp = parallel_inputs()
    paragraphs = R.methods_paragraphs(inp["study"], inp["results"], VERSIONS, inp["model_fits"])
    text = " ".join(paragraphs)
    assert "covariance structure used: unstructured (UN) (2 outcomes)" in text  # model_fits
    assert "Holm adjustment within the family 'primary visit'" in text
    assert "exploratory comparisons only" in text
    assert "baseline value and age" in text  # covariates from the config
    assert "Shapiro-Wilk" in text and "alpha = 0.05" in text
    assert "missing at random" in text
    assert "Python 3.11.7; trialflow 0.1.0, pandas 3.1.1." in text
    # the plan: primary analysis, testing strategy and the (default) estimand in E9(R1) terms
    assert "primary analysis back_peak_torque at Week 8 by ANCOVA" in text
    assert "fixed-sequence (hierarchical) testing" in text
    estimand = next(p for p in paragraphs if p.startswith("Estimand of the primary analysis"))
    assert estimand.startswith(
        "Estimand of the primary analysis (not declared: the default) (ICH E9(R1)): "
        "population: all randomised participants; variable: back_peak_torque at Week 8; "
        "intercurrent events: any intercurrent event"
    )
    assert "hypothetical (values after the event are set aside" in estimand
    assert "population-level summary: difference in means between arms" in estimand
    assert "Targeted by: ANCOVA of the value at the visit on arm" in estimand
    # test_selection = auto is flagged as data-driven, never choosing the primary analysis
    assert "This choice is data-driven" in text
    assert "never selects the primary or key secondary analyses" in text
    assert "significant" not in text


def test_methods_state_declared_estimands_with_their_strategies():
    inp = parallel_inputs("parametric")
    planned = PlannedAnalysis(
        "tug_time",
        "week8",
        "mmrm",
        Estimand(
            population="adults after knee surgery",
            intercurrent_events=(
                IntercurrentEvent("rescue_medication", "while_on_treatment"),
                IntercurrentEvent("discontinued_treatment", "treatment_policy"),
            ),
        ),
    )
    study = dataclasses.replace(
        inp["study"],
        analysis=dataclasses.replace(
            inp["study"].analysis,
            key_secondary=(planned,),
            testing="holm",
            sensitivity_sets=("per_protocol",),
        ),
    )
    labels = {"tug_time": "Timed Up and Go (s)"}
    paragraphs = R.methods_paragraphs(study, inp["results"], VERSIONS, inp["model_fits"], labels)
    text = " ".join(paragraphs)
    assert (
        "key secondary analyses, in testing order: (1) Timed Up and Go (s) at Week 8 by MMRM"
        in (text)
    )
    assert "tested by Holm's procedure over them" in text
    (estimand,) = [p for p in paragraphs if p.startswith("Estimand of the key secondary")]
    assert "population: adults after knee surgery" in estimand
    assert "variable: Timed Up and Go (s) at Week 8" in estimand
    assert "rescue medication: while on treatment (the last post-baseline value" in estimand
    assert "discontinued treatment: treatment policy (values after the event are used" in estimand
    assert "Targeted by: MMRM (value ~ baseline + arm x visit and age" in estimand
    assert "the per-protocol set (roster column per_protocol = yes) as sensitivity" in text
    assert "parametric test, as pre-specified" in text


def test_methods_read_model_facts_from_model_fits_never_from_notes():
    inp = parallel_inputs()
    fits = inp["model_fits"].copy()
    fits.loc[1, ["covariance", "covariance_tried"]] = ["toeplitz", "unstructured;toeplitz"]
    fits["estimand"] = "difference between arms in mean value at the visit"
    results = inp["results"].copy()
    results.loc[results["analysis"] == "mmrm", "note"] = "covariance: ar1; estimand: anything"
    assert R.mmrm_covariance_used(fits) == {"unstructured (UN)": 1, "Toeplitz (TOEP)": 1}
    text = " ".join(R.methods_paragraphs(inp["study"], results, VERSIONS, fits))
    assert "estimand as fitted: difference between arms in mean value at the visit" in text
    assert "MMRM: value ~ baseline + arm * visit + age over post-baseline visits; " in text
    assert "covariance structure used: unstructured (UN) (1 outcome) and Toeplitz (TOEP)" in text
    assert "REML; Kenward-Roger df and adjusted SE" in text
    assert "ar1" not in text.split("candidate structures")[0]  # the note is not read


def test_methods_count_comparisons_of_models_not_fitted():
    inp = parallel_inputs()
    fits = inp["model_fits"].copy()
    fits.loc[0, ["status", "converged", "covariance"]] = ["not_converged", False, ""]
    text = " ".join(R.methods_paragraphs(inp["study"], inp["results"], VERSIONS, fits))
    unfitted = inp["results"].query("analysis == 'mmrm' and outcome == @fits.outcome[0]")
    assert f"; {len(unfitted)} comparisons not fitted, see results.csv" in text
    assert "covariance structure used: unstructured (UN) (1 outcome)" in text
    # without model_fits nothing is claimed about the structure used
    bare = " ".join(R.methods_paragraphs(inp["study"], inp["results"], VERSIONS))
    # structures by their names, not the config's codes
    assert (
        "covariance structure chosen from unstructured (UN), Toeplitz (TOEP), first-order "
        "autoregressive (AR(1)) and compound symmetry (CS)" in bare
    )


@pytest.mark.parametrize("simulated", [True, False])
def test_simulated_banner(tmp_path, simulated):
    inp = parallel_inputs(simulated=simulated)
    text = make_report(tmp_path, inp).read_text()
    assert ('id="simulated-banner"' in text) is simulated
    assert ("Simulated data:" in text) is simulated


def test_single_arm_report(tmp_path):
    text = make_report(tmp_path, single_arm_inputs()).read_text()
    assert 'id="table3_tests"' in text
    assert "Table 3. Outcomes over visits (single arm, exploratory)" in text
    assert "single-arm study" in text
    assert "whether it persisted at Week 24" in text


def test_report_embeds_svg_when_only_svg_is_written(tmp_path):
    inp = parallel_inputs()
    inp["study"] = replace(inp["study"], figures=FigureOptions(formats=("svg",)))
    text = make_report(tmp_path, inp).read_text()
    manifest = pd.read_csv(tmp_path / "figures" / G.MANIFEST, keep_default_na=False)
    # the flow diagram inline, the forest plot and trajectories as SVG data URIs, every
    # figure linked as its SVG file
    embedded = manifest["kind"].isin(["forest", "trajectory"]).sum()
    assert text.count('src="data:image/svg+xml;base64,') == embedded
    assert text.count("<svg") == 1 and "<?xml" not in text
    assert "image/png" not in text
    links = set(re.findall(r'href="([^"#][^"]*)"', text))
    assert links == {f"figures/{stem}.svg" for stem in manifest["stem"]}


def test_report_is_byte_identical_and_has_no_timestamps(tmp_path):
    inp = parallel_inputs()
    first = make_report(tmp_path, inp, "a.html").read_bytes()
    second = make_report(tmp_path, parallel_inputs(), "b.html").read_bytes()
    assert first == second
    text = first.decode()
    visible = re.sub(
        r"data:image/(svg\+xml|png);base64,[A-Za-z0-9+/=]+|<svg.*?</svg>", "", text, flags=re.S
    )
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}:\d{2}", visible)


def test_software_versions_lists_python_and_packages():
    versions = R.software_versions(("pandas", "surely-not-a-package"))
    assert versions["pandas"] == pd.__version__
    assert versions["surely-not-a-package"] == "not installed"
    assert re.fullmatch(r"\d+\.\d+\.\d+", versions["python"])


def test_embedded_figures_are_screen_resolution_palette_pngs(tmp_path):
    import base64
    import io

    from PIL import Image

    from trialflow.report_parts import PALETTE_COLOURS, SCREEN_WIDTH

    text = make_report(tmp_path, parallel_inputs()).read_text()
    uris = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert uris
    for uri in uris:
        image = Image.open(io.BytesIO(base64.b64decode(uri)))
        assert image.mode == "P" and image.width == SCREEN_WIDTH
        assert len(image.getcolors()) <= PALETTE_COLOURS


@pytest.fixture(scope="module")
def default_run(tmp_path_factory, snakemake_run):
    """The default studies (data/raw and config.yaml of this checkout) run to their reports
    in a temporary copy."""
    root = Path(__file__).resolve().parents[1]
    workdir = tmp_path_factory.mktemp("default_run")
    shutil.copytree(root / "data" / "raw", workdir / "data" / "raw")
    shutil.copy2(root / "config.yaml", workdir / "config.yaml")
    run = snakemake_run(workdir)
    assert run.returncode == 0, run.stderr[-5000:]
    return workdir


@pytest.mark.slow
@pytest.mark.parametrize("study", ["spine_rct", "knee_sarcopenia"])
def test_default_study_reports_stay_under_2_mb(default_run, study):
    report = default_run / "results" / study / "report.html"
    assert 500_000 < report.stat().st_size < 2_000_000  # figures embedded, and small
