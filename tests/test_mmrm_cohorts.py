"""The MMRM adapter on the default cohorts against R nlme::gls (corSymm + varIdent) + emmeans.

Data: a few outcomes of each default cohort's analysis data, exported by
tests/reference/mmrm/export_cohorts.py to tests/reference/mmrm/cohort_<study>.csv.
Expected numbers: tests/reference/mmrm/cohort_<study>_gls.csv, written by
tests/reference/mmrm/gls_cohorts.R (see its header) with the model mmrm_results fits:

* spine_rct (parallel, one post-baseline visit): ``value ~ baseline + arm * visit + age``,
  which with a single visit is a linear model with one residual variance (gls without
  correlation). Kenward-Roger then changes nothing: the adapter's SE is the model-based SE
  and its df the residual df, as in R.
* knee_sarcopenia (single arm, complete data): ``value ~ visit`` over baseline, week12 and
  week24 with an unstructured covariance (corSymm + varIdent in R). With complete data
  the estimates are differences of visit means and the model-based SE that of a paired
  difference; nlme stops a little short of the REML optimum (its -2 REML log-likelihood
  is up to 3e-7 above ours), so SEs agree to about 1e-5 relative.

Estimates and SEs are compared to 1e-4 relative, -2 REML log-likelihoods to 0.01. emmeans'
df for gls is its own numerical Satterthwaite approximation (not Kenward-Roger), so df are
compared only loosely (emmeans perturbs the response with random noise to approximate the
df of a gls fit; the R script fixes the seed; its df here are within 2% of the exact n - 1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers.reference import reference_file

from trialflow.stats.mmrm import MMRMControl, fit_mmrm
from trialflow.stats.mmrm_analysis import mmrm_results

ROOT = Path(__file__).resolve().parents[1]
COHORTS = ("spine_rct", "knee_sarcopenia")
pytestmark = pytest.mark.r_reference
KEYS = ["participant_id", "arm", "visit"]


@pytest.fixture(scope="module")
def studies(config_studies):
    return config_studies


def wide(cohort: str) -> pd.DataFrame:
    return pd.read_csv(reference_file("mmrm", f"cohort_{cohort}.csv"))


def long(cohort: str, study) -> pd.DataFrame:
    """The exported cohort in trialflow's long analysis format."""
    data = wide(cohort)
    ids = [*KEYS, *[c for c in study.covariates if c in data.columns]]
    out = data.melt(id_vars=ids, var_name="outcome", value_name="value")
    return out.dropna(subset=["value"]).reset_index(drop=True)


def expected(cohort: str) -> pd.DataFrame:
    return pd.read_csv(reference_file("mmrm", f"cohort_{cohort}_gls.csv"))


@pytest.fixture(scope="module", params=COHORTS)
def compared(request, studies):
    """Adapter rows joined to R's rows by outcome, visit and contrast."""
    cohort = request.param
    study = studies[cohort]
    out = mmrm_results(long(cohort, study), study)
    r = expected(cohort)
    assert len(out) == len(r) and out["estimate"].notna().all()
    both = out.merge(r, on=["outcome", "visit", "contrast"], suffixes=("", "_r"), how="inner")
    assert len(both) == len(r), "adapter and R rows differ in outcome/visit/contrast"
    return cohort, both


def test_adapter_estimates_match_r(compared):
    _, both = compared
    np.testing.assert_allclose(both["estimate"], both["estimate_r"], rtol=1e-4)
    assert (both["note"].str.contains("covariance unstructured")).all()


def test_adapter_se_and_df(compared):
    cohort, both = compared
    # Kenward-Roger SEs are at least the model-based SEs of R; here they coincide (one
    # variance, or complete data with a saturated mean model)
    assert np.all(both["se"] >= both["se_r"] * (1 - 1e-4))
    np.testing.assert_allclose(both["se"], both["se_r"], rtol=1e-4)
    if cohort == "spine_rct":
        # one residual variance: Kenward-Roger and emmeans' df are both n - p
        np.testing.assert_allclose(both["df"], both["df_r"], rtol=1e-9)
        np.testing.assert_allclose(both["ci_low"], both["lower"], rtol=1e-4)
        np.testing.assert_allclose(both["ci_high"], both["upper"], rtol=1e-4)
        assert (both["n"] == both["n_subjects"]).all()
    else:
        # complete data: df n - 1 as for a paired t-test; emmeans' random approximation
        np.testing.assert_allclose(both["df"], both["n_subjects"] - 1, rtol=1e-6)
        np.testing.assert_allclose(both["df"], both["df_r"], rtol=0.05)


def spine_fits():
    data = wide("spine_rct")
    for outcome, r in expected("spine_rct").groupby("outcome", sort=False):
        base = data.loc[data["visit"] == "baseline", ["participant_id", outcome]]
        post = data.loc[data["visit"] == "week8", [*KEYS, "age", outcome]]
        frame = post.merge(base.rename(columns={outcome: "baseline"}), on="participant_id")
        frame = frame.rename(columns={outcome: "value"}).dropna()
        fit = fit_mmrm(
            frame,
            "value ~ baseline + arm * visit + age",
            subject="participant_id",
            time="visit",
            reference={"arm": "control"},
            factors=("arm", "visit"),
            control=MMRMControl(ddf="satterthwaite", tolerance=1e-12),
        )
        yield r, fit, fit.lsmean_diffs("arm", by="visit", reference="control"), frame


def knee_fits():
    data = wide("knee_sarcopenia")
    visits = ["baseline", "week12", "week24"]
    for outcome, r in expected("knee_sarcopenia").groupby("outcome", sort=False):
        frame = data[["participant_id", "visit", outcome]].rename(columns={outcome: "value"})
        frame = frame.dropna()
        fit = fit_mmrm(
            frame,
            "value ~ visit",
            subject="participant_id",
            time="visit",
            reference={"visit": "baseline"},
            time_levels=visits,
            control=MMRMControl(ddf="satterthwaite", tolerance=1e-12),
        )
        grid, lc = fit.lsmeans_matrix(["visit"])
        at = {v: i for i, v in enumerate(grid["visit"])}
        pairs = [c.split(" - ") for c in r["contrast"]]
        table = fit.contrast(np.array([lc[at[a]] - lc[at[b]] for a, b in pairs]))
        yield r, fit, table, frame


@pytest.mark.parametrize("fits", [spine_fits, knee_fits], ids=COHORTS)
def test_model_based_se_and_reml_loglik(fits):
    for r, fit, table, frame in fits():
        outcome = r["outcome"].iloc[0]
        np.testing.assert_allclose(table["estimate"], r["estimate"], rtol=1e-4, err_msg=outcome)
        np.testing.assert_allclose(table["se"], r["se"], rtol=1e-4, err_msg=outcome)
        # nlme's REML log-likelihood has SAS's constant, as ours (test_mmrm_r.py)
        assert fit.minus2_loglik == pytest.approx(r["m2_reml_loglik"].iloc[0], abs=0.01)
        assert fit.n_obs == r["n_obs"].iloc[0] == len(frame)
        assert fit.n_subjects == r["n_subjects"].iloc[0]


def test_knee_complete_data_closed_form():
    """Complete data, saturated means, unstructured REML: the paired-difference SE."""
    data = wide("knee_sarcopenia").set_index(["participant_id", "visit"])
    for r, _, table, _ in knee_fits():
        values = data[r["outcome"].iloc[0]].unstack("visit")
        for (contrast, _), se in zip(r[["contrast", "se"]].itertuples(index=False), table["se"],
                                     strict=True):  # fmt: skip
            a, b = contrast.split(" - ")
            diff = values[a] - values[b]
            assert se == pytest.approx(diff.std(ddof=1) / np.sqrt(len(diff)), rel=1e-7)
