"""Deliberately naive scorers written straight from /work/shared/reference/instruments.md.

They share no code and no data with ``trialflow.instruments`` (no definition files are
read): every table is typed out again here, one answer set (a dict ``{"q1": 3, ...}``) at a
time, with plain loops. The random-answer tests compare the package against them.
Missing answers are ``None``.
"""

from __future__ import annotations

import math

# ---------------------------------------------------------------------------------------
# SF-36 (instruments.md "SF-36 / RAND-36")
# ---------------------------------------------------------------------------------------


def sf36_rand_recode(item: int, answer: int) -> float:
    """Step 1 of RAND-36: printed position -> 0-100, as in the instruments.md table."""
    if item in (1, 2, 20, 22, 34, 36):
        return {1: 100, 2: 75, 3: 50, 4: 25, 5: 0}[answer]
    if 3 <= item <= 12:
        return {1: 0, 2: 50, 3: 100}[answer]
    if 13 <= item <= 19:
        return {1: 0, 2: 100}[answer]
    if item in (21, 23, 26, 27, 30):
        return {1: 100, 2: 80, 3: 60, 4: 40, 5: 20, 6: 0}[answer]
    if item in (24, 25, 28, 29, 31):
        return {1: 0, 2: 20, 3: 40, 4: 60, 5: 80, 6: 100}[answer]
    if item in (32, 33, 35):
        return {1: 0, 2: 25, 3: 50, 4: 75, 5: 100}[answer]
    raise AssertionError(item)


SF36_SCALE_ITEMS = {
    "pf": [3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    "rp": [13, 14, 15, 16],
    "re": [17, 18, 19],
    "vt": [23, 27, 29, 31],
    "mh": [24, 25, 26, 28, 30],
    "sf": [20, 32],
    "bp": [21, 22],
    "gh": [1, 33, 34, 35, 36],
}
SF36_PCS = {"pf": 0.42402, "rp": 0.35119, "bp": 0.31754, "gh": 0.24954, "vt": 0.02877, "sf": -0.00753, "re": -0.19206, "mh": -0.22069}  # fmt: skip
SF36_MCS = {"pf": -0.22999, "rp": -0.12329, "bp": -0.09731, "gh": -0.01571, "vt": 0.23534, "sf": 0.26876, "re": 0.43407, "mh": 0.48581}  # fmt: skip
SF36_NORMS = {
    "us1998": (
        {
            "pf": 83.29094,
            "rp": 82.50964,
            "bp": 71.32527,
            "gh": 70.84570,
            "vt": 58.31411,
            "sf": 84.30250,
            "re": 87.39733,
            "mh": 74.98685,
        },  # fmt: skip
        {
            "pf": 23.75883,
            "rp": 25.52028,
            "bp": 23.66224,
            "gh": 20.97821,
            "vt": 20.01923,
            "sf": 22.91921,
            "re": 21.43778,
            "mh": 17.75604,
        },  # fmt: skip
    ),
    "us1990": (
        {
            "pf": 84.52404,
            "rp": 81.19907,
            "bp": 75.49196,
            "gh": 72.21316,
            "vt": 61.05453,
            "sf": 83.59753,
            "re": 81.29467,
            "mh": 74.84212,
        },  # fmt: skip
        {
            "pf": 22.89490,
            "rp": 33.79729,
            "bp": 23.55879,
            "gh": 20.16964,
            "vt": 20.86942,
            "sf": 22.37642,
            "re": 33.02717,
            "mh": 18.01189,
        },  # fmt: skip
    ),
}


def _half_rule_mean(values: list[float | None]) -> float | None:
    answered = [v for v in values if v is not None]
    # "at least half of its items answered"
    if 2 * len(answered) < len(values):
        return None
    return sum(answered) / len(answered)


def sf36_reference(
    answers: dict[str, int | None], algorithm: str = "rand36", norms: str = "us1998"
) -> dict[str, float | None]:
    """The 8 scales, PCS and MCS of one SF-36 answer set."""
    out: dict[str, float | None] = {}
    for scale, items in SF36_SCALE_ITEMS.items():
        recoded = []
        for item in items:
            answer = answers[f"q{item}"]
            recoded.append(None if answer is None else sf36_rand_recode(item, answer))
        out[scale] = _half_rule_mean(recoded)
    if algorithm == "qualitymetric":
        out["bp"] = _qm_bp(answers["q21"], answers["q22"])
        out["gh"] = _qm_gh(answers)
    means, sds = SF36_NORMS[norms]
    if any(out[s] is None for s in SF36_PCS):
        out["pcs"] = out["mcs"] = None
        return out
    praw = 0.0
    mraw = 0.0
    for scale in SF36_PCS:
        z = (out[scale] - means[scale]) / sds[scale]
        praw += z * SF36_PCS[scale]
        mraw += z * SF36_MCS[scale]
    out["pcs"] = 50 + 10 * praw
    out["mcs"] = 50 + 10 * mraw
    return out


def _qm_bp(q21: int | None, q22: int | None) -> float | None:
    """QualityMetric bodily pain (the SAS rules quoted in the task and in sf36.yaml)."""
    item21 = {1: 6.0, 2: 5.4, 3: 4.2, 4: 3.1, 5: 2.2, 6: 1.0}
    if q21 is not None and q22 is not None:
        r21 = item21[q21]
        if q22 == 1:
            r22 = 6.0 if q21 == 1 else 5.0
        else:
            r22 = {2: 4.0, 3: 3.0, 4: 2.0, 5: 1.0}[q22]
    elif q21 is not None:
        r21 = r22 = item21[q21]
    elif q22 is not None:
        r22 = {1: 6.0, 2: 4.75, 3: 3.5, 4: 2.25, 5: 1.0}[q22]
        r21 = r22
    else:
        return None
    raw = r21 + r22
    return (raw - 2) / (12 - 2) * 100


def _qm_gh(answers: dict[str, int | None]) -> float | None:
    """QualityMetric general health: item 1 recalibrated, items 34 and 36 reversed."""
    values = []
    q1 = answers["q1"]
    values.append(None if q1 is None else {1: 5.0, 2: 4.4, 3: 3.4, 4: 2.0, 5: 1.0}[q1])
    values.append(answers["q33"])
    values.append(None if answers["q34"] is None else 6 - answers["q34"])
    values.append(answers["q35"])
    values.append(None if answers["q36"] is None else 6 - answers["q36"])
    answered = [v for v in values if v is not None]
    if len(answered) < 3:
        return None
    mean = sum(answered) / len(answered)
    raw = 5 * mean  # missing items replaced by the mean of the answered ones
    return (raw - 5) / (25 - 5) * 100


# ---------------------------------------------------------------------------------------
# QUALEFFO-41 (instruments.md "QUALEFFO-41"); the item structure is the documented choice
# of definitions/qualeffo41.yaml, typed out again here and compared with it in the tests.
# ---------------------------------------------------------------------------------------

QUALEFFO_OPTIONS = {i: 5 for i in range(1, 42)}
QUALEFFO_OPTIONS.update({23: 4, 24: 4, 25: 4, 26: 4, 27: 4, 28: 4, 32: 3})
QUALEFFO_REVERSED = {36, 37, 39, 40}
QUALEFFO_NOT_APPLICABLE = {24: 5, 29: 6}
QUALEFFO_DOMAINS = {
    "pain": range(1, 6),
    "physical_function": range(6, 23),
    "adl": range(6, 10),
    "jobs": range(10, 15),
    "mobility": range(15, 23),
    "social_function": range(23, 30),
    "general_health": range(30, 33),
    "mental_function": range(33, 42),
}

_FOUR_OPTION_ON_1_5 = {1: 1.0, 2: 1 + 4 / 3, 3: 1 + 8 / 3, 4: 5.0}  # 1, 2.333, 3.667, 5
_THREE_OPTION_ON_1_5 = {1: 1.0, 2: 3.0, 3: 5.0}


def qualeffo_item_value(item: int, answer: int | None) -> float | None:
    """One answer oriented 1 = best and put on 1-5; not applicable and blank are None."""
    if answer is None or QUALEFFO_NOT_APPLICABLE.get(item) == answer:
        return None
    n = QUALEFFO_OPTIONS[item]
    if item in QUALEFFO_REVERSED:
        answer = n + 1 - answer
    if n == 5:
        return float(answer)
    if n == 4:
        return _FOUR_OPTION_ON_1_5[answer]
    return _THREE_OPTION_ON_1_5[answer]


def qualeffo41_reference(answers: dict[str, int | None]) -> dict[str, float | None]:
    """Domain scores and total, 0-100 (higher = worse)."""
    values = {i: qualeffo_item_value(i, answers[f"q{i}"]) for i in range(1, 42)}

    def score(items) -> float | None:
        answered = [values[i] for i in items if values[i] is not None]
        if not answered:
            return None
        return 100 * (sum(answered) / len(answered) - 1) / 4

    out = {domain: score(items) for domain, items in QUALEFFO_DOMAINS.items()}
    out["total"] = score(range(1, 42))
    return out


# ---------------------------------------------------------------------------------------
# HADS (instruments.md "HADS")
# ---------------------------------------------------------------------------------------


def hads_reference(answers: dict[str, int | None], coding: str = "score") -> dict[str, object]:
    """Anxiety, depression (0-21, all 7 items needed) and their bands."""
    scores = {}
    for i in range(1, 15):
        a = answers[f"q{i}"]
        if a is None:
            scores[i] = None
        elif coding == "score":
            scores[i] = a
        elif i in (2, 4, 7, 9, 12, 14):
            scores[i] = a - 1
        else:
            scores[i] = 4 - a
    out: dict[str, object] = {}
    for name, items in (("anxiety", [1, 3, 5, 7, 9, 11, 13]), ("depression", [2, 4, 6, 8, 10, 12, 14])):  # fmt: skip
        if any(scores[i] is None for i in items):
            out[name] = None
            out[f"{name}_band"] = None
            continue
        total = sum(scores[i] for i in items)
        out[name] = float(total)
        if total <= 7:
            out[f"{name}_band"] = "normal"
        elif total <= 10:
            out[f"{name}_band"] = "borderline"
        else:
            out[f"{name}_band"] = "abnormal"
    return out


# ---------------------------------------------------------------------------------------
# HSS knee score (instruments.md "HSS knee score")
# ---------------------------------------------------------------------------------------


def _hss_flexion_points(fd: float, flexion_bands: str) -> int:
    """Flexion-deformity points: none/<5/5-10/>10 degrees (10/8/5/0), or <5/5-10/10-20/>20."""
    if flexion_bands == "none_5_10":
        if fd == 0:
            return 10
        if fd < 5:
            return 8
        return 5 if fd <= 10 else 0
    if fd < 5:
        return 10
    if fd <= 10:
        return 8
    return 5 if fd <= 20 else 0


def hss_reference(a: dict[str, object], flexion_bands: str = "none_5_10") -> dict[str, object]:
    """Component points, subtractions, total (floored at 0) and grade; None if incomplete."""
    if any(v is None for v in a.values()):
        return {"total": None, "grade": None}
    grade4 = {"none": 15, "mild": 10, "moderate": 5, "severe": 0}
    pain = grade4[a["pain_walking"]] + grade4[a["pain_rest"]]
    walking = {"unlimited": 12, "5_10_blocks": 10, "1_5_blocks": 8, "lt_1_block": 4, "cannot_walk": 0}[a["walking"]]  # fmt: skip
    stairs = 5 if a["stairs"] == "unaided" else 2
    transfers = 5 if a["transfers"] == "unaided" else 2
    rom = min(int(a["rom_arc_deg"] // 8), 18)
    strength = {"cannot_break": 10, "can_break": 8, "moves_through_arc": 4, "cannot_move": 0}[a["muscle_strength"]]  # fmt: skip
    flexion = _hss_flexion_points(a["flexion_deformity_deg"], flexion_bands)
    inst = a["instability_deg"]
    if inst == 0:
        instability = 10
    elif inst <= 5:
        instability = 8
    elif inst <= 15:
        instability = 5
    else:
        instability = 0
    aid = {"none": 0, "cane": 1, "crutch": 2, "two_crutches": 3}[a["walking_aid"]]
    lag_deg = a["extension_lag_deg"]
    if lag_deg >= 15:
        lag = 5
    elif lag_deg >= 10:
        lag = 3
    elif lag_deg >= 5:
        lag = 2
    else:
        lag = 0
    subtractions = aid + lag + math.floor(a["varus_deg"] / 5) + math.floor(a["valgus_deg"] / 5)
    total = max(
        pain
        + walking
        + stairs
        + transfers
        + rom
        + strength
        + flexion
        + instability
        - subtractions,
        0,
    )
    if total >= 85:
        grade = "excellent"
    elif total >= 70:
        grade = "good"
    elif total >= 60:
        grade = "fair"
    else:
        grade = "poor"
    return {
        "pain": pain,
        "function": walking + stairs + transfers,
        "rom": rom,
        "muscle_strength": strength,
        "flexion_deformity": flexion,
        "instability": instability,
        "subtractions": subtractions,
        "total": total,
        "grade": grade,
    }
