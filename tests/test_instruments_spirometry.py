"""Spirometry: GLI-2012 values from pyspiro checked against the published equations by hand.

Coefficients and look-up-table spline values below are typed out from the GLI-2012
publication (Quanjer et al., Eur Respir J 2012;40:1324-43, online supplement tables), and
the LMS arithmetic of /work/shared/reference/instruments.md is done in the test.
"""

import math

import numpy as np
import pandas as pd
import pytest
from pyspiro import GLI_2012

from trialflow import instruments
from trialflow.errors import InputError

# FEV1, females: M = exp(a0 + a1 ln(height) + a2 ln(age) + ethnic + Mspline)
FEV1_F = {"a0": -9.6987, "a1": 2.1211, "a2": -0.0270, "a4_ne_asian": -0.0149,
          "p0": -2.3765, "p1": 0.0972, "p3_ne_asian": -0.0109, "q0": 1.154, "q1": 0.0}  # fmt: skip
# FEV1, males
FEV1_M = {"a0": -10.3420, "a1": 2.2196, "a2": 0.0574, "p0": -2.3268, "p1": 0.0798,
          "q0": 0.8866, "q1": 0.0850}  # fmt: skip
# Look-up table rows (age: Mspline, Sspline); Lspline is 0 for FEV1
SPLINE_FEV1_F = {58.0: (-0.0528597065, 0.0313812287), 58.25: (-0.0554621372, 0.0335879291)}
SPLINE_FEV1_M = {30.0: (0.1494648728, -0.0625079453)}


def by_hand(y, l_, m_, s_):
    """z, % predicted and LLN from L, M, S (instruments.md)."""
    z = ((y / m_) ** l_ - 1) / (l_ * s_)
    return z, 100 * y / m_, m_ * (1 - 1.645 * l_ * s_) ** (1 / l_)


def woman_58():
    c, (mspline, sspline) = FEV1_F, SPLINE_FEV1_F[58.0]
    m_ = math.exp(c["a0"] + c["a1"] * math.log(160) + c["a2"] * math.log(58) + mspline)
    s_ = math.exp(c["p0"] + c["p1"] * math.log(58) + sspline)
    l_ = c["q0"] + c["q1"] * math.log(58)
    return l_, m_, s_


def test_hand_worked_lms_for_a_58_year_old_woman_matches_pyspiro_and_the_reference_figure():
    l_, m_, s_ = woman_58()
    # M = exp(-9.6987 + 2.1211 x 5.075174 - 0.0270 x 4.060443 - 0.052860) = 2.46887 L
    assert m_ == pytest.approx(2.46887, abs=1e-5)
    assert s_ == pytest.approx(0.142211, abs=1e-6)
    z, pct, lln = by_hand(2.4, l_, m_, s_)
    # instruments.md: pyspiro gives 97.21 % predicted and z -0.196
    assert pct == pytest.approx(97.21, abs=0.005)
    assert z == pytest.approx(-0.196, abs=0.0005)
    gli = GLI_2012()
    assert [float(v) for v in gli.lms(0, 58, 160, 1, 1, None)] == pytest.approx([l_, m_, s_], rel=1e-9)  # fmt: skip
    assert float(gli.percent(0, 58, 160, 1, 1, 2.4)) == pytest.approx(pct, abs=0.005)
    assert float(gli.zscore(0, 58, 160, 1, 1, 2.4)) == pytest.approx(z, abs=1e-9)
    assert float(gli.lln(0, 58, 160, 1, 1, 2.4)) == pytest.approx(lln, abs=1e-9)


@pytest.mark.parametrize("parameter", ["fvc", "fev1", "fev1_fvc", "fef25_75"])
def test_whole_columns_equal_pyspiro_person_by_person(parameter):
    """gli_2012_lms evaluates whole columns at once (O(n) at 100,000 people); every value is
    bit for bit what pyspiro's lms() gives for that one person."""
    from trialflow.instruments.spirometry import gli_2012_lms

    rng = np.random.default_rng(2012)
    n = 400
    sex, ethnicity = rng.integers(0, 2, n), rng.integers(1, 6, n)
    whole_years = rng.integers(20, 80, n).astype(float)
    age = np.where(rng.random(n) < 0.5, whole_years, rng.uniform(18, 85, n).round(2))
    height = rng.uniform(140, 200, n).round(1)
    code = GLI_2012.Parameters[parameter.upper().replace("1_FVC", "1FVC")].value
    columns = np.column_stack(gli_2012_lms(parameter, sex, age, height, ethnicity))
    gli = GLI_2012()
    one_by_one = [
        [float(v) for v in gli.lms(int(s), a, h, int(e), code, None)]
        for s, a, h, e in zip(sex, age, height, ethnicity, strict=True)
    ]
    assert columns.tolist() == one_by_one


def test_hand_worked_lms_for_a_30_year_old_man():
    c, (mspline, sspline) = FEV1_M, SPLINE_FEV1_M[30.0]
    m_ = math.exp(c["a0"] + c["a1"] * math.log(180) + c["a2"] * math.log(30) + mspline)
    s_ = math.exp(c["p0"] + c["p1"] * math.log(30) + sspline)
    l_ = c["q0"] + c["q1"] * math.log(30)  # 0.8866 + 0.085 x 3.401197 = 1.175702
    z, pct, lln = by_hand(3.5, l_, m_, s_)
    scored = instruments.score(
        "spirometry",
        pd.DataFrame(
            {"fev1_l": [3.5], "fvc_l": [4.5], "vc_l": [4.6], "fef25_75_l_s": [3.0],
             "mip_cmh2o": [95.0], "age": [30.0], "sex": ["M"], "height_cm": [180.0],
             "ethnicity": ["caucasian"]}
        ),
    ).iloc[0]  # fmt: skip
    assert scored["fev1_z"] == pytest.approx(z, abs=1e-9)
    assert scored["fev1_pct_pred"] == pytest.approx(pct, abs=1e-9)
    assert scored["fev1_lln"] == pytest.approx(lln, abs=1e-9)
    # VC and MIP pass through in their units; FEV1/FVC is the ratio of the two
    assert scored["vc"] == 4.6 and scored["mip"] == 95.0
    assert scored["fev1_fvc"] == pytest.approx(3.5 / 4.5)


def test_between_table_ages_interpolate_linearly_and_ethnic_terms_apply():
    # 58.1 years lies 0.4 of the way from the 58 to the 58.25 row; NE Asian terms a4, p3
    c = FEV1_F
    (m58, s58), (m5825, s5825) = SPLINE_FEV1_F[58.0], SPLINE_FEV1_F[58.25]
    mspline = m58 + 0.4 * (m5825 - m58)
    sspline = s58 + 0.4 * (s5825 - s58)
    age = 58.1
    m_ = math.exp(c["a0"] + c["a1"] * math.log(155) + c["a2"] * math.log(age) + c["a4_ne_asian"] + mspline)  # fmt: skip
    s_ = math.exp(c["p0"] + c["p1"] * math.log(age) + c["p3_ne_asian"] + sspline)
    z, pct, lln = by_hand(2.0, c["q0"], m_, s_)
    scored = instruments.score(
        "spirometry",
        pd.DataFrame(
            {"fev1_l": [2.0], "fvc_l": [2.6], "vc_l": [np.nan], "fef25_75_l_s": [np.nan],
             "mip_cmh2o": [np.nan], "age": [age], "sex": ["F"], "height_cm": [155.0],
             "ethnicity": ["ne_asian"]}
        ),
    ).iloc[0]  # fmt: skip
    assert scored["fev1_pct_pred"] == pytest.approx(pct, rel=1e-9)
    assert scored["fev1_z"] == pytest.approx(z, rel=1e-9)
    assert scored["fev1_lln"] == pytest.approx(lln, rel=1e-9)
    assert math.isnan(scored["vc"]) and math.isnan(scored["fef25_75_z"])


def test_package_scores_the_reference_woman_and_defaults_to_caucasian():
    l_, m_, s_ = woman_58()
    z, pct, lln = by_hand(2.4, l_, m_, s_)
    items = pd.DataFrame(
        {"participant_id": ["A", "B"], "visit": ["baseline"] * 2, "vc_l": [3.1, 3.1],
         "fvc_l": [3.0, 3.0], "fev1_l": [2.4, 2.4], "fef25_75_l_s": [2.0, 2.0],
         "mip_cmh2o": [70.0, 70.0], "age": [58, 58], "sex": ["F", "F"],
         "height_cm": [160.0, 160.0], "ethnicity": ["caucasian", np.nan]}
    )  # fmt: skip
    scored = instruments.score("spirometry", items)
    for row in (0, 1):
        assert scored.loc[row, "fev1_pct_pred"] == pytest.approx(pct, abs=1e-9)
        assert scored.loc[row, "fev1_z"] == pytest.approx(z, abs=1e-9)
        assert scored.loc[row, "fev1_lln"] == pytest.approx(lln, abs=1e-9)
    # without an ethnicity column the default group is used too
    again = instruments.score("spirometry", items.drop(columns="ethnicity"))
    assert again.loc[0, "fev1_z"] == pytest.approx(z, abs=1e-9)


def test_ages_outside_gli_leave_reference_values_missing():
    items = pd.DataFrame(
        {"vc_l": [3.0], "fvc_l": [3.0], "fev1_l": [2.0], "fef25_75_l_s": [1.5],
         "mip_cmh2o": [60.0], "age": [92.0], "sex": ["M"], "height_cm": [170.0]}
    )  # fmt: skip
    scored = instruments.score("spirometry", items).iloc[0]
    assert not math.isnan(scored["fev1_z"])  # FEV1 covers 3-95 years
    assert math.isnan(scored["fef25_75_z"])  # FEF25-75 only 3-90 years
    assert scored["fef25_75"] == 1.5


def test_missing_roster_columns_and_bad_values_are_reported():
    items = pd.DataFrame({"vc_l": [3.0], "fvc_l": [-1.0], "fev1_l": [2.0], "fef25_75_l_s": [1.5], "mip_cmh2o": [60.0]})  # fmt: skip
    with pytest.raises(InputError) as error:
        instruments.score("spirometry", items)
    columns = {p.column for p in error.value.problems}
    assert columns == {"fvc_l", "age", "sex", "height_cm"}
    assert instruments.roster_columns("spirometry") == ("age", "sex", "height_cm", "ethnicity")
    meta = instruments.outcomes("spirometry").set_index("score")
    assert not meta.loc["fev1_lln", "analysed"] and meta.loc["fev1_z", "analysed"]
    assert meta.loc["mip", "unit"] == "cmH2O" and meta.loc["fef25_75", "unit"] == "L/s"
