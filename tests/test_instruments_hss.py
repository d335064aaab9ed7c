"""HSS knee score checked against examples worked by hand from the published table."""

import math

import pandas as pd
import pytest

from trialflow import instruments
from trialflow.errors import InputError

BEST = {
    "pain_walking": "none", "pain_rest": "none", "walking": "unlimited", "stairs": "unaided",
    "transfers": "unaided", "rom_arc_deg": 150.0, "muscle_strength": "cannot_break",
    "flexion_deformity_deg": 0.0, "instability_deg": 0.0, "extension_lag_deg": 0.0,
    "varus_deg": 0.0, "valgus_deg": 0.0, "walking_aid": "none",
}  # fmt: skip
WORST = {
    "pain_walking": "severe", "pain_rest": "severe", "walking": "cannot_walk",
    "stairs": "support", "transfers": "support", "rom_arc_deg": 0.0,
    "muscle_strength": "cannot_move", "flexion_deformity_deg": 30.0, "instability_deg": 20.0,
    "extension_lag_deg": 20.0, "varus_deg": 10.0, "valgus_deg": 0.0,
    "walking_aid": "two_crutches",
}  # fmt: skip
MIXED = {
    "pain_walking": "mild",  # 10
    "pain_rest": "none",  # 15  -> pain 25
    "walking": "1_5_blocks",  # 8
    "stairs": "support",  # 2
    "transfers": "unaided",  # 5  -> function 15
    "rom_arc_deg": 100.0,  # floor(100 / 8) = 12
    "muscle_strength": "can_break",  # 8
    "flexion_deformity_deg": 7.0,  # 5-10 deg: 5 (bands none/<5/5-10/>10) or 8 (<5/5-10/10-20/>20)
    "instability_deg": 3.0,  # 0-5 deg: 8
    "extension_lag_deg": 10.0,  # -3
    "varus_deg": 7.0,  # floor(7 / 5) = -1
    "valgus_deg": 4.0,  # floor(4 / 5) = 0
    "walking_aid": "cane",  # -1  -> subtractions 5
}


def frame(*answer_sets):
    return pd.DataFrame(
        [{"participant_id": f"P{i}", "visit": "week26", **a} for i, a in enumerate(answer_sets)]
    )


def test_best_and_worst_give_100_and_0():
    s = instruments.score("hss", frame(BEST, WORST))
    # best: 30 + 22 + min(floor(150/8) = 18, 18) + 10 + 10 + 10 = 100
    assert s.loc[0, "total"] == 100.0 and s.loc[0, "grade"] == "excellent"
    # worst: 0 + 4 (2 + 2) + 0 + 0 + 0 + 0 - (3 + 5 + 2 + 0) = -6, floored at 0
    assert s.loc[1, "function"] == 4.0 and s.loc[1, "subtractions"] == 10.0
    assert s.loc[1, "total"] == 0.0 and s.loc[1, "grade"] == "poor"


def test_mixed_case_with_both_flexion_band_versions():
    a = instruments.score("hss", frame(MIXED)).iloc[0]
    assert a[["pain", "function", "rom", "muscle_strength", "flexion_deformity", "instability", "subtractions"]].tolist() == [25, 15, 12, 8, 5, 8, 5]  # fmt: skip
    assert a["total"] == 68.0  # 25 + 15 + 12 + 8 + 5 + 8 - 5
    assert a["grade"] == "fair"
    b = instruments.score("hss", frame(MIXED), flexion_bands="5_10_20").iloc[0]
    assert b["flexion_deformity"] == 8.0
    assert b["total"] == 71.0  # 25 + 15 + 12 + 8 + 8 + 8 - 5
    assert b["grade"] == "good"
    assert "5-10-20" not in instruments.outcomes("hss")["algorithm"].iloc[0]
    assert "<5/5-10/10-20/>20" in instruments.outcomes("hss", flexion_bands="5_10_20")["algorithm"].iloc[0]  # fmt: skip


@pytest.mark.parametrize(
    ("bands", "degrees", "points"),
    [
        ("none_5_10", 0, 10), ("none_5_10", 4.9, 8), ("none_5_10", 5, 5),
        ("none_5_10", 10, 5), ("none_5_10", 10.5, 0),
        ("5_10_20", 4.9, 10), ("5_10_20", 5, 8), ("5_10_20", 10, 8),
        ("5_10_20", 15, 5), ("5_10_20", 20, 5), ("5_10_20", 21, 0),
    ],
)  # fmt: skip
def test_flexion_deformity_band_boundaries(bands, degrees, points):
    s = instruments.score(
        "hss", frame({**BEST, "flexion_deformity_deg": degrees}), flexion_bands=bands
    )
    assert s.loc[0, "flexion_deformity"] == points


@pytest.mark.parametrize(
    ("column", "degrees", "component", "points"),
    [
        ("instability_deg", 5, "instability", 8), ("instability_deg", 5.5, "instability", 5),
        ("instability_deg", 15, "instability", 5), ("instability_deg", 16, "instability", 0),
        ("extension_lag_deg", 4, "subtractions", 0), ("extension_lag_deg", 5, "subtractions", 2),
        ("extension_lag_deg", 9, "subtractions", 2), ("extension_lag_deg", 10, "subtractions", 3),
        ("extension_lag_deg", 15, "subtractions", 5), ("varus_deg", 9.9, "subtractions", 1),
        ("valgus_deg", 10, "subtractions", 2), ("rom_arc_deg", 15, "rom", 1),
        ("rom_arc_deg", 16, "rom", 2), ("rom_arc_deg", 143, "rom", 17),
    ],
)  # fmt: skip
def test_numeric_bands(column, degrees, component, points):
    s = instruments.score("hss", frame({**BEST, column: degrees}))
    assert s.loc[0, component] == points


@pytest.mark.parametrize(("total", "grade"), [(85, "excellent"), (84, "good"), (70, "good"), (69, "fair"), (60, "fair"), (59, "poor")])  # fmt: skip
def test_grade_boundaries(total, grade):
    # from 100, severe pain walking and at rest takes off 15 + 15; varus takes 1 point
    # per 5 degrees (at most 90 degrees accepted)
    answers = dict(BEST)
    if total <= 70:
        answers.update(pain_walking="severe", pain_rest="severe", varus_deg=5.0 * (70 - total))
    else:
        answers.update(varus_deg=5.0 * (100 - total))
    s = instruments.score("hss", frame(answers))
    assert s.loc[0, "total"] == total and s.loc[0, "grade"] == grade


def test_missing_component_leaves_total_missing():
    s = instruments.score("hss", frame({**MIXED, "stairs": None})).iloc[0]
    assert math.isnan(s["function"]) and math.isnan(s["total"]) and pd.isna(s["grade"])
    assert s["pain"] == 25.0


def test_unknown_category_is_an_error():
    with pytest.raises(InputError) as error:
        instruments.score("hss", frame({**MIXED, "pain_rest": "very severe", "rom_arc_deg": -5}))
    found = {(p.column, p.value) for p in error.value.problems}
    assert found == {("pain_rest", "very severe"), ("rom_arc_deg", -5.0)}
