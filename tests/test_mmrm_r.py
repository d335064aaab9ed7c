"""trialflow.stats.mmrm against R: nlme::gls (corSymm + varIdent, REML) and emmeans.

The expected numbers are the CSVs under tests/reference/mmrm/, written by
tests/reference/mmrm/gls_fev.R (see its header for the command). nlme's optimiser stops a
little short of the optimum (its -2 REML log-likelihood is 2e-7 above ours), so parameters
agree to about 1e-4 relative rather than to machine precision; the comparison is made with
our fully converged fit. emmeans approximates Satterthwaite df for gls numerically
("appx-satterthwaite"), so df agree to about 1.5% (SAS is the df authority, see
test_mmrm_sas.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers.reference import reference_file

from trialflow.stats.mmrm import MMRMControl, fit_mmrm

pytestmark = pytest.mark.r_reference
FACTORS = ("ARMCD", "AVISIT", "RACE", "SEX")


def r_name(term: str) -> str:
    """R's treatment-coded column name -> ours, e.g. ARMCDTRT:AVISITVIS2."""
    if term == "(Intercept)":
        return "Intercept"
    parts = []
    for part in term.split(":"):
        factor = next(f for f in FACTORS if part.startswith(f))
        parts.append(f"{factor}[{part[len(factor) :]}]")
    return ":".join(parts)


@pytest.fixture(scope="module")
def result():
    fev = pd.read_csv(reference_file("mmrm", "fev_data.csv"))
    return fit_mmrm(
        fev,
        "FEV1 ~ ARMCD * AVISIT + RACE + SEX",
        subject="USUBJID",
        time="AVISIT",
        reference={"ARMCD": "PBO", "RACE": "Asian", "SEX": "Male"},
        control=MMRMControl(covariance="unstructured", ddf="satterthwaite", tolerance=1e-12),
    )


def test_reml_loglik(result):
    fit = pd.read_csv(reference_file("mmrm", "gls_fev_fit.csv")).set_index("quantity")["value"]
    # nlme's REML log-likelihood uses the same constant as SAS's -2 Res Log Likelihood
    assert result.minus2_loglik == pytest.approx(-2 * fit["reml_loglik"], abs=1e-5)
    assert result.n_obs == fit["n_obs"]
    assert len(result.params) == fit["n_fixed"]


def test_coefficients(result):
    co = pd.read_csv(reference_file("mmrm", "gls_fev_coefficients.csv"))
    for term, estimate, se in co.itertuples(index=False):
        ours = r_name(term)
        assert result.params[ours] == pytest.approx(estimate, rel=1e-4, abs=1e-4), term
        assert result.bse[ours] == pytest.approx(se, rel=5e-5), term


def test_covariance_matrix(result):
    cov = pd.read_csv(reference_file("mmrm", "gls_fev_covariance.csv"))
    scale = np.diag(result.sigma).max()
    for row, col, value in cov.itertuples(index=False):
        assert result.sigma.iloc[row - 1, col - 1] == pytest.approx(value, abs=2e-4 * scale)


def test_lsmeans(result):
    expected = pd.read_csv(reference_file("mmrm", "gls_fev_lsmeans.csv"))
    ours = result.lsmeans(["AVISIT", "ARMCD"]).set_index(["AVISIT", "ARMCD"])
    for visit, arm, estimate, se, df in expected.itertuples(index=False):
        row = ours.loc[(visit, arm)]
        assert row["estimate"] == pytest.approx(estimate, rel=1e-5)
        assert row["se"] == pytest.approx(se, rel=5e-5)
        assert row["df"] == pytest.approx(df, rel=0.02)


def test_lsmean_differences(result):
    expected = pd.read_csv(reference_file("mmrm", "gls_fev_lsmean_diffs.csv"))
    ours = result.lsmean_diffs("ARMCD", by="AVISIT").set_index("AVISIT")
    for row in expected.itertuples(index=False):
        mine = ours.loc[row.visit]
        assert mine["contrast"] == row.contrast
        assert mine["estimate"] == pytest.approx(row.estimate, rel=1e-5)
        assert mine["se"] == pytest.approx(row.se, rel=5e-5)
        assert mine["df"] == pytest.approx(row.df, rel=0.02)
        assert mine["ci_low"] == pytest.approx(row.ci_low, rel=1e-4)
        assert mine["ci_high"] == pytest.approx(row.ci_high, rel=1e-4)
        assert mine["p_value"] == pytest.approx(row.p_value, rel=0.02)


def test_baseline_adjusted_model():
    """The model shape of the pipeline: FEV1 ~ FEV1_BL + ARMCD * AVISIT."""
    fev = pd.read_csv(reference_file("mmrm", "fev_data.csv"))
    res = fit_mmrm(
        fev,
        "FEV1 ~ FEV1_BL + ARMCD * AVISIT",
        subject="USUBJID",
        time="AVISIT",
        reference={"ARMCD": "PBO"},
        control=MMRMControl(ddf="satterthwaite", tolerance=1e-12),
    )
    fit = pd.read_csv(reference_file("mmrm", "gls_fev_baseline_fit.csv")).set_index("quantity")[
        "value"
    ]
    assert res.minus2_loglik == pytest.approx(-2 * fit["reml_loglik"], abs=1e-4)
    expected = pd.read_csv(reference_file("mmrm", "gls_fev_baseline_lsmean_diffs.csv"))
    ours = res.lsmean_diffs("ARMCD", by="AVISIT").set_index("AVISIT")
    for row in expected.itertuples(index=False):
        assert ours.loc[row.visit, "estimate"] == pytest.approx(row.estimate, rel=1e-4)
        assert ours.loc[row.visit, "se"] == pytest.approx(row.se, rel=1e-4)
        assert ours.loc[row.visit, "df"] == pytest.approx(row.df, rel=0.02)
