"""trialflow.stats.mmrm against SAS PROC MIXED on the mmrm package's fev_data.

Every expected number is transcribed from tests/reference/mmrm/SAS_TARGETS.md (a copy of the shared reference) and the SAS
listing sas_proc_mixed_un_reml.txt next to it (the authority). SAS prints 4 decimals (or 4-5
significant digits), so a value is accepted when it is within 1e-4 relative *or* within half
a unit of the last printed digit; SAS prints Satterthwaite df as integers, accepted within
0.5% (or the rounding).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trialflow.stats.mmrm import MMRMControl, fit_mmrm

REFERENCE = Path(__file__).parent / "reference" / "mmrm"

# SAS orders CLASS levels with the ref= level last: UN(i,j) index i is this visit
SAS_VISIT_ORDER = ["VIS2", "VIS3", "VIS4", "VIS1"]
REFERENCE_LEVELS = {"ARMCD": "PBO", "RACE": "Asian", "SEX": "Male", "AVISIT": "VIS1"}


def agrees(ours: float, printed: str, rel: float = 1e-4) -> bool:
    """Within ``rel`` relative of SAS's printed value, or within its rounding."""
    value = float(printed)
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return abs(ours - value) <= max(rel * abs(value), 0.5 * 10**-decimals) + 1e-12


def df_agrees(ours: float, printed: str) -> bool:
    value = float(printed)
    return abs(ours - value) <= max(0.005 * value, 0.5)


@pytest.fixture(scope="module")
def full(fev):
    return fit_mmrm(
        fev,
        "FEV1 ~ ARMCD * AVISIT + RACE + SEX",
        subject="USUBJID",
        time="AVISIT",
        reference=REFERENCE_LEVELS,
        control=MMRMControl(covariance="unstructured", ddf="satterthwaite"),
    )


def test_fit_statistics(full):
    assert full.converged and full.structure == "unstructured"
    assert full.n_obs == 537
    assert full.n_subjects_input == 200
    # iteration history: 3386.44987722 after two Newton-Raphson iterations
    assert abs(full.minus2_loglik - 3386.44987722) < 1e-6
    assert full.attempts[-1].iterations == 2
    assert agrees(full.aic, "3406.4") and agrees(full.bic, "3439.4")


SAS_COVARIANCE = """
UN(1,1) 26.5692 21.2242 34.2340
UN(2,1) 2.7851 -1.2137 6.7838
UN(2,2) 14.8970 11.8032 19.3965
UN(3,1) 7.4790 -1.6955 16.6534
UN(3,2) 0.9017 -7.0667 8.8701
UN(3,3) 95.5528 75.9677 123.87
UN(4,1) 14.3982 8.0430 20.7533
UN(4,2) 4.9744 -0.06856 10.0174
UN(4,3) 13.3731 -1.2381 27.9843
UN(4,4) 40.5509 32.3836 52.2687
"""


@pytest.mark.parametrize("line", SAS_COVARIANCE.strip().splitlines())
def test_covariance_parameters_and_limits(full, line):
    name, estimate, lower, upper = line.split()
    i, j = (int(k) - 1 for k in name[3:-1].split(","))
    a, b = SAS_VISIT_ORDER[i], SAS_VISIT_ORDER[j]
    assert agrees(full.sigma.loc[a, b], estimate)
    # our parameter is named by our visit order (VIS1..VIS4): find it by position
    ours = full.covariance_parameters()
    ia, ib = sorted((full.time_levels.index(a), full.time_levels.index(b)), reverse=True)
    row = ours.loc[f"UN({ia + 1},{ib + 1})"]
    assert agrees(row["estimate"], estimate)
    # the limits check the asymptotic SEs of the covariance parameters (observed information)
    assert agrees(row["lower"], lower) and agrees(row["upper"], upper)


SAS_SOLUTION = """
Intercept|30.7774|0.8865|219|34.72
ARMCD[TRT]|3.7745|1.0741|146|3.51
AVISIT[VIS2]|4.8396|0.8016|144|6.04
AVISIT[VIS3]|10.3422|0.8227|156|12.57
AVISIT[VIS4]|15.0537|1.3129|138|11.47
ARMCD[TRT]:AVISIT[VIS2]|-0.04231|1.1292|139|-0.04
ARMCD[TRT]:AVISIT[VIS3]|-0.6939|1.1876|158|-0.58
ARMCD[TRT]:AVISIT[VIS4]|0.6240|1.8510|130|0.34
RACE[Black or African American]|1.5305|0.6244|169|2.45
RACE[White]|5.6436|0.6656|157|8.48
SEX[Female]|0.3262|0.5319|166|0.61
"""


@pytest.mark.parametrize("line", SAS_SOLUTION.strip().splitlines())
def test_fixed_effects(full, line):
    name, estimate, se, df, t = line.split("|")
    assert agrees(full.params[name], estimate)
    assert agrees(full.bse[name], se)
    assert df_agrees(full.df[name], df)
    assert agrees(full.tvalues[name], t)


SAS_TYPE3 = """
ARMCD 1 169 31.67 31.67
AVISIT 3 148 142.11 426.32
ARMCD:AVISIT 3 148 0.26 0.77
RACE 2 166 36.92 73.83
SEX 1 166 0.38 0.38
"""


@pytest.mark.parametrize("line", SAS_TYPE3.strip().splitlines())
def test_type3_tests(full, line):
    term, num_df, den_df, f_value, chi_square = line.split()
    row = full.type3().loc[term]
    assert row["num_df"] == int(num_df)
    assert df_agrees(row["den_df"], den_df)
    assert agrees(row["f_value"], f_value)
    assert agrees(row["f_value"] * row["num_df"], chi_square)
    if term == "ARMCD:AVISIT":
        assert agrees(row["p_value"], "0.8555")


SAS_LSMEANS = """
VIS2 TRT 41.9037 0.6023 144 40.7131 43.0942
VIS2 PBO 38.1715 0.6117 147 36.9626 39.3803
VIS3 TRT 46.7546 0.5086 130 45.7484 47.7608
VIS3 PBO 43.6740 0.4617 130 42.7605 44.5875
VIS4 TRT 52.7841 1.1877 133 50.4347 55.1334
VIS4 PBO 48.3855 1.1886 134 46.0346 50.7364
VIS1 TRT 37.1063 0.7626 143 35.5990 38.6137
VIS1 PBO 33.3318 0.7554 148 31.8391 34.8245
"""


def test_lsmeans(full):
    table = full.lsmeans(["AVISIT", "ARMCD"]).set_index(["AVISIT", "ARMCD"])
    for line in SAS_LSMEANS.strip().splitlines():
        visit, arm, est, se, df, low, high = line.split()
        row = table.loc[(visit, arm)]
        assert agrees(row["estimate"], est), line
        assert agrees(row["se"], se), line
        assert df_agrees(row["df"], df), line
        assert agrees(row["ci_low"], low) and agrees(row["ci_high"], high), line


# all 28 rows of "Differences of Least Squares Means" (pdiff=all)
SAS_PDIFF = """
VIS2 TRT VIS2 PBO 3.7322 0.8588 145 2.0348 5.4296
VIS2 TRT VIS3 TRT -4.8509 0.7440 148 -6.3211 -3.3808
VIS2 TRT VIS3 PBO -1.7703 0.7589 258 -3.2648 -0.2759
VIS2 TRT VIS4 TRT -10.8804 1.2704 147 -13.3911 -8.3698
VIS2 TRT VIS4 PBO -6.4819 1.3327 199 -9.1099 -3.8539
VIS2 TRT VIS1 TRT 4.7973 0.7949 133 3.2250 6.3697
VIS2 TRT VIS1 PBO 8.5719 0.9661 257 6.6694 10.4743
VIS2 PBO VIS3 TRT -8.5831 0.7988 270 -10.1557 -7.0106
VIS2 PBO VIS3 PBO -5.5025 0.7221 158 -6.9287 -4.0763
VIS2 PBO VIS4 TRT -14.6126 1.3363 199 -17.2478 -11.9775
VIS2 PBO VIS4 PBO -10.2141 1.2765 154 -12.7358 -7.6924
VIS2 PBO VIS1 TRT 1.0651 0.9785 256 -0.8618 2.9920
VIS2 PBO VIS1 PBO 4.8396 0.8016 144 3.2551 6.4241
VIS3 TRT VIS3 PBO 3.0806 0.6896 131 1.7164 4.4448
VIS3 TRT VIS4 TRT -6.0295 1.2837 148 -8.5663 -3.4927
VIS3 TRT VIS4 PBO -1.6309 1.2946 182 -4.1854 0.9235
VIS3 TRT VIS1 TRT 9.6483 0.8569 161 7.9560 11.3405
VIS3 TRT VIS1 PBO 13.4228 0.9132 248 11.6242 15.2214
VIS3 PBO VIS4 TRT -9.1101 1.2747 172 -11.6262 -6.5940
VIS3 PBO VIS4 PBO -4.7116 1.2636 149 -7.2086 -2.2145
VIS3 PBO VIS1 TRT 6.5677 0.8922 228 4.8097 8.3256
VIS3 PBO VIS1 PBO 10.3422 0.8227 156 8.7171 11.9672
VIS4 TRT VIS4 PBO 4.3985 1.6805 133 1.0746 7.7225
VIS4 TRT VIS1 TRT 15.6778 1.3047 121 13.0949 18.2607
VIS4 TRT VIS1 PBO 19.4523 1.4078 225 16.6782 22.2263
VIS4 PBO VIS1 TRT 11.2792 1.4128 228 8.4955 14.0630
VIS4 PBO VIS1 PBO 15.0537 1.3129 138 12.4578 17.6496
VIS1 TRT VIS1 PBO 3.7745 1.0741 146 1.6517 5.8974
"""


def test_all_pairwise_lsmean_differences(full):
    grid, lc = full.lsmeans_matrix(["AVISIT", "ARMCD"])
    row_of = {
        (v, a): i for i, (v, a) in enumerate(zip(grid["AVISIT"], grid["ARMCD"], strict=True))
    }
    lines = SAS_PDIFF.strip().splitlines()
    contrasts = []
    for line in lines:
        v1, a1, v2, a2 = line.split()[:4]
        contrasts.append(lc[row_of[(v1, a1)]] - lc[row_of[(v2, a2)]])
    table = full.contrast(np.array(contrasts))
    for line, (_, row) in zip(lines, table.iterrows(), strict=True):
        est, se, df, low, high = line.split()[4:]
        assert agrees(row["estimate"], est), line
        assert agrees(row["se"], se), line
        assert df_agrees(row["df"], df), line
        assert agrees(row["ci_low"], low) and agrees(row["ci_high"], high), line


def test_lsmean_differences_by_visit_and_slices(full):
    expected = {  # visit: estimate, SE, DF, p, CI, slice F
        "VIS1": ("3.7745", "1.0741", "146", "0.0006", "1.6517", "5.8974", "12.35"),
        "VIS2": ("3.7322", "0.8588", "145", None, "2.0348", "5.4296", "18.89"),
        "VIS3": ("3.0806", "0.6896", "131", None, "1.7164", "4.4448", "19.96"),
        "VIS4": ("4.3985", "1.6805", "133", "0.0099", "1.0746", "7.7225", "6.85"),
    }
    diffs = full.lsmean_diffs("ARMCD", by="AVISIT").set_index("AVISIT")
    for visit, (est, se, df, p, low, high, f) in expected.items():
        row = diffs.loc[visit]
        assert row["contrast"] == "TRT - PBO"
        assert agrees(row["estimate"], est) and agrees(row["se"], se)
        assert df_agrees(row["df"], df)
        assert agrees(row["ci_low"], low) and agrees(row["ci_high"], high)
        if p is None:
            assert row["p_value"] < 0.0001
        else:
            assert agrees(row["p_value"], p)
        assert agrees(row["t"] ** 2, f)


def test_intercept_only_model(fev):
    res = fit_mmrm(
        fev, "FEV1 ~ 1", subject="USUBJID", time="AVISIT", control=MMRMControl(ddf="satterthwaite")
    )
    assert abs(res.minus2_loglik - 3700.9) < 0.05 + 0.01
    assert agrees(res.params["Intercept"], "42.8338")
    assert agrees(res.bse["Intercept"], "0.3509")
    assert df_agrees(res.df["Intercept"], "171")
    assert agrees(res.tvalues["Intercept"], "122.07")
    sas = {
        (1, 1): "44.0193", (2, 1): "4.9722", (2, 2): "27.2643", (3, 1): "-8.5335",
        (3, 2): "23.0555", (3, 3): "158.17", (4, 1): "49.8999", (4, 2): "2.7459",
        (4, 3): "-40.4566", (4, 4): "113.63",
    }  # fmt: skip
    for (i, j), value in sas.items():
        assert agrees(res.sigma.loc[SAS_VISIT_ORDER[i - 1], SAS_VISIT_ORDER[j - 1]], value)


# SAS ddfm=kenwardroger for FEV1 ~ ARMCD, contrast TRT - PBO (README table).
# rel_se: SAS's full Kenward-Roger for CSH, TOEP and ANTE(1) differs from ours (and from the
# R package mmrm's) by about 1e-4 relative; the fits themselves agree with nlme::gls.
SAS_KR = [
    ("unstructured", 0.66124382, 160.733266, 1e-6),
    ("compound_symmetry", 0.79647, 177.038486, 1e-4),
    ("ar1", 0.95865440, 188.469349, 1e-5),
    ("toeplitz", 0.87839806, 160.027408, 1e-4),
    ("heterogeneous_ar1", 0.75903161, 188.225339, 1e-5),
    ("heterogeneous_compound_symmetry", 0.67414806, 190.737701, 2e-4),
    ("heterogeneous_toeplitz", 0.72543829, 180.062730, 1e-5),
    ("ante_dependence", 0.66172017, 162.393385, 2e-4),
]


@pytest.mark.parametrize(("structure", "se", "df", "rel_se"), SAS_KR)
def test_kenward_roger_by_structure(fev, structure, se, df, rel_se):
    res = fit_mmrm(
        fev,
        "FEV1 ~ ARMCD",
        subject="USUBJID",
        time="AVISIT",
        reference={"ARMCD": "PBO"},
        control=MMRMControl(covariance=structure, ddf="kenward-roger"),
    )
    assert res.structure == structure and res.converged
    row = res.contrast([0.0, 1.0]).iloc[0]
    assert abs(row["se"] - se) <= rel_se * se
    assert abs(row["df"] - df) <= 0.005 * df
    assert res.bse["ARMCD[TRT]"] == pytest.approx(row["se"], rel=1e-12)


def test_unstructured_kenward_roger_equals_linear_variant(fev):
    """SAS's UN parameterisation is linear, so full and linear Kenward-Roger coincide."""
    kwargs = dict(subject="USUBJID", time="AVISIT", reference={"ARMCD": "PBO"})
    full_kr = fit_mmrm(fev, "FEV1 ~ ARMCD", **kwargs, control=MMRMControl(ddf="kenward-roger"))
    linear = fit_mmrm(
        fev, "FEV1 ~ ARMCD", **kwargs, control=MMRMControl(ddf="kenward-roger-linear")
    )
    np.testing.assert_allclose(full_kr.cov_params(), linear.cov_params(), rtol=1e-12)
    assert full_kr.bse["ARMCD[TRT]"] == pytest.approx(0.66124382270307, rel=1e-8)
    assert full_kr.df["ARMCD[TRT]"] == pytest.approx(160.733266403768, rel=1e-6)
