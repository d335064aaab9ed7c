"""The pipeline adapter trialflow.stats.mmrm_analysis.mmrm_results.

fev_data is reshaped into trialflow's long analysis format (baseline FEV1 as the value at
the baseline visit); expected numbers are R nlme::gls + emmeans output from
tests/reference/mmrm/gls_fev.R (estimates, model-based SEs) and, for the Kenward-Roger
numbers, the engine validated against SAS in test_mmrm_sas.py.
"""

from __future__ import annotations

import dataclasses
import math

import helpers.studies
import numpy as np
import pandas as pd
import pytest
from helpers.reference import reference_file

from trialflow.config import AnalysisOptions, MMRMOptions, Study
from trialflow.stats import mmrm_analysis
from trialflow.stats.contract import MODEL_FIT_COLUMNS, RESULT_COLUMNS
from trialflow.stats.mmrm import MMRMControl, fit_mmrm
from trialflow.stats.mmrm_analysis import ESTIMAND_PARALLEL, analyse_mmrm, mmrm_results


def long_fev(arms=("PBO", "TRT")) -> pd.DataFrame:
    fev = pd.read_csv(reference_file("mmrm", "fev_data.csv"))
    fev = fev[fev["ARMCD"].isin(arms)]
    roster = fev.drop_duplicates("USUBJID")
    base = pd.DataFrame(
        {
            "participant_id": roster["USUBJID"],
            "arm": roster["ARMCD"],
            "visit": "BL",
            "week": 0.0,
            "value": roster["FEV1_BL"],
        }
    )
    post = pd.DataFrame(
        {
            "participant_id": fev["USUBJID"],
            "arm": fev["ARMCD"],
            "visit": fev["AVISIT"],
            "week": fev["VISITN"].astype(float) * 4,
            "value": fev["FEV1"],
        }
    )
    out = pd.concat([base, post], ignore_index=True).assign(outcome="fev1")
    covariates = roster.set_index("USUBJID")[["RACE", "SEX"]]
    out = out.join(covariates, on="participant_id")
    return out[["participant_id", "arm", "visit", "week", "outcome", "value", "RACE", "SEX"]]


def make_study(design="parallel", covariates=(), roles=None) -> Study:
    """fev_data as a study: baseline BL, then VIS1-VIS4 four weeks apart."""
    roles = roles or ["baseline", "treatment", "treatment", "treatment", "end_of_treatment"]
    names = ["BL", "VIS1", "VIS2", "VIS3", "VIS4"]
    arms = [("PBO", "Placebo"), ("TRT", "Treatment")]
    return helpers.studies.make_study(
        "fev",
        arms if design == "parallel" else arms[:1],
        [(n, 4.0 * i, r) for i, (n, r) in enumerate(zip(names, roles, strict=True))],
        design=design,
        instruments=[("spiro", "spirometry")],
        covariates=covariates,
        title="FEV1",
    )


def test_parallel_rows_match_r_and_engine():
    study = make_study()
    out = mmrm_results(long_fev(), study)
    assert list(out.columns) == list(RESULT_COLUMNS)
    assert list(out["visit"]) == ["VIS1", "VIS2", "VIS3", "VIS4"]
    assert set(out["analysis"]) == {"mmrm"} and set(out["contrast"]) == {"TRT - PBO"}
    assert (out["group"] == "").all() and (out["study"] == "fev").all()
    # estimate: the baseline-adjusted LS-mean difference (R gls + emmeans)
    r = pd.read_csv(reference_file("mmrm", "gls_fev_baseline_lsmean_diffs.csv")).set_index("visit")
    np.testing.assert_allclose(out["estimate"], r.loc[out["visit"], "estimate"], rtol=1e-4)
    # SE and df: Kenward-Roger from the engine, which is at least the model-based SE of R
    assert np.all(out["se"].to_numpy() >= r.loc[out["visit"], "se"].to_numpy() * (1 - 1e-4))
    np.testing.assert_allclose(out["df"], r.loc[out["visit"], "df"], rtol=0.02)
    fev = pd.read_csv(reference_file("mmrm", "fev_data.csv"))
    direct = fit_mmrm(
        fev, "FEV1 ~ FEV1_BL + ARMCD * AVISIT", subject="USUBJID", time="AVISIT",
        reference={"ARMCD": "PBO"},
    ).lsmean_diffs("ARMCD", by="AVISIT")  # fmt: skip
    for col in ("estimate", "se", "df", "ci_low", "ci_high", "p_value"):
        np.testing.assert_allclose(out[col], direct[col], rtol=1e-6)
    np.testing.assert_allclose(out["statistic"], direct["t"], rtol=1e-6)
    # n: the subjects in the model (a baseline and at least one post-baseline value)
    in_model = fev.dropna(subset=["FEV1", "FEV1_BL"])
    assert (out["n"] == in_model["USUBJID"].nunique()).all()
    note = out["note"].iloc[0]
    assert "unstructured" in note and "Kenward-Roger" in note
    assert "missing at random" in note and "hypothetical strategy" in note
    assert out["p_adjusted"].isna().all()
    # effect size: the difference and its limits over the pooled within-arm baseline SD of
    # the subjects in the model, worked from the arms' variances
    base = in_model.drop_duplicates("USUBJID").groupby("ARMCD")["FEV1_BL"]
    pooled = math.sqrt(((base.count() - 1) * base.var()).sum() / (base.count() - 1).sum())
    assert (out["effect_size_name"] == "standardised_difference").all()
    np.testing.assert_allclose(out["effect_size"], out["estimate"] / pooled, rtol=1e-12)
    np.testing.assert_allclose(out["effect_size_ci_low"], out["ci_low"] / pooled, rtol=1e-12)
    np.testing.assert_allclose(out["effect_size_ci_high"], out["ci_high"] / pooled, rtol=1e-12)
    assert (out["analysis_set"] == "full_analysis").all()


def test_options_of_analysis_mmrm_and_alpha_reach_the_model():
    """baseline_by_visit adds baseline:visit; tolerance and alpha are the engine's."""
    options = MMRMOptions(covariance=("unstructured",), baseline_by_visit=True, tolerance=1e-12)
    study = dataclasses.replace(make_study(), analysis=AnalysisOptions(alpha=0.1, mmrm=options))
    found = analyse_mmrm(long_fev(), study)
    out, fit = found.results, found.fits.iloc[0]
    assert fit["formula"] == "value ~ baseline + arm * visit + baseline:visit"
    assert fit["ci_level"] == pytest.approx(0.9)
    direct = fit_mmrm(
        long_fev().pipe(_with_baseline),
        "value ~ baseline + arm * visit + baseline:visit",
        subject="participant_id",
        time="visit",
        reference={"arm": "PBO"},
        factors=("arm", "visit"),
        control=MMRMControl(covariance="unstructured", tolerance=1e-12),
        time_levels=["VIS1", "VIS2", "VIS3", "VIS4"],
    )
    diffs = direct.lsmean_diffs("arm", by="visit", alpha=0.1)
    for col in ("estimate", "se", "df", "ci_low", "ci_high", "p_value"):
        np.testing.assert_allclose(out[col], diffs[col], rtol=1e-9)
    assert fit["minus2_loglik"] == pytest.approx(direct.minus2_loglik, rel=1e-12)
    # 90% limits: estimate -/+ qt(0.95, df) SE
    from scipy import stats

    half = stats.t.ppf(0.95, out["df"]) * out["se"]
    np.testing.assert_allclose(out["ci_high"] - out["estimate"], half, rtol=1e-9)
    assert set(found.subjects["arm"]) == {"PBO", "TRT"}
    assert found.subjects["n"].sum() == out["n"].iloc[0]


def test_parallel_with_covariates_and_fallback_order():
    study = make_study(covariates=("RACE", "SEX", "not_in_data"))
    out = mmrm_results(long_fev(), study)
    fev = pd.read_csv(reference_file("mmrm", "fev_data.csv"))
    direct = fit_mmrm(
        fev, "FEV1 ~ FEV1_BL + ARMCD * AVISIT + RACE + SEX", subject="USUBJID",
        time="AVISIT", reference={"ARMCD": "PBO"},
    ).lsmean_diffs("ARMCD", by="AVISIT")  # fmt: skip
    np.testing.assert_allclose(out["estimate"], direct["estimate"], rtol=1e-6)
    np.testing.assert_allclose(out["se"], direct["se"], rtol=1e-6)
    assert "RACE + SEX" in out["note"].iloc[0]


def test_single_arm_rows_match_r():
    roles = ["baseline", "treatment", "treatment", "end_of_treatment", "follow_up"]
    study = make_study(design="single_arm", roles=roles)
    out = mmrm_results(long_fev(arms=("PBO",)), study)
    r = pd.read_csv(reference_file("mmrm", "gls_fev_single_arm_contrasts.csv")).set_index(
        "contrast"
    )
    assert list(out["contrast"]) == [
        "VIS1 - BL", "VIS2 - BL", "VIS3 - BL", "VIS4 - BL", "VIS4 - VIS3",
    ]  # fmt: skip
    assert list(out["visit"]) == ["VIS1", "VIS2", "VIS3", "VIS4", "VIS4"]
    assert (out["group"] == "PBO").all()
    np.testing.assert_allclose(out["estimate"], r.loc[out["contrast"], "estimate"], rtol=2e-4)
    # one-row Kenward-Roger SEs are at least the model-based ones; df as Satterthwaite
    assert np.all(out["se"].to_numpy() >= r.loc[out["contrast"], "se"].to_numpy() * (1 - 1e-4))
    # emmeans' numerical ("appx") Satterthwaite df for gls is within about 6% here
    np.testing.assert_allclose(out["df"], r.loc[out["contrast"], "df"], rtol=0.06)
    # the model-based SEs of the same model agree with R closely
    data = long_fev(arms=("PBO",))
    model = fit_mmrm(
        data,
        "value ~ visit",
        subject="participant_id",
        time="visit",
        reference={"visit": "BL"},
        control=MMRMControl(ddf="satterthwaite", tolerance=1e-12),
    )
    grid, lc = model.lsmeans_matrix(["visit"])
    at = {v: i for i, v in enumerate(grid["visit"])}
    pairs = [c.split(" - ") for c in out["contrast"]]
    table = model.contrast(np.array([lc[at[a]] - lc[at[b]] for a, b in pairs]))
    np.testing.assert_allclose(table["se"], r.loc[out["contrast"], "se"], rtol=2e-4)
    # n: every subject with a value; effect size over the SD of the baseline values
    assert (out["n"] == data.dropna(subset=["value"])["participant_id"].nunique()).all()
    baseline_sd = data.loc[data["visit"] == "BL", "value"].dropna().std(ddof=1)
    assert (out["effect_size_name"] == "standardised_difference").all()
    np.testing.assert_allclose(out["effect_size"], out["estimate"] / baseline_sd, rtol=1e-12)
    assert "value ~ visit over all visits" in out["note"].iloc[0]


def test_degenerate_data_gives_rows_with_notes():
    study = make_study()
    only_placebo = long_fev(arms=("PBO",))
    out = mmrm_results(only_placebo, study)
    assert list(out["visit"]) == ["VIS1", "VIS2", "VIS3", "VIS4"]
    assert out["estimate"].isna().all()
    assert out["note"].str.contains("not fitted").all()
    tiny = long_fev().groupby("arm").head(6)  # too few subjects for an unstructured fit
    tiny_out = mmrm_results(tiny, study)
    assert len(tiny_out) == 4
    assert all(isinstance(n, str) and n for n in tiny_out["note"])
    assert mmrm_results(long_fev().iloc[:0], study).empty
    assert math.isnan(out["p_adjusted"].iloc[0])


def test_model_fits_state_the_fitted_model():
    study = make_study(covariates=("RACE",))
    found = analyse_mmrm(long_fev(), study)
    fits = found.fits
    assert list(fits.columns) == list(MODEL_FIT_COLUMNS)
    fit = fits.iloc[0]
    assert (fit["study"], fit["outcome"], fit["analysis"]) == ("fev", "fev1", "mmrm")
    assert fit["formula"] == "value ~ baseline + arm * visit + RACE"
    assert (fit["visit_scope"], fit["visits"]) == ("post_baseline", "VIS1;VIS2;VIS3;VIS4")
    assert (fit["status"], fit["converged"]) == ("converged", True)
    assert (fit["covariance"], fit["covariance_tried"]) == ("unstructured", "unstructured")
    assert (fit["method"], fit["ddf"], fit["ci_level"]) == ("REML", "kenward-roger", 0.95)
    assert fit["estimand"] == ESTIMAND_PARALLEL and fit["analysis_set"] == "full_analysis"
    # the same model fitted directly: every fact of the row is the fit's
    direct = fit_mmrm(
        long_fev().pipe(_with_baseline),
        "value ~ baseline + arm * visit + RACE",
        subject="participant_id",
        time="visit",
        reference={"arm": "PBO"},
        factors=("arm", "visit"),
        time_levels=["VIS1", "VIS2", "VIS3", "VIS4"],
    )
    assert fit["minus2_loglik"] == pytest.approx(direct.minus2_loglik, rel=1e-12)
    assert (fit["n_subjects"], fit["n_observations"]) == (direct.n_subjects, direct.n_obs)
    assert fit["n_fixed_parameters"] == len(direct.params)
    assert fit["n_covariance_parameters"] == 10  # UN over four visits
    assert fit["iterations"] == direct.attempts[-1].iterations and fit["note"] == ""
    # the rows' note is for people, and says the same
    assert "covariance unstructured (UN)" in found.results["note"].iloc[0]


def test_model_fits_minus2_loglik_matches_r():
    """nlme::gls on FEV1 ~ FEV1_BL + ARMCD * AVISIT (tests/reference/mmrm/gls_fev.R)."""
    study = dataclasses.replace(
        make_study(), analysis=AnalysisOptions(mmrm=MMRMOptions(covariance=("un",)))
    )
    fit = analyse_mmrm(long_fev(), study).fits.iloc[0]
    r = pd.read_csv(reference_file("mmrm", "gls_fev_baseline_fit.csv"))
    r = r.set_index("quantity")["value"]
    # trialflow stops at SAS's criterion; R's optimiser goes further (README: < 1e-4)
    assert fit["minus2_loglik"] == pytest.approx(-2 * r["reml_loglik"], abs=1e-4)


def _with_baseline(long: pd.DataFrame) -> pd.DataFrame:
    base = long.loc[long["visit"] == "BL", ["participant_id", "value"]]
    post = long.loc[long["visit"] != "BL"]
    return post.merge(base.rename(columns={"value": "baseline"}), on="participant_id")


def test_an_empty_arm_by_visit_cell_is_found_before_fitting():
    study = make_study()
    data = long_fev()
    data = data[~((data["arm"] == "TRT") & (data["visit"] == "VIS3"))]
    found = analyse_mmrm(data, study)
    assert found.results["estimate"].isna().all() and len(found.results) == 4
    assert (found.results["note"] == "MMRM not fitted: no data in arm TRT at visit VIS3").all()
    fit = found.fits.iloc[0]
    assert (fit["status"], fit["converged"], fit["covariance_tried"]) == ("not_fitted", False, "")
    assert fit["note"] == "MMRM not fitted: no data in arm TRT at visit VIS3"
    assert np.isnan(fit["minus2_loglik"])


def test_fallback_structure_is_recorded():
    study = make_study()
    data = long_fev()
    five = data.drop_duplicates("participant_id").groupby("arm").head(5)["participant_id"]
    found = analyse_mmrm(data[data["participant_id"].isin(five)], study)
    fit = found.fits.iloc[0]
    assert (fit["status"], fit["covariance"]) == ("converged", "ar1")
    assert fit["covariance_tried"] == "unstructured;toeplitz;ar1"
    assert fit["n_covariance_parameters"] == 2
    assert "(after unstructured, toeplitz did not converge)" in found.results["note"].iloc[0]


def test_a_model_that_does_not_converge_is_a_result():
    study = make_study()
    data = long_fev()
    baseline = data[data["visit"] == "BL"].set_index("participant_id")["value"]
    post = data["visit"] != "BL"
    # every change exactly 1: no residual variance, no structure can be fitted
    data.loc[post, "value"] = data.loc[post, "participant_id"].map(baseline).to_numpy() + 1.0
    found = analyse_mmrm(data, study)
    fit = found.fits.iloc[0]
    assert (fit["status"], fit["converged"]) == ("not_converged", False)
    assert fit["covariance_tried"] == "unstructured;toeplitz;ar1;compound_symmetry"
    assert fit["note"].startswith("MMRM not fitted: MMRM did not converge")
    assert (found.results["note"] == fit["note"]).all()
    assert found.results["estimate"].isna().all()


def test_engine_errors_propagate(monkeypatch):
    """Only non-convergence is a result; anything else the engine raises is a bug."""

    def broken(prepared, control):
        raise ValueError("a bug in the engine")

    monkeypatch.setattr(mmrm_analysis, "fit_prepared", broken)
    with pytest.raises(ValueError, match="a bug in the engine"):
        analyse_mmrm(long_fev(), make_study())
