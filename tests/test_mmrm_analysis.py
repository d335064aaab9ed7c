"""The pipeline adapter trialflow.stats.mmrm_analysis.mmrm_results.

fev_data is reshaped into trialflow's long analysis format (baseline FEV1 as the value at
the baseline visit); expected numbers are R nlme::gls + emmeans output from
tests/reference/mmrm/gls_fev.R (estimates, model-based SEs) and, for the Kenward-Roger
numbers, the engine validated against SAS in test_mmrm_sas.py.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialflow.config import Arm, InstrumentSpec, Study, Visit
from trialflow.stats.contract import RESULT_COLUMNS
from trialflow.stats.mmrm import fit_mmrm
from trialflow.stats.mmrm_analysis import mmrm_results

DATA = Path(__file__).parent / "reference" / "mmrm" / "fev_data.csv"
R_DIR = Path(__file__).parent / "reference" / "mmrm"
pytestmark = pytest.mark.skipif(not DATA.exists(), reason="shared MMRM reference data missing")


def long_fev(arms=("PBO", "TRT")) -> pd.DataFrame:
    fev = pd.read_csv(DATA)
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
    roles = roles or ["baseline", "treatment", "treatment", "treatment", "end_of_treatment"]
    names = ["BL", "VIS1", "VIS2", "VIS3", "VIS4"]
    arms = (Arm("PBO", "Placebo"), Arm("TRT", "Treatment"))
    return Study(
        id="fev",
        title="FEV1",
        design=design,
        data_dir="data/raw/fev",
        arms=arms if design == "parallel" else arms[:1],
        visits=tuple(
            Visit(n, n, 4.0 * i, r) for i, (n, r) in enumerate(zip(names, roles, strict=True))
        ),
        instruments=(InstrumentSpec("spiro", "spirometry"),),
        covariates=tuple(covariates),
    )


def test_parallel_rows_match_r_and_engine():
    study = make_study()
    out = mmrm_results(long_fev(), study)
    assert list(out.columns) == list(RESULT_COLUMNS)
    assert list(out["visit"]) == ["VIS1", "VIS2", "VIS3", "VIS4"]
    assert set(out["analysis"]) == {"mmrm"} and set(out["contrast"]) == {"TRT - PBO"}
    assert (out["group"] == "").all() and (out["study"] == "fev").all()
    # estimate: the baseline-adjusted LS-mean difference (R gls + emmeans)
    r = pd.read_csv(R_DIR / "gls_fev_baseline_lsmean_diffs.csv").set_index("visit")
    np.testing.assert_allclose(out["estimate"], r.loc[out["visit"], "estimate"], rtol=1e-4)
    # SE and df: Kenward-Roger from the engine, which is at least the model-based SE of R
    assert np.all(out["se"].to_numpy() >= r.loc[out["visit"], "se"].to_numpy() * (1 - 1e-4))
    np.testing.assert_allclose(out["df"], r.loc[out["visit"], "df"], rtol=0.02)
    fev = pd.read_csv(DATA)
    direct = fit_mmrm(
        fev, "FEV1 ~ FEV1_BL + ARMCD * AVISIT", subject="USUBJID", time="AVISIT",
        reference={"ARMCD": "PBO"},
    ).lsmean_diffs("ARMCD", by="AVISIT")  # fmt: skip
    for col in ("estimate", "se", "df", "ci_low", "ci_high", "p_value"):
        np.testing.assert_allclose(out[col], direct[col], rtol=1e-6)
    np.testing.assert_allclose(out["statistic"], direct["t"], rtol=1e-6)
    # n: participants with a value at the visit (and a baseline)
    observed = fev.dropna(subset=["FEV1"]).groupby("AVISIT")["USUBJID"].nunique()
    assert list(out["n"]) == list(observed.loc[out["visit"]])
    note = out["note"].iloc[0]
    assert "unstructured" in note and "Kenward-Roger" in note
    assert "missing at random" in note and "hypothetical strategy" in note
    assert out["p_adjusted"].isna().all()
    assert (out["effect_size_name"] == "cohen_d_model").all()


def test_parallel_with_covariates_and_fallback_order():
    study = make_study(covariates=("RACE", "SEX", "not_in_data"))
    out = mmrm_results(long_fev(), study)
    fev = pd.read_csv(DATA)
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
    r = pd.read_csv(R_DIR / "gls_fev_single_arm_contrasts.csv").set_index("contrast")
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
        data, "value ~ visit", subject="participant_id", time="visit",
        reference={"visit": "BL"}, ddf="satterthwaite", tol=1e-12,
    )  # fmt: skip
    grid, lc = model.lsmeans_matrix(["visit"])
    at = {v: i for i, v in enumerate(grid["visit"])}
    pairs = [c.split(" - ") for c in out["contrast"]]
    table = model.contrast(np.array([lc[at[a]] - lc[at[b]] for a, b in pairs]))
    np.testing.assert_allclose(table["se"], r.loc[out["contrast"], "se"], rtol=2e-4)
    assert (out["effect_size_name"] == "cohen_dz_model").all()
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
