"""The supplementary tables (issue 14): responders, categorical outcomes by visit, their shift
table and the MMRM appendix, on the default cohorts (tests/reference/cohort_*), checked against
counts made here from the data and against the analyse stage's own rows."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from docx import Document

from trialflow.stats.mmrm_appendix import mmrm_appendix_models
from trialflow.stats.study_analysis import analyse_planned_study
from trialflow.tables import SUPPLEMENTARY_TABLES, write_supplementary_tables
from trialflow.tables.categorical import categorical_by_visit_table, categorical_shift_table
from trialflow.tables.responders import responders_table


@pytest.fixture(scope="module")
def spine(cohort):
    data = cohort("spine_rct")
    analysed = analyse_planned_study(
        data["analysis"], data["outcomes"], data["participants"], data["study"]
    )
    return data | {"results": analysed.results, "model_fits": analysed.model_fits}


def _change(analysis, outcome, arm, visit="week8"):
    rows = analysis.loc[(analysis["outcome"] == outcome) & (analysis["arm"] == arm)]
    wide = rows.pivot_table(index="participant_id", columns="visit", values="value")
    return wide[visit] - wide["baseline"], rows["participant_id"].nunique()


def test_responder_counts_are_the_data(spine):
    table = responders_table(spine["study"], spine["outcomes"], spine["results"])
    frame = table.frame.set_index("Outcome")
    row = frame.loc[frame.index.str.startswith("SF-36 mental")].iloc[0]
    for arm, label in (
        ("control", "Control (medical treatment)"),
        ("exercise", "Supervised exercise"),
    ):
        change, n = _change(spine["analysis"], "sf36_mcs", arm)
        # MID 5; a missing change counts as non-response (the study's policy)
        responders = int((change >= 5 - 1e-9).sum())
        assert row[f"{label}: n/N (%; 95% CI)"].startswith(
            f"{responders}/{n} ({100 * responders / n:.1f}%; "
        )
    assert row["Responder if"] == "change >= 5"
    assert "; p = " in row["Risk difference, % points (95% CI); Fisher p"]


def test_categorical_table_of_a_study_without_bands_says_so(spine):
    table = categorical_by_visit_table(spine["study"], spine["analysis"])
    assert table.frame.empty
    assert table.footnotes == ("The study's instruments define no categorical scores.",)


def test_categorical_tables_count_the_bands(cohort):
    data = cohort("knee_sarcopenia")
    study, analysis = data["study"], data["analysis"]
    hads = analysis.loc[analysis["outcome"] == "hads_anxiety"]
    at12 = hads.loc[hads["visit"] == "week12", "value"].dropna()
    # HADS bands: normal 0-7, borderline 8-10, abnormal 11-21
    borderline = int(((at12 >= 8) & (at12 <= 10)).sum())
    table = categorical_by_visit_table(study, analysis).frame
    cell = table.loc[
        (table["Outcome"] == "HADS anxiety (HADS-A) band")
        & (table["Visit"] == "Week 12 (end of training)")
        & (table["Category"] == "Borderline"),
        "Resistance training",
    ].iloc[0]
    assert cell == f"{borderline} ({100 * borderline / len(at12):.1f}%)"
    test = table.loc[
        (table["Outcome"] == "HSS grade")
        & (table["Category"] == "Change from baseline (within arm)"),
        "Resistance training",
    ]
    assert len(test) == 2 and test.str.startswith("Stuart-Maxwell χ²(3) = ").all()
    shift = categorical_shift_table(study, analysis).frame
    wide = hads.pivot_table(index="participant_id", columns="visit", values="value")
    both = wide[["baseline", "week12"]].dropna()
    abnormal_to_normal = int(((both["baseline"] >= 11) & (both["week12"] <= 7)).sum())
    row = shift.loc[
        (shift["Outcome"] == "HADS anxiety (HADS-A) band") & (shift["At baseline"] == "Abnormal")
    ].iloc[0]
    assert row["Normal"] == str(abnormal_to_normal)
    assert row["Total"] == str(int((both["baseline"] >= 11).sum()))


def test_mmrm_appendix_is_the_fitted_model(spine):
    # make the primary an MMRM: the appendix must show the very model the analysis reports
    study = spine["study"]
    primary = dataclasses.replace(study.analysis.primary, method="mmrm")
    study = dataclasses.replace(
        study, analysis=dataclasses.replace(study.analysis, primary=primary, key_secondary=())
    )
    analysed = analyse_planned_study(
        spine["analysis"], spine["outcomes"], spine["participants"], study
    )
    (details,) = mmrm_appendix_models(spine["analysis"], spine["participants"], study)
    assert details.role == "primary"
    fits = analysed.model_fits
    fit = fits.loc[
        (fits["outcome"] == primary.outcome) & (fits["analysis_set"] == "full_analysis")
    ]
    assert details.fit["minus2_loglik"] == pytest.approx(fit["minus2_loglik"].iloc[0], rel=1e-12)
    means = details.lsmeans(0.05).set_index("arm")["estimate"]
    res = analysed.results
    row = res.loc[
        (res["outcome"] == primary.outcome)
        & (res["analysis"] == "mmrm")
        & (res["contrast"] == "exercise - control")
    ].iloc[0]
    assert means["exercise"] - means["control"] == pytest.approx(row["estimate"], rel=1e-10)
    correlations = details.covariance()
    assert np.allclose(
        correlations.loc[correlations["visit_1"] == correlations["visit_2"], "correlation"], 1
    )
    assert set(details.type3()["term"]) == {"baseline", "arm", "age"}


def test_appendix_without_planned_mmrm_shows_the_primary_outcome(spine):
    (details,) = mmrm_appendix_models(spine["analysis"], spine["participants"], spine["study"])
    assert (details.outcome, details.role) == ("back_extensor_peak_torque", "exploratory")


def test_supplementary_files_and_tables_docx(spine, tmp_path):
    inputs = {k: spine[k] for k in ("analysis", "outcomes", "participants", "results")}
    paths = write_supplementary_tables(
        spine["study"], descriptives=None, outdir=tmp_path, **inputs
    )
    names = [p.name for p in paths]
    for name in SUPPLEMENTARY_TABLES:
        for ext in ("csv", "md", "html", "docx"):
            assert f"{name}.{ext}" in names
    assert names[-1] == "tables.docx"
    first = {p.name: p.read_bytes() for p in paths}
    again = write_supplementary_tables(
        spine["study"], descriptives=None, outdir=tmp_path, **inputs
    )
    assert {p.name: p.read_bytes() for p in again} == first  # byte-identical
    document = Document(str(tmp_path / "tables.docx"))
    text = "\n".join(p.text for p in document.paragraphs)
    for title in ("Table 1", "Table 2", "Responder analyses", "Appendix: MMRM"):
        assert title in text
    assert len(document.tables) == 4 + len(SUPPLEMENTARY_TABLES)
