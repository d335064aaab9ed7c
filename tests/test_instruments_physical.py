"""Physical measures and the generic ``measures`` type."""

import math

import pandas as pd
import pytest

from trialflow import instruments
from trialflow.errors import InputError


def test_gait_speed_is_six_metres_over_the_time():
    s = instruments.score("gait_speed", pd.DataFrame({"time_6m_s": [6.0, 7.5, None]}))
    assert s["speed"].tolist()[:2] == [1.0, 0.8]  # 6 / 6, 6 / 7.5
    assert math.isnan(s.loc[2, "speed"])
    assert s["time"].tolist()[:2] == [6.0, 7.5]
    meta = instruments.outcomes("gait_speed").set_index("score")
    assert meta.loc["speed", "unit"] == "m/s" and meta.loc["speed", "higher_is_better"]
    assert not meta.loc["time", "higher_is_better"]


def test_back_extensor_torque_per_kg_uses_the_roster_weight():
    items = pd.DataFrame({"peak_torque_nm": [140.0, 90.0], "weight_kg": [70.0, 60.0]})
    s = instruments.score("back_extensor", items)
    assert s["peak_torque"].tolist() == [140.0, 90.0]
    assert s["peak_torque_per_kg"].tolist() == [2.0, 1.5]  # 140 / 70, 90 / 60
    assert instruments.roster_columns("back_extensor") == ("weight_kg",)
    with pytest.raises(InputError, match="weight_kg"):
        instruments.score("back_extensor", items.drop(columns="weight_kg"))


@pytest.mark.parametrize(
    ("name", "column", "score", "unit", "higher_is_better"),
    [
        ("loaded_standing", "time_s", "time", "s", True),
        ("spinal_mobility", "flexion_deg", "flexion", "degrees", True),
        ("spinal_mobility", "extension_deg", "extension", "degrees", True),
        ("knee_rom", "rom_deg", "rom", "degrees", True),
        ("proprioception", "error_deg", "error", "degrees", False),
        ("quadriceps", "peak_torque_nm", "peak_torque", "Nm", True),
        ("quadriceps", "csa_cm2", "csa", "cm2", True),
        ("vas_pain", "vas", "vas", "0-10", False),
        ("tug", "time_s", "time", "s", False),
    ],
)
def test_measures_pass_through_with_their_unit_and_direction(name, column, score, unit, higher_is_better):  # fmt: skip
    table = instruments.items(name)
    items = pd.DataFrame({c: [5.5] for c in table["column"]})
    scored = instruments.score(name, items)
    assert scored.loc[0, score] == 5.5
    meta = instruments.outcomes(name).set_index("score")
    assert meta.loc[score, "unit"] == unit
    assert bool(meta.loc[score, "higher_is_better"]) is higher_is_better
    better = table.set_index("column").at[column, "better"]
    assert better == ("high" if higher_is_better else "low")


def test_vas_outside_0_10_is_an_error():
    with pytest.raises(InputError) as error:
        instruments.score("vas_pain", pd.DataFrame({"vas": [3.0, 10.5, "x"]}))
    assert [(p.row, p.value) for p in error.value.problems] == [(3, 10.5), (4, "x")]


def test_declared_measures_from_config():
    declared = {
        "grip_kg": {
            "label": "Grip strength",
            "unit": "kg",
            "higher_is_better": True,
            "min": 0,
            "max": 100,
        },  # fmt: skip
        "falls": {"label": "Falls", "unit": "count", "higher_is_better": False},
    }
    table = instruments.items("measures", measures=declared).set_index("column")
    assert table.loc["grip_kg", "max"] == 100 and math.isnan(table.loc["falls", "max"])
    scored = instruments.score("measures", pd.DataFrame({"grip_kg": [31.5], "falls": [2]}), measures=declared)  # fmt: skip
    assert scored.loc[0, ["grip_kg", "falls"]].tolist() == [31.5, 2.0]
    meta = instruments.outcomes("measures", measures=declared).set_index("score")
    assert meta.loc["falls", "label"] == "Falls" and not meta.loc["falls", "higher_is_better"]
    with pytest.raises(InputError):
        instruments.score("measures", pd.DataFrame({"grip_kg": [131.0], "falls": [0]}), measures=declared)  # fmt: skip
    with pytest.raises(ValueError, match="measures"):
        instruments.items("measures")
