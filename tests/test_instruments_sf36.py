"""SF-36 scoring checked against examples worked by hand from the published rules.

Recoding tables, scale membership, coefficients and norms are quoted from
/work/shared/reference/instruments.md; the arithmetic is written out in the comments.
"""

import math

import numpy as np
import pandas as pd
import pytest

from trialflow import instruments
from trialflow.errors import InputError
from trialflow.instruments.sf36 import INSTRUMENT as SF36

SCALES = ["pf", "rp", "bp", "gh", "vt", "sf", "re", "mh"]

# Best printed position of each item (the one recoded to 100 in the RAND table)
BEST = {1: 1, 2: 1, 20: 1, 22: 1, 34: 1, 36: 1, 21: 1, 23: 1, 26: 1, 27: 1, 30: 1}
BEST.update({i: 3 for i in range(3, 13)})
BEST.update({i: 2 for i in range(13, 20)})
BEST.update({24: 6, 25: 6, 28: 6, 29: 6, 31: 6, 32: 5, 33: 5, 35: 5})
# Worst printed position (recoded to 0)
WORST = {1: 5, 2: 5, 20: 5, 22: 5, 34: 5, 36: 5, 21: 6, 23: 6, 26: 6, 27: 6, 30: 6}
WORST.update({i: 1 for i in range(3, 20)})
WORST.update({24: 1, 25: 1, 28: 1, 29: 1, 31: 1, 32: 1, 33: 1, 35: 1})

# A mixed answer set worked by hand (RAND-36 recoded values in brackets):
MIXED = {
    1: 3,  # GH (50)
    2: 2,  # health transition, in no scale
    # PF items 3-12: 1,2,3,3,3,2,2,3,3,3 -> 0,50,100,100,100,50,50,100,100,100; sum 750
    3: 1, 4: 2, 5: 3, 6: 3, 7: 3, 8: 2, 9: 2, 10: 3, 11: 3, 12: 3,
    # RP 13-16: 1,2,2,2 -> 0,100,100,100
    13: 1, 14: 2, 15: 2, 16: 2,
    # RE 17-19: 1,1,2 -> 0,0,100
    17: 1, 18: 1, 19: 2,
    20: 2,  # SF (75)
    21: 3,  # BP (60)
    22: 2,  # BP (75)
    23: 2,  # VT (80)
    24: 5,  # MH (80)
    25: 6,  # MH (100)
    26: 2,  # MH (80)
    27: 3,  # VT (60)
    28: 5,  # MH (80)
    29: 4,  # VT (60)
    30: 3,  # MH (60)
    31: 5,  # VT (80)
    32: 4,  # SF (75)
    33: 4,  # GH (75)
    34: 2,  # GH (75)
    35: 3,  # GH (50)
    36: 2,  # GH (75)
}  # fmt: skip
MIXED_SCALES = {
    "pf": 750 / 10,  # 75
    "rp": 300 / 4,  # 75
    "bp": (60 + 75) / 2,  # 67.5
    "gh": (50 + 75 + 75 + 50 + 75) / 5,  # 65
    "vt": (80 + 60 + 60 + 80) / 4,  # 70
    "sf": (75 + 75) / 2,  # 75
    "re": 100 / 3,  # 33.333
    "mh": (80 + 100 + 80 + 80 + 60) / 5,  # 80
}

# Published PCS/MCS coefficients and 1998 / 1990 US norms (instruments.md)
PCS = dict(zip(SCALES, [0.42402, 0.35119, 0.31754, 0.24954, 0.02877, -0.00753, -0.19206, -0.22069], strict=True))  # fmt: skip
MCS = dict(zip(SCALES, [-0.22999, -0.12329, -0.09731, -0.01571, 0.23534, 0.26876, 0.43407, 0.48581], strict=True))  # fmt: skip
MEAN_1998 = dict(zip(SCALES, [83.29094, 82.50964, 71.32527, 70.84570, 58.31411, 84.30250, 87.39733, 74.98685], strict=True))  # fmt: skip
SD_1998 = dict(zip(SCALES, [23.75883, 25.52028, 23.66224, 20.97821, 20.01923, 22.91921, 21.43778, 17.75604], strict=True))  # fmt: skip
MEAN_1990 = dict(zip(SCALES, [84.52404, 81.19907, 75.49196, 72.21316, 61.05453, 83.59753, 81.29467, 74.84212], strict=True))  # fmt: skip
SD_1990 = dict(zip(SCALES, [22.89490, 33.79729, 23.55879, 20.16964, 20.86942, 22.37642, 33.02717, 18.01189], strict=True))  # fmt: skip


def frame(*answer_sets: dict[int, int | None]) -> pd.DataFrame:
    rows = []
    for i, answers in enumerate(answer_sets):
        row = {"participant_id": f"P{i:02d}", "visit": "baseline"}
        row.update({f"q{item}": answers.get(item) for item in range(1, 37)})
        rows.append(row)
    return pd.DataFrame(rows).astype({f"q{i}": float for i in range(1, 37)})


def summary_by_hand(scales: dict[str, float], mean: dict, sd: dict) -> tuple[float, float]:
    """PCS = 50 + 10 sum(z * pcs coefficient), MCS likewise (instruments.md)."""
    z = {s: (scales[s] - mean[s]) / sd[s] for s in SCALES}
    return (
        50 + 10 * sum(z[s] * PCS[s] for s in SCALES),
        50 + 10 * sum(z[s] * MCS[s] for s in SCALES),
    )


def test_all_best_and_all_worst_answers_give_the_scale_extremes():
    scored = instruments.score("sf36", frame(BEST, WORST))
    assert list(scored.columns) == ["participant_id", "visit", *SCALES, "pcs", "mcs"]
    assert scored.loc[0, SCALES].tolist() == [100.0] * 8
    assert scored.loc[1, SCALES].tolist() == [0.0] * 8


def test_summary_scores_of_the_extremes_follow_the_norm_based_formula():
    scored = instruments.score("sf36", frame(BEST, WORST))
    best = summary_by_hand(dict.fromkeys(SCALES, 100.0), MEAN_1998, SD_1998)
    worst = summary_by_hand(dict.fromkeys(SCALES, 0.0), MEAN_1998, SD_1998)
    assert scored.loc[0, "pcs"] == pytest.approx(best[0], abs=1e-9)
    assert scored.loc[0, "mcs"] == pytest.approx(best[1], abs=1e-9)
    assert scored.loc[1, "pcs"] == pytest.approx(worst[0], abs=1e-9)
    assert scored.loc[1, "mcs"] == pytest.approx(worst[1], abs=1e-9)


def test_mixed_answer_set_worked_by_hand():
    scored = instruments.score("sf36", frame(MIXED)).iloc[0]
    for scale, expected in MIXED_SCALES.items():
        assert scored[scale] == pytest.approx(expected, abs=1e-12), scale
    # z (1998 norms): pf (75 - 83.29094) / 23.75883 = -0.34896, rp -0.29426, bp -0.16166,
    # gh -0.27866, vt 0.58373, sf -0.40588, re -2.52190, mh 0.28233;
    # sum(z x PCS coef) = 0.069720, sum(z x MCS coef) = -0.792584
    pcs, mcs = summary_by_hand(MIXED_SCALES, MEAN_1998, SD_1998)
    assert pcs == pytest.approx(50.6972, abs=1e-4)
    assert mcs == pytest.approx(42.0742, abs=1e-4)
    assert scored["pcs"] == pytest.approx(pcs, abs=1e-9)
    assert scored["mcs"] == pytest.approx(mcs, abs=1e-9)


def test_1990_norms_are_selectable_and_named():
    scored = instruments.score("sf36", frame(MIXED), norms="us1990").iloc[0]
    pcs, mcs = summary_by_hand(MIXED_SCALES, MEAN_1990, SD_1990)
    assert scored["pcs"] == pytest.approx(pcs, abs=1e-9)
    assert scored["mcs"] == pytest.approx(mcs, abs=1e-9)
    assert "1990 US norms" in instruments.outcomes("sf36", norms="us1990")["algorithm"].iloc[0]
    assert (
        instruments.outcomes("sf36")["algorithm"]
        .iloc[0]
        .startswith("RAND-36 1.0; PCS/MCS 1998 US norms")
    )


def test_pcs_and_mcs_are_50_when_every_scale_sits_at_the_norm_mean():
    for norms, means in (("us1998", MEAN_1998), ("us1990", MEAN_1990)):
        scales = pd.DataFrame([means])
        summary = SF36.summaries(scales, {"norms": norms, "algorithm": "rand36"})
        assert summary.loc[0, "pcs"] == pytest.approx(50.0, abs=1e-12)
        assert summary.loc[0, "mcs"] == pytest.approx(50.0, abs=1e-12)
    # one SD above the mean on PF alone moves PCS by 10 x 0.42402 and MCS by 10 x -0.22999
    shifted = dict(MEAN_1998, pf=MEAN_1998["pf"] + SD_1998["pf"])
    summary = SF36.summaries(pd.DataFrame([shifted]), {"norms": "us1998", "algorithm": "rand36"})
    assert summary.loc[0, "pcs"] == pytest.approx(54.2402, abs=1e-9)
    assert summary.loc[0, "mcs"] == pytest.approx(47.7001, abs=1e-9)


def test_half_scale_missing_rule_at_its_boundary():
    # PF has 10 items: 5 answered is scored, 4 answered is not
    five = {**MIXED, **dict.fromkeys(range(3, 8))}  # items 8-12 left: 2,2,3,3,3
    four = {**MIXED, **dict.fromkeys(range(3, 9))}  # items 9-12 left: 2,3,3,3
    # GH has 5 items: 3 answered is scored (ceil(5/2)), 2 is not
    gh3 = {**MIXED, 1: None, 33: None}  # 34, 35, 36 -> 75, 50, 75
    gh2 = {**MIXED, 1: None, 33: None, 34: None}
    # RE has 3 items: 2 answered scored, 1 not; BP has 2 items: 1 answered scored
    re2 = {**MIXED, 17: None}  # 18, 19 -> 0, 100
    re1 = {**MIXED, 17: None, 18: None}
    bp1 = {**MIXED, 21: None}  # 22 -> 75
    bp0 = {**MIXED, 21: None, 22: None}
    s = instruments.score("sf36", frame(five, four, gh3, gh2, re2, re1, bp1, bp0))
    assert s.loc[0, "pf"] == pytest.approx((50 + 50 + 100 + 100 + 100) / 5)  # 80
    assert math.isnan(s.loc[1, "pf"])
    assert s.loc[2, "gh"] == pytest.approx((75 + 50 + 75) / 3)
    assert math.isnan(s.loc[3, "gh"])
    assert s.loc[4, "re"] == pytest.approx(50.0)
    assert math.isnan(s.loc[5, "re"])
    assert s.loc[6, "bp"] == pytest.approx(75.0)
    assert math.isnan(s.loc[7, "bp"])
    # a summary score needs all eight scales
    assert s.loc[[1, 3, 5, 7], ["pcs", "mcs"]].isna().all().all()
    assert s.loc[[0, 2, 4, 6], ["pcs", "mcs"]].notna().all().all()


def test_reverse_keyed_items_run_the_other_way():
    # item 24 (nervous): position 1 = "all of the time" -> 0, position 6 -> 100;
    # item 26 (calm and peaceful): position 1 = "all of the time" -> 100, position 6 -> 0
    base = dict.fromkeys(range(1, 37))
    a = {**base, 24: 1, 26: 1, 25: 6}  # MH from 0, 100, 100
    b = {**base, 24: 6, 26: 6, 25: 6}  # MH from 100, 0, 100
    s = instruments.score("sf36", frame(a, b))
    assert s.loc[0, "mh"] == pytest.approx(200 / 3)
    assert s.loc[1, "mh"] == pytest.approx(200 / 3)
    c = {**base, 24: 1, 26: 6, 25: 1}  # 0, 0, 0
    assert instruments.score("sf36", frame(c)).loc[0, "mh"] == 0.0
    better = instruments.items("sf36").set_index("column")["better"]
    assert better["q24"] == "high" and better["q26"] == "low" and better["q3"] == "high"


def test_qualitymetric_variant_pain_and_general_health():
    s = instruments.score("sf36", frame(MIXED), algorithm="qualitymetric").iloc[0]
    # BP: item 21 = 3 -> 4.2; item 22 = 2 with item 21 answered -> 4; raw 8.2
    assert s["bp"] == pytest.approx((8.2 - 2) / 10 * 100)  # 62
    # GH: item1 3 -> 3.4; item33 4; item34 6-2 = 4; item35 3; item36 6-2 = 4; raw 18.4
    assert s["gh"] == pytest.approx((18.4 - 5) / 20 * 100)  # 67
    # the other six scales are the RAND-36 values
    for scale in ("pf", "rp", "vt", "sf", "re", "mh"):
        assert s[scale] == pytest.approx(MIXED_SCALES[scale])
    assert (
        "QualityMetric"
        in instruments.outcomes("sf36", algorithm="qualitymetric")["algorithm"].iloc[0]
    )


@pytest.mark.parametrize(
    ("q21", "q22", "expected"),
    [
        (1, 1, (6 + 6 - 2) / 10 * 100),  # item 22 = 1 scores 6 when item 21 = 1
        (2, 1, (5.4 + 5 - 2) / 10 * 100),  # ... and 5 otherwise: 84
        (6, 5, (1 + 1 - 2) / 10 * 100),  # worst: 0
        (None, 1, (6 + 6 - 2) / 10 * 100),  # item 21 missing: item 22 = 1 -> 6, doubled
        (None, 2, (4.75 + 4.75 - 2) / 10 * 100),  # 75
        (None, 4, (2.25 + 2.25 - 2) / 10 * 100),  # 25
        (3, None, (4.2 + 4.2 - 2) / 10 * 100),  # item 22 missing: item 21 doubled: 64
        (None, None, math.nan),
    ],
)
def test_qualitymetric_item_22_depends_on_item_21(q21, q22, expected):
    s = instruments.score("sf36", frame({**MIXED, 21: q21, 22: q22}), algorithm="qualitymetric")
    if math.isnan(expected):
        assert math.isnan(s.loc[0, "bp"])
    else:
        assert s.loc[0, "bp"] == pytest.approx(expected)


def test_answers_outside_the_allowed_responses_are_errors_naming_file_row_column():
    bad = frame(MIXED, MIXED)
    bad["q3"] = bad["q3"].astype(object)
    bad.loc[1, "q3"] = 4  # PF items have 3 options
    bad.loc[0, "q21"] = 7  # BP item 21 has 6 options
    bad["source_file"] = "data/raw/s/sf36.csv"
    bad["source_row"] = [2, 3]
    with pytest.raises(InputError) as error:
        instruments.score("sf36", bad)
    problems = {(p.file, p.row, p.column, p.value) for p in error.value.problems}
    assert problems == {("data/raw/s/sf36.csv", 2, "q21", 7), ("data/raw/s/sf36.csv", 3, "q3", 4)}
    message = str(error.value)
    assert "one of 1, 2, 3" in message and "one of 1, 2, 3, 4, 5, 6" in message


def test_blank_is_missing_not_an_error():
    answers = frame({**MIXED, 5: None})
    answers["q5"] = answers["q5"].astype(object)
    answers.loc[0, "q5"] = "  "
    assert instruments.check_items("sf36", answers) == []
    # PF without item 5 (recoded 100): 650 / 9
    assert instruments.score("sf36", answers).loc[0, "pf"] == pytest.approx(650 / 9)


def test_scores_keep_ids_and_index():
    answers = frame(BEST, WORST, MIXED)
    answers.index = [10, 11, 12]
    scored = instruments.score("sf36", answers)
    assert list(scored.index) == [10, 11, 12]
    assert scored["participant_id"].tolist() == ["P00", "P01", "P02"]
    assert np.all(scored["visit"] == "baseline")
