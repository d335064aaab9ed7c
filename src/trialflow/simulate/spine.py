"""Simulated ``spine_rct``: exercise vs control in postmenopausal vertebral osteoporosis.

Shaped like Ucar et al., Arch Rheumatol 2025;40(2):211-220 (41 women aged 45-65, DXA T-score
<= -2.5, 8 weeks of supervised exercise vs medical treatment only). Built-in findings: the
exercise arm improves back-extensor strength, loaded-standing endurance, VC, FVC, FEV1,
FEF25-75 and MIP, QUALEFFO-41 physical function, mental function and total, SF-36 physical
functioning, vitality and mental health; spinal mobility does not change; control is about
unchanged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trialflow.simulate._core import (
    Cohort,
    Outcome,
    latent_cohort,
    participant_ids,
    simulate_outcomes,
    stream,
)
from trialflow.simulate._items import questionnaire

STUDY = "spine_rct"
DEFAULT_SEED = 20250211
DEFAULT_N = 41
ARMS = ("control", "exercise")
VISITS = ("baseline", "week8")
INSTRUMENTS = (
    "back_extensor",
    "loaded_standing",
    "spinal_mobility",
    "spirometry",
    "qualeffo41",
    "sf36",
)
DECIMALS = {
    "participants": {"age": 0, "height_cm": 1, "weight_kg": 1, "t_score": 1},
    "back_extensor": {"peak_torque_nm": 1},
    "loaded_standing": {"time_s": 1},
    "spinal_mobility": {"flexion_deg": 1, "extension_deg": 1},
    "spirometry": {"vc_l": 2, "fvc_l": 2, "fev1_l": 2, "fef25_75_l_s": 2, "mip_cmh2o": 0},
}
REFERENCE_AGE = 57.0
WITHDRAWAL_REASONS = ("lost to follow-up", "withdrew consent", "moved away", "family reasons")


def _exercise(week8: float, control: float = 0.0) -> dict[str, dict[str, float]]:
    return {"exercise": {"week8": week8}, "control": {"week8": control}}


# Working-scale parameters. Effects are about 1.2-1.5 SD of the 8-week change (0.6-1.0 SD
# of the baseline values), so each finding is clear with about 20 per arm.
PHYSICAL = {
    "back_extensor": (
        # isometric peak trunk-extension torque of older osteoporotic women, ~80-120 Nm
        Outcome(
            "peak_torque_nm", 98.0, 19.0, 6.5, _exercise(15.0, 0.5),
            loading=0.55, lower=25.0, upper=250.0, age_slope=-0.8,
        ),
    ),
    "loaded_standing": (
        # timed loaded standing (1 kg held at arm's length), about a minute, right-skewed
        Outcome(
            "time_s", 70.0, 0.35, 0.10, _exercise(1.28, 1.01), log=True,
            loading=0.45, lower=5.0, upper=600.0, age_slope=-0.01,
        ),
    ),
    "spinal_mobility": (
        # inclinometer thoraco-lumbar flexion and extension; unchanged by either arm
        Outcome("flexion_deg", 52.0, 10.0, 3.0, loading=0.25, lower=10.0, upper=110.0),
        Outcome("extension_deg", 17.0, 5.5, 2.0, loading=0.2, lower=2.0, upper=45.0),
    ),
}  # fmt: skip

QUALEFFO_SCALES = {
    # location (logit of healthy fraction), between-person spread, effects
    "pain": (0.45, 0.85, _exercise(0.25)),
    "physical_function": (0.95, 0.85, _exercise(0.55, 0.02)),
    "social_function": (0.25, 0.75, _exercise(0.15)),
    "general_health": (-0.1, 0.7, _exercise(0.2)),
    "mental_function": (0.45, 0.8, _exercise(0.6, 0.02)),
}
SF36_SCALES = {
    "pf": (0.3, 0.9, _exercise(0.6, 0.02)),
    # role items are yes/no: a wider person spread keeps them as reliable as the others
    "rp": (0.35, 1.5, _exercise(0.2)),
    "bp": (0.2, 0.85, _exercise(0.2)),
    "gh": (-0.15, 0.75, _exercise(0.15)),
    "vt": (-0.05, 0.8, _exercise(0.65, 0.02)),
    "sf": (0.6, 0.85, _exercise(0.15)),
    "re": (0.6, 1.5, _exercise(0.15)),
    "mh": (0.35, 0.8, _exercise(0.6, 0.02)),
}

# answer noise, visit-to-visit noise and share of blank answers of the questionnaires
ITEM_NOISE = {"item_sd": 0.5, "visit_sd": 0.2, "missing_rate": 0.004}


def roster(seed: int, n: int) -> pd.DataFrame:
    """Participants: arms about 1:1 (exercise gets the odd one), about 5 % lost per arm.

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
    n_exercise = (n + 1) // 2
    arm = rng.permutation(np.array(["exercise"] * n_exercise + ["control"] * (n - n_exercise)))
    age = np.clip(np.round(rng.normal(REFERENCE_AGE, 4.8, n)), 45, 65)
    menopause_age = np.clip(np.round(rng.normal(49.0, 3.5, n)), 40, np.minimum(56, age - 1))
    height = np.round(rng.normal(156.5, 5.5, n), 1)
    bmi = np.clip(rng.normal(26.0, 3.6, n), 18.5, 38.0)
    weight = np.round(bmi * (height / 100) ** 2, 1)
    t_score = np.round(np.clip(-2.5 - rng.gamma(2.0, 0.3, n), -4.8, -2.5), 1)
    last_visit = np.full(n, "week8", dtype=object)
    reason = np.full(n, "", dtype=object)
    for name in ARMS:
        members = np.flatnonzero(arm == name)
        n_lost = max(1, round(0.05 * len(members))) if len(members) >= 2 else 0
        lost = rng.choice(members, size=n_lost, replace=False)
        last_visit[lost] = "baseline"
        reason[lost] = rng.choice(np.array(WITHDRAWAL_REASONS, dtype=object), size=n_lost)
    return pd.DataFrame(
        {
            "participant_id": participant_ids("S", n, 3),
            "arm": arm.astype(object),
            "age": age.astype(int),
            "sex": "F",
            "height_cm": height,
            "weight_kg": weight,
            "ethnicity": "caucasian",
            "t_score": t_score,
            "years_since_menopause": (age - menopause_age).astype(int),
            "last_visit": last_visit,
            "withdrawal_reason": reason,
        }
    )


def spirometry(cohort: Cohort, seed: int) -> pd.DataFrame:
    """VC, FVC, FEV1, FEF25-75 and MIP with realistic between-measure structure.

    Lung size follows height and age (ECSC 1993 equations for women, scaled up to about
    GLI-2012 levels minus a little for thoracic kyphosis) times a person factor; FEV1 is FVC
    times a person-level FEV1/FVC ratio, FEF25-75 follows FEV1 and that ratio, VC is slightly
    above FVC. Exercise (breathing work) raises volumes about 7 %, FEF25-75 about 14 %, MIP
    about 12 cmH2O; the control arm changes by 0.5-1 %.
    """
    rng = stream(seed, STUDY, "spirometry")
    n, t = cohort.n, len(cohort.visits)
    height = cohort.roster["height_cm"].to_numpy() / 100
    age = cohort.roster["age"].to_numpy(dtype=float)
    predicted_fvc = 4.43 * height - 0.026 * age - 2.89
    lung = 0.4 * cohort.factor + np.sqrt(1 - 0.16) * rng.standard_normal(n)
    fvc_person = predicted_fvc * np.exp(0.09 + 0.12 * lung)
    ratio_person = np.clip(rng.normal(0.81, 0.045, n), 0.62, 0.95)
    vc_offset = rng.normal(0.03, 0.025, n)
    fef_person = rng.standard_normal(n)
    response = 1 + 0.3 * cohort.responder[:, None]
    volume_effect = cohort.effect_matrix(_exercise(np.log(1.07), np.log(1.005)))
    flow_effect = cohort.effect_matrix(_exercise(np.log(1.14), np.log(1.01)))
    fvc = fvc_person[:, None] * np.exp(volume_effect * response + 0.028 * rng.normal(size=(n, t)))
    ratio = np.clip(ratio_person[:, None] + 0.008 * rng.normal(size=(n, t)), 0.5, 0.98)
    fev1 = fvc * ratio
    vc = fvc * np.exp(vc_offset[:, None] + 0.02 * rng.normal(size=(n, t)))
    # flows fall with airway narrowing, which FEV1/FVC tracks
    fef = fev1 * np.exp(
        2.5 * (ratio - 0.81)
        + 0.15 * fef_person[:, None]
        + flow_effect * response
        + 0.06 * rng.normal(size=(n, t))
    )
    mip = simulate_outcomes(
        cohort,
        [
            Outcome(
                "mip_cmh2o", 62.0, 16.0, 5.5, _exercise(12.0, 0.5),
                loading=0.4, decimals=0, lower=15.0, upper=200.0, age_slope=-0.5,
            )
        ],
        rng,
    )["mip_cmh2o"]  # fmt: skip
    values = {
        "vc_l": np.round(vc, 2),
        "fvc_l": np.round(fvc, 2),
        "fev1_l": np.round(fev1, 2),
        "fef25_75_l_s": np.round(fef, 2),
        "mip_cmh2o": mip,
    }
    return cohort.long(values)


def simulate(seed: int = DEFAULT_SEED, n: int | None = None) -> dict[str, pd.DataFrame]:
    """Simulate every file of the study.

    Parameters
    ----------
    seed : int
    n : int, optional
        Number of participants (default 41).

    Returns
    -------
    dict of str to DataFrame
        ``participants`` and one frame per instrument id.
    """
    n = DEFAULT_N if n is None else int(n)
    people = roster(seed, n)
    cohort, general = latent_cohort(people, seed, STUDY, VISITS, REFERENCE_AGE, 0.5)
    frames = {"participants": people}
    for name, outcomes in PHYSICAL.items():
        frames[name] = cohort.long(simulate_outcomes(cohort, outcomes, stream(seed, STUDY, name)))
    frames["spirometry"] = spirometry(cohort, seed)
    frames["qualeffo41"] = questionnaire(
        cohort, seed, STUDY, "qualeffo41", QUALEFFO_SCALES, general, **ITEM_NOISE
    )
    frames["sf36"] = questionnaire(cohort, seed, STUDY, "sf36", SF36_SCALES, general, **ITEM_NOISE)
    return {key: frames[key] for key in ("participants", *INSTRUMENTS)}
