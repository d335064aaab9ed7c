"""Simulated ``knee_sarcopenia``: one-arm resistance training in osteoporosis with sarcopenia.

Shaped like Zhou et al., Chin J Tissue Eng Res 2026;30(5):1081-1088 (375 patients, 12 weeks of
training, follow-up 12 weeks after it stopped; all completed). Built-in findings: at week 12
knee range of motion, quadriceps strength, HSS and gait speed rise, TUG time, proprioception
error and VAS pain fall, and week 24 equals week 12 on average; quadriceps cross-sectional
area does not change; HADS anxiety and depression fall at week 12 and again at week 24.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trialflow.adverse_events import ADVERSE_EVENT_COLUMNS
from trialflow.simulate._core import (
    Cohort,
    Outcome,
    latent_cohort,
    participant_ids,
    simulate_outcomes,
    stream,
)
from trialflow.simulate._items import questionnaire

STUDY = "knee_sarcopenia"
DEFAULT_SEED = 20260105
DEFAULT_N = 375
ARMS = ("training",)
VISITS = ("baseline", "week12", "week24")
INSTRUMENTS = (
    "knee_rom",
    "proprioception",
    "quadriceps",
    "vas_pain",
    "hss",
    "tug",
    "gait_speed",
    "hads",
)
# Instruments written as a directory of one CSV per participant (as devices export them).
DIRECTORIES = ("tug",)
DECIMALS = {
    "participants": {"age": 0, "height_cm": 1, "weight_kg": 1},
    "knee_rom": {"rom_deg": 1},
    "proprioception": {"error_deg": 1},
    "quadriceps": {"peak_torque_nm": 1, "csa_cm2": 1},
    "vas_pain": {"vas": 1},
    "tug": {"time_s": 2},
    "gait_speed": {"time_6m_s": 2},
}
# HSS measurements in whole degrees (goniometer)
HSS_DEGREES = (
    "rom_arc_deg",
    "flexion_deformity_deg",
    "instability_deg",
    "extension_lag_deg",
    "varus_deg",
    "valgus_deg",
)
REFERENCE_AGE = 70.0
SHARE_MEN = 0.12


def _trained(week12: float, week24: float | None = None) -> dict[str, dict[str, float]]:
    """Change from baseline; by default kept at week 24 (the study found no loss)."""
    return {"training": {"week12": week12, "week24": week12 if week24 is None else week24}}


# Working-scale parameters (see trialflow.simulate._core.Outcome). n = 375, so every built-in
# change is overwhelming; "maintained" means week24 has the very same expected value.
MEASURES = {
    "knee_rom": (
        Outcome(
            "rom_deg", 116.0, 8.0, 3.0, _trained(8.0),
            loading=0.3, lower=60.0, upper=150.0, age_slope=-0.2,
        ),
    ),
    "proprioception": (
        # absolute joint-position error, right-skewed
        Outcome(
            "error_deg", 5.3, 0.25, 0.15, _trained(0.72), log=True,
            loading=-0.3, lower=0.5, upper=25.0, age_slope=0.01,
        ),
    ),
    "quadriceps": (
        Outcome(
            "peak_torque_nm", 72.0, 14.0, 5.0, _trained(12.0),
            loading=0.7, lower=15.0, upper=250.0, age_slope=-0.8, male=28.0,
        ),
        # MRI cross-sectional area: unchanged by 12 weeks of training (the study's finding)
        Outcome(
            "csa_cm2", 48.0, 5.5, 1.2,
            loading=0.55, lower=20.0, upper=110.0, age_slope=-0.2, male=12.0,
        ),
    ),
    "vas_pain": (
        Outcome("vas", 5.0, 1.3, 0.6, _trained(-2.0), loading=-0.3, lower=0.0, upper=10.0),
    ),
    "tug": (
        Outcome(
            "time_s", 10.8, 0.16, 0.06, _trained(0.84), log=True,
            loading=-0.75, decimals=2, lower=4.0, upper=60.0, age_slope=0.012, male=0.95,
        ),
    ),
    "gait_speed": (
        # 6 m at usual pace: 7.0 s is 0.86 m/s, about 0.11 m/s faster after training
        Outcome(
            "time_6m_s", 7.0, 0.14, 0.05, _trained(0.88), log=True,
            loading=-0.75, decimals=2, lower=2.5, upper=40.0, age_slope=0.01, male=0.95,
        ),
    ),
}  # fmt: skip

HADS_SCALES = {
    # location, spread (logit of the healthy fraction), effects: fall at 12 weeks, and again
    "anxiety": (0.3, 0.6, _trained(0.45, 0.75)),
    "depression": (0.35, 0.6, _trained(0.4, 0.7)),
}


def roster(seed: int, n: int) -> pd.DataFrame:
    """Participants: older Chinese patients, mostly women; everyone completed.

    Parameters
    ----------
    seed : int
    n : int

    Returns
    -------
    DataFrame
        ``participants.csv`` columns.
    """
    rng = stream(seed, STUDY, "roster")
    male = rng.random(n) < SHARE_MEN
    age = np.clip(np.round(rng.normal(REFERENCE_AGE, 5.2, n)), 60, 80)
    height = np.round(np.where(male, rng.normal(164.5, 6.0, n), rng.normal(153.0, 5.5, n)), 1)
    # sarcopenia: lean, BMI about 22
    bmi = np.clip(rng.normal(22.3, 2.9, n), 16.0, 32.0)
    return pd.DataFrame(
        {
            "participant_id": participant_ids("K", n, 4),
            "arm": "training",
            "age": age.astype(int),
            "sex": np.where(male, "M", "F").astype(object),
            "height_cm": height,
            "weight_kg": np.round(bmi * (height / 100) ** 2, 1),
            "ethnicity": "ne_asian",
            "last_visit": "week24",
            "withdrawal_reason": "",
        }
    )


def _bands(value: np.ndarray, cuts: list[tuple[float, str]], last: str) -> np.ndarray:
    """Label of the first band whose lower cut the value exceeds (cuts from the top)."""
    out = np.full(value.shape, last, dtype=object)
    for cut, label in reversed(cuts):
        out[value > cut] = label
    return out


def hss(cohort: Cohort, seed: int, values: dict[str, np.ndarray]) -> pd.DataFrame:
    """HSS knee score components consistent with the other knee measures.

    Pain grades follow VAS, walking, stairs, transfers and walking aid follow a function
    index from TUG and gait time, muscle strength follows quadriceps torque, the arc is the
    measured knee ROM; flexion deformity and extension lag ease as ROM and strength improve;
    instability and varus/valgus alignment are fixed traits of the knee.
    """
    rng = stream(seed, STUDY, "hss")
    n, t = cohort.n, len(cohort.visits)
    vas, rom, torque = values["vas"], values["rom_deg"], values["peak_torque_nm"]
    function = -0.5 * (
        (np.log(values["time_s"]) - np.log(10.8)) / 0.17
        + (np.log(values["time_6m_s"]) - np.log(7.0)) / 0.15
    )
    strength = (torque - 75.0) / 16.0

    def noise(sd: float) -> np.ndarray:
        return sd * rng.standard_normal((n, t))

    pain_grades = [(7.5, "severe"), (5.0, "moderate"), (2.5, "mild")]
    # grades ordered from the worst (highest VAS) down; below every cut is "none"
    pain_walking = np.full((n, t), "none", dtype=object)
    pain_rest = np.full((n, t), "none", dtype=object)
    walk_pain, rest_pain = vas + 0.8 + noise(0.9), vas - 2.2 + noise(0.9)
    for cut, label in reversed(pain_grades):
        pain_walking[walk_pain >= cut] = label
        pain_rest[rest_pain >= cut] = label
    walking = _bands(
        function + noise(0.6),
        [(0.9, "unlimited"), (-0.5, "5_10_blocks"), (-1.6, "1_5_blocks"), (-3.2, "lt_1_block")],
        "cannot_walk",
    )
    stairs = np.where(function + noise(0.7) > 0.2, "unaided", "support").astype(object)
    transfers = np.where(function + noise(0.7) > -0.8, "unaided", "support").astype(object)
    muscle = _bands(
        strength + noise(0.6),
        [(0.6, "cannot_break"), (-1.3, "can_break"), (-3.0, "moves_through_arc")],
        "cannot_move",
    )
    aid = _bands(
        function + noise(0.7), [(-1.0, "none"), (-2.2, "cane"), (-2.9, "crutch")], "two_crutches"
    )
    contracture = np.maximum(rng.normal(2.0, 4.0, n), 0.0)[:, None]
    flexion = np.clip(contracture - 0.3 * (rom - rom[:, :1]) + noise(1.0), 0, 30)
    unstable = rng.random(n) < 0.25
    laxity = np.where(unstable, rng.uniform(2.0, 10.0, n), 0.0)[:, None]
    instability = np.clip(laxity + unstable[:, None] * noise(1.0), 0, 25)
    lagging = rng.random(n) < 0.3
    lag0 = np.where(lagging, rng.gamma(3.0, 2.0, n), 0.0)[:, None]
    lag = np.clip(lag0 - 0.25 * (torque - torque[:, :1]) + lagging[:, None] * noise(1.0), 0, 30)
    alignment = rng.normal(1.5, 4.5, n)[:, None] * np.ones((1, t))  # + varus, - valgus
    columns = {
        "pain_walking": pain_walking,
        "pain_rest": pain_rest,
        "walking": walking,
        "stairs": stairs,
        "transfers": transfers,
        "rom_arc_deg": np.round(rom),
        "muscle_strength": muscle,
        "flexion_deformity_deg": np.round(flexion),
        "instability_deg": np.round(instability),
        "extension_lag_deg": np.round(lag),
        "varus_deg": np.round(np.maximum(alignment, 0.0)),
        "valgus_deg": np.round(np.maximum(-alignment, 0.0)),
        "walking_aid": aid,
    }
    frame = cohort.long(columns)
    for column in HSS_DEGREES:
        frame[column] = frame[column].astype(int).astype("Int64")
    return frame


def simulate(seed: int = DEFAULT_SEED, n: int | None = None) -> dict[str, pd.DataFrame]:
    """Simulate every file of the study.

    Parameters
    ----------
    seed : int
    n : int, optional
        Number of participants (default 375).

    Returns
    -------
    dict of str to DataFrame
        ``participants`` and one frame per instrument id (``tug`` is one long frame; the
        writer splits it into one file per participant).
    """
    n = DEFAULT_N if n is None else int(n)
    people = roster(seed, n)
    cohort, general = latent_cohort(people, seed, STUDY, VISITS, REFERENCE_AGE, 0.4)
    frames = {"participants": people}
    wide = {}
    for name, outcomes in MEASURES.items():
        values = simulate_outcomes(cohort, outcomes, stream(seed, STUDY, name))
        wide.update(values)
        frames[name] = cohort.long(values)
    frames["hss"] = hss(cohort, seed, wide)
    frames["hads"] = questionnaire(
        cohort,
        seed,
        STUDY,
        "hads",
        HADS_SCALES,
        general,
        options={"coding": "score"},
        missing_rate=0.0005,
    )
    # the paper reports no adverse events: the list exists and is empty (header only)
    frames["adverse_events"] = pd.DataFrame(columns=list(ADVERSE_EVENT_COLUMNS))
    return {key: frames[key] for key in ("participants", *INSTRUMENTS, "adverse_events")}
