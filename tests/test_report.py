"""Tests of trialflow.report: content, embedding, banner, determinism."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from fixtures_report import (
    data_quality_frame,
    parallel_inputs,
    scoring_summary_frame,
    single_arm_inputs,
)

from trialflow import figures as G
from trialflow import report as R

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
    )


def test_report_is_self_contained_and_complete(tmp_path):
    inp = parallel_inputs()
    text = make_report(tmp_path, inp).read_text()
    manifest = pd.read_csv(tmp_path / "figures" / G.MANIFEST, keep_default_na=False)
    # every figure but the inline flow diagram is an embedded SVG data URI
    assert text.count('src="data:image/svg+xml;base64,') == (manifest["kind"] != "consort").sum()
    assert text.count("<svg") == 1 and "<?xml" not in text
    # nothing is fetched from outside the file
    assert not re.search(r'(src|href)="(?!data:|#)', text)
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
    paragraphs = R.methods_paragraphs(inp["study"], inp["results"], VERSIONS)
    text = " ".join(paragraphs)
    assert "covariance structure used: unstructured" in text  # from the mmrm rows' notes
    assert "Holm adjustment within the family 'primary visit'" in text
    assert "baseline value and age" in text  # covariates from the config
    assert "Shapiro-Wilk" in text and "alpha = 0.05" in text
    assert "Estimand" in text and "missing at random" in text
    assert "Python 3.11.7; trialflow 0.1.0, pandas 3.1.1." in text


def test_mmrm_covariance_parsing():
    inp = parallel_inputs()
    res = inp["results"].copy()
    mmrm = res["analysis"] == "mmrm"
    res.loc[mmrm, "note"] = ["covariance: ar1", "fell back to toeplitz after non-convergence"]
    assert R.mmrm_covariance_used(res, inp["study"]) == {"ar1": 1, "toeplitz": 1}


def test_methods_take_model_and_estimand_from_mmrm_notes():
    inp = parallel_inputs()
    res = inp["results"].copy()
    mmrm = res["analysis"] == "mmrm"
    res.loc[mmrm, "note"] = [
        "MMRM value ~ baseline + arm * visit + age over post-baseline visits; covariance "
        "unstructured (UN); REML; Kenward-Roger df and adjusted SE; estimand: difference "
        "between arms in mean value at the visit, hypothetical strategy for dropout",
        "MMRM value ~ baseline + arm * visit + age over post-baseline visits; covariance "
        "toeplitz (TOEP) (after unstructured (UN) did not converge); REML; Kenward-Roger df "
        "and adjusted SE; estimand: difference between arms in mean value at the visit, "
        "hypothetical strategy for dropout",
    ]
    assert R.mmrm_covariance_used(res, inp["study"]) == {
        "unstructured (UN)": 1,
        "toeplitz (TOEP) (after unstructured (UN) did not converge)": 1,
    }
    text = " ".join(R.methods_paragraphs(inp["study"], res, VERSIONS))
    assert (
        "Estimand (as fitted by the MMRM): difference between arms in mean value at the visit, "
        "hypothetical strategy for dropout." in text
    )
    assert "MMRM: value ~ baseline + arm * visit + age over post-baseline visits; " in text
    assert "covariance structure used: unstructured (UN) (1 outcome) and toeplitz (TOEP)" in text
    assert "REML; Kenward-Roger df and adjusted SE" in text


@pytest.mark.parametrize("simulated", [True, False])
def test_simulated_banner(tmp_path, simulated):
    inp = parallel_inputs(simulated=simulated)
    text = make_report(tmp_path, inp).read_text()
    assert ('id="simulated-banner"' in text) is simulated
    assert ("Simulated data:" in text) is simulated


def test_single_arm_report(tmp_path):
    text = make_report(tmp_path, single_arm_inputs()).read_text()
    assert 'id="table3_tests"' in text
    assert "Table 3. Outcomes over visits (single arm)" in text
    assert "single-arm study" in text
    assert "whether it persisted at Week 24" in text


def test_report_is_byte_identical_and_has_no_timestamps(tmp_path):
    inp = parallel_inputs()
    first = make_report(tmp_path, inp, "a.html").read_bytes()
    second = make_report(tmp_path, parallel_inputs(), "b.html").read_bytes()
    assert first == second
    text = first.decode()
    visible = re.sub(
        r"data:image/svg\+xml;base64,[A-Za-z0-9+/=]+|<svg.*?</svg>", "", text, flags=re.S
    )
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}:\d{2}", visible)


def test_software_versions_lists_python_and_packages():
    versions = R.software_versions(("pandas", "surely-not-a-package"))
    assert versions["pandas"] == pd.__version__
    assert versions["surely-not-a-package"] == "not installed"
    assert re.fullmatch(r"\d+\.\d+\.\d+", versions["python"])
