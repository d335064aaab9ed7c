"""The seeded simulator of the default cohorts: reproducibility, design, ranges, findings.

The findings are checked with simple computations written here (item positions, paired
differences), independent of the scoring package.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trialflow import instruments
from trialflow.instruments._base import load_definition
from trialflow.simulate import STUDIES, simulate_study, write_study
from trialflow.simulate.__main__ import main

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
OPTIONS = {"hads": {"coding": "score"}}


@pytest.fixture(scope="module")
def spine():
    return simulate_study("spine_rct")


@pytest.fixture(scope="module")
def knee():
    return simulate_study("knee_sarcopenia")


def wide(frame, column, visits):
    """Participant x visit table of one column."""
    table = frame.pivot(index="participant_id", columns="visit", values=column)
    return table.reindex(columns=list(visits)).astype(float)


def change(frame, column, roster, later="week8", earlier="baseline"):
    """Per-participant change with the arm, completers only."""
    table = wide(frame, column, [earlier, later])
    out = (table[later] - table[earlier]).dropna().rename("change").to_frame()
    return out.join(roster.set_index("participant_id")["arm"])


def healthy_fraction(frame, name, scale=None):
    """Crude 0-1 score: mean position of the answers on each item's healthy-ward scale.

    Uses the first score name of each item (its own scale), or every item when ``scale`` is
    None; "not applicable" codes are ignored.
    """
    table = instruments.items(name, **OPTIONS.get(name, {}))
    not_applicable = {
        f"q{k}": v["not_applicable"]
        for k, v in (load_definition(name).get("items") or {}).items()
        if isinstance(v, dict) and "not_applicable" in v
    }
    parts = []
    for item in table.itertuples():
        if scale is not None and (not item.scales or item.scales[0] != scale):
            continue
        options = [r for r in item.responses if r != not_applicable.get(item.column)]
        if item.better == "low":
            options = options[::-1]
        position = frame[item.column].map(
            {r: i / (len(options) - 1) for i, r in enumerate(options)}
        )
        parts.append(position.astype(float))
    score = pd.concat(parts, axis=1).mean(axis=1)
    return frame[["participant_id", "visit"]].assign(score=score)


# --- reproducibility -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(STUDIES))
def test_same_seed_gives_identical_frames(name):
    first, second = simulate_study(name, seed=7, n=60), simulate_study(name, seed=7, n=60)
    assert list(first) == list(second)
    for key in first:
        pd.testing.assert_frame_equal(first[key], second[key])
    other = simulate_study(name, seed=8, n=60)
    assert not first["participants"].equals(other["participants"])


@pytest.mark.parametrize("name", sorted(STUDIES))
def test_committed_files_equal_a_fresh_run(name, tmp_path):
    written = write_study(name, simulate_study(name), tmp_path)
    committed = sorted(p.relative_to(RAW / name) for p in (RAW / name).rglob("*.csv"))
    assert sorted(p.relative_to(tmp_path) for p in written) == committed
    for relative in committed:
        assert (tmp_path / relative).read_bytes() == (RAW / name / relative).read_bytes(), relative


def test_cli_writes_both_studies(tmp_path):
    assert main(["--all", "--n", "12", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "spine_rct" / "sf36.csv").is_file()
    tug = sorted((tmp_path / "knee_sarcopenia" / "tug").glob("*.csv"))
    assert [p.name for p in tug] == [f"K{i:04d}.csv" for i in range(1, 13)]
    text = tug[0].read_bytes()
    assert text.startswith(b"participant_id,visit,time_s\nK0001,baseline,") and b"\r" not in text
    # a smaller re-run must not leave stale per-participant files behind
    knee_out = str(tmp_path / "knee_sarcopenia")
    assert main(["--study", "knee_sarcopenia", "--n", "5", "--out", knee_out]) == 0
    assert len(list((tmp_path / "knee_sarcopenia" / "tug").glob("*.csv"))) == 5


def test_bad_requests_are_refused():
    with pytest.raises(ValueError, match="unknown study"):
        simulate_study("hip_rct")
    with pytest.raises(ValueError, match="at least 2"):
        simulate_study("spine_rct", n=1)
    with pytest.raises(SystemExit):
        main(["--study", "spine_rct", "--n", "1"])


# --- design ----------------------------------------------------------------------------------


def test_spine_design(spine):
    roster = spine["participants"]
    assert list(roster["participant_id"]) == [f"S{i:03d}" for i in range(1, 42)]
    assert roster["arm"].value_counts().to_dict() == {"exercise": 21, "control": 20}
    assert set(roster["sex"]) == {"F"} and set(roster["ethnicity"]) == {"caucasian"}
    assert roster["age"].between(45, 65).all() and (roster["t_score"] <= -2.5).all()
    assert (roster["years_since_menopause"] >= 1).all()
    lost = roster[roster["last_visit"] == "baseline"]
    assert lost["arm"].value_counts().to_dict() == {"exercise": 1, "control": 1}
    assert (lost["withdrawal_reason"] != "").all()
    assert (roster.loc[roster["last_visit"] == "week8", "withdrawal_reason"] == "").all()
    for name in STUDIES["spine_rct"].instruments:
        frame = spine[name]
        assert frame.groupby("visit").size().to_dict() == {"baseline": 41, "week8": 39}, name
        later = frame.loc[frame["visit"] == "week8", "participant_id"]
        assert not later.isin(lost["participant_id"]).any(), name


def test_knee_design(knee):
    roster = knee["participants"]
    assert list(roster["participant_id"]) == [f"K{i:04d}" for i in range(1, 376)]
    assert set(roster["arm"]) == {"training"} and set(roster["ethnicity"]) == {"ne_asian"}
    assert roster["age"].between(60, 80).all() and (roster["sex"] == "F").mean() > 0.8
    assert set(roster["last_visit"]) == {"week24"} and set(roster["withdrawal_reason"]) == {""}
    for name in STUDIES["knee_sarcopenia"].instruments:
        counts = knee[name].groupby("visit").size().to_dict()
        assert counts == {"baseline": 375, "week12": 375, "week24": 375}, name
        assert knee[name]["participant_id"].is_monotonic_increasing


def test_n_override_keeps_the_design():
    spine = simulate_study("spine_rct", n=2000)
    roster = spine["participants"]
    assert roster["arm"].value_counts().to_dict() == {"exercise": 1000, "control": 1000}
    assert (roster["last_visit"] == "baseline").groupby(roster["arm"]).sum().to_dict() == {
        "control": 50,
        "exercise": 50,
    }
    assert roster["participant_id"].iloc[-1] == "S2000"
    assert len(simulate_study("knee_sarcopenia", n=20)["tug"]) == 60


# --- allowed values and plausible ranges ---------------------------------------------------


@pytest.mark.parametrize("study", sorted(STUDIES))
def test_values_are_allowed_answers(study, spine, knee):
    frames = spine if study == "spine_rct" else knee
    for name in STUDIES[study].instruments:
        frame, table = frames[name], instruments.items(name, **OPTIONS.get(name, {}))
        assert list(frame.columns) == ["participant_id", "visit", *table["column"]], name
        assert not frame.duplicated(["participant_id", "visit"]).any()
        for item in table.itertuples():
            values = frame[item.column].dropna()
            if item.kind == "categorical":
                assert values.isin(item.responses).all(), (name, item.column)
            else:
                assert values.between(item.min, item.max).all(), (name, item.column)
        blank = frame[list(table["column"])].isna().to_numpy().mean()
        assert blank < 0.01, name


def test_some_questionnaire_answers_are_blank(spine, knee):
    for frame in (spine["qualeffo41"], spine["sf36"], knee["hads"]):
        assert 1 <= int(frame.drop(columns=["participant_id", "visit"]).isna().sum().sum()) <= 30


def baseline_mean(frame, column):
    return frame.loc[frame["visit"] == "baseline", column].mean()


def test_spine_values_are_plausible(spine):
    roster = spine["participants"]
    assert 150 < roster["height_cm"].mean() < 163 and 55 < roster["weight_kg"].mean() < 75
    assert 80 < baseline_mean(spine["back_extensor"], "peak_torque_nm") < 120
    assert 40 < baseline_mean(spine["loaded_standing"], "time_s") < 120
    assert 35 < baseline_mean(spine["spinal_mobility"], "flexion_deg") < 70
    lungs = spine["spirometry"]
    assert 2.0 < baseline_mean(lungs, "fev1_l") < 2.6
    assert 2.4 < baseline_mean(lungs, "fvc_l") < 3.2
    assert (lungs["fev1_l"] < lungs["fvc_l"]).all()
    assert 0.65 < (lungs["fev1_l"] / lungs["fvc_l"]).mean() < 0.9
    assert lungs["fev1_l"].corr(lungs["fvc_l"]) > 0.8
    assert 50 < baseline_mean(lungs, "mip_cmh2o") < 80
    # a participant random effect: strong correlation between visits
    torque = wide(spine["back_extensor"], "peak_torque_nm", ["baseline", "week8"]).dropna()
    assert torque["baseline"].corr(torque["week8"]) > 0.7


def test_knee_values_are_plausible(knee):
    assert 9 < baseline_mean(knee["tug"], "time_s") < 12
    assert 6 < baseline_mean(knee["gait_speed"], "time_6m_s") < 8
    assert 60 < baseline_mean(knee["quadriceps"], "peak_torque_nm") < 90
    assert 45 < baseline_mean(knee["quadriceps"], "csa_cm2") < 55
    assert 110 < baseline_mean(knee["knee_rom"], "rom_deg") < 125
    assert 4 < baseline_mean(knee["proprioception"], "error_deg") < 7
    assert 4 < baseline_mean(knee["vas_pain"], "vas") < 6
    hads = knee["hads"]
    anxiety = hads[[f"q{i}" for i in range(1, 15, 2)]].sum(axis=1, min_count=7)
    assert 7 < anxiety[hads["visit"] == "baseline"].mean() < 9
    assert (knee["hss"]["rom_arc_deg"] == knee["knee_rom"]["rom_deg"].round()).all()
    assert knee["tug"]["time_s"].corr(knee["gait_speed"]["time_6m_s"]) > 0.4


# --- built-in findings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "column", "margin"),
    [
        ("back_extensor", "peak_torque_nm", 8.0),
        ("loaded_standing", "time_s", 10.0),
        ("spirometry", "vc_l", 0.08),
        ("spirometry", "fvc_l", 0.08),
        ("spirometry", "fev1_l", 0.06),
        ("spirometry", "fef25_75_l_s", 0.2),
        ("spirometry", "mip_cmh2o", 6.0),
    ],
)
def test_spine_exercise_improves_physical_measures(spine, name, column, margin):
    delta = change(spine[name], column, spine["participants"])
    exercise, control = (delta.loc[delta["arm"] == a, "change"] for a in ("exercise", "control"))
    assert exercise.mean() - control.mean() > margin
    assert stats.ttest_ind(exercise, control, equal_var=False).pvalue < 0.05
    assert abs(control.mean()) < margin


@pytest.mark.parametrize("column", ["flexion_deg", "extension_deg"])
def test_spine_mobility_does_not_change(spine, column):
    delta = change(spine["spinal_mobility"], column, spine["participants"])
    for _, arm in delta.groupby("arm"):
        assert abs(arm["change"].mean()) < 2.0
        assert abs(stats.ttest_1samp(arm["change"], 0).statistic) < 2.5


@pytest.mark.parametrize(
    ("name", "scale"),
    [
        ("qualeffo41", "physical_function"),
        ("qualeffo41", "mental_function"),
        ("qualeffo41", None),
        ("sf36", "pf"),
        ("sf36", "vt"),
        ("sf36", "mh"),
    ],
)
def test_spine_exercise_improves_quality_of_life(spine, name, scale):
    scores = healthy_fraction(spine[name], name, scale)
    delta = change(scores, "score", spine["participants"])
    exercise, control = (delta.loc[delta["arm"] == a, "change"] for a in ("exercise", "control"))
    # on the healthy-ward 0-1 scale: QUALEFFO-41 scores fall, SF-36 scores rise
    assert exercise.mean() - control.mean() > 0.05
    assert stats.ttest_ind(exercise, control, equal_var=False).pvalue < 0.05
    assert abs(control.mean()) < 0.05


@pytest.mark.parametrize(
    ("name", "column", "sign", "margin"),
    [
        ("knee_rom", "rom_deg", 1, 5.0),
        ("proprioception", "error_deg", -1, 1.0),
        ("quadriceps", "peak_torque_nm", 1, 8.0),
        ("vas_pain", "vas", -1, 1.5),
        ("tug", "time_s", -1, 1.0),
        ("gait_speed", "time_6m_s", -1, 0.5),
    ],
)
def test_knee_training_effects_are_maintained(knee, name, column, sign, margin):
    table = wide(knee[name], column, STUDIES["knee_sarcopenia"].visits)
    gain = sign * (table["week12"] - table["baseline"])
    assert gain.mean() > margin and stats.ttest_1samp(gain, 0).pvalue < 0.01
    kept = table["week24"] - table["week12"]
    assert abs(kept.mean()) < 0.15 * gain.mean()
    assert abs(stats.ttest_1samp(kept, 0).statistic) < 2.5


def test_knee_csa_does_not_change(knee):
    table = wide(knee["quadriceps"], "csa_cm2", STUDIES["knee_sarcopenia"].visits)
    for visit in ("week12", "week24"):
        assert abs((table[visit] - table["baseline"]).mean()) < 0.5


def test_knee_hss_improves(knee):
    hss = knee["hss"]
    points = {"none": 15, "mild": 10, "moderate": 5, "severe": 0}
    pain = hss["pain_walking"].map(points) + hss["pain_rest"].map(points)
    strength = hss["muscle_strength"].map(
        {"cannot_break": 10, "can_break": 8, "moves_through_arc": 4, "cannot_move": 0}
    )
    crude = hss[["participant_id", "visit"]].assign(
        score=pain + strength + np.minimum(hss["rom_arc_deg"] // 8, 18)
    )
    table = wide(crude, "score", STUDIES["knee_sarcopenia"].visits)
    assert (table["week12"] - table["baseline"]).mean() > 4
    assert abs((table["week24"] - table["week12"]).mean()) < 1


@pytest.mark.parametrize(
    "items", [range(1, 15, 2), range(2, 15, 2)], ids=["anxiety", "depression"]
)
def test_knee_hads_falls_twice(knee, items):
    hads = knee["hads"]
    total = hads[["participant_id", "visit"]].assign(
        score=hads[[f"q{i}" for i in items]].astype(float).sum(axis=1, min_count=7)
    )
    table = wide(total, "score", STUDIES["knee_sarcopenia"].visits)
    first, second = table["week12"] - table["baseline"], table["week24"] - table["week12"]
    assert first.mean() < -1.0 and stats.ttest_1samp(first.dropna(), 0).pvalue < 0.01
    assert second.mean() < -0.5 and stats.ttest_1samp(second.dropna(), 0).pvalue < 0.01
