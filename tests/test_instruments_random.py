"""The package against the naive reference scorers on a few hundred random answer sets.

tests/helpers/reference_scorers.py re-types every table from instruments.md and shares nothing
with the package, so agreement here checks the definition files and the vectorised code.
Answer sets include blanks (at varying rates, so the missing-data rules are exercised on
both sides of their boundaries) and, for QUALEFFO-41, "not applicable" codes.
"""

import math

import numpy as np
import pandas as pd
import pytest
from helpers import reference_scorers as ref

from trialflow import instruments

N = 400


def random_answers(rng, responses: dict[str, tuple], n: int) -> list[dict]:
    """n answer sets; each set has its own blank rate between 0 and 60 %."""
    sets = []
    for _ in range(n):
        blank_rate = rng.choice([0.0, 0.0, 0.1, 0.3, 0.6])
        answers = {}
        for column, allowed in responses.items():
            if rng.random() < blank_rate:
                answers[column] = None
            else:
                answers[column] = allowed[rng.integers(len(allowed))]
        sets.append(answers)
    return sets


def as_frame(sets: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(sets)
    return frame.astype({c: float for c in frame.columns if frame[c].map(lambda v: v is None or isinstance(v, int | float)).all()})  # fmt: skip


def assert_same(actual, expected, where):
    if expected is None:
        assert actual is None or pd.isna(actual), where
    elif isinstance(expected, str):
        assert actual == expected, where
    else:
        assert actual == pytest.approx(expected, abs=1e-9), where


@pytest.mark.parametrize("algorithm", ["rand36", "qualitymetric"])
@pytest.mark.parametrize("norms", ["us1998", "us1990"])
def test_sf36_matches_reference(algorithm, norms):
    rng = np.random.default_rng(36)
    responses = {row.column: row.responses for row in instruments.items("sf36").itertuples()}
    sets = random_answers(rng, responses, N)
    scored = instruments.score("sf36", as_frame(sets), algorithm=algorithm, norms=norms)
    n_missing_pcs = 0
    for i, answers in enumerate(sets):
        expected = ref.sf36_reference(answers, algorithm=algorithm, norms=norms)
        n_missing_pcs += expected["pcs"] is None
        for score, value in expected.items():
            assert_same(scored.loc[i, score], value, (i, score))
    # the random sets exercise both branches of the missing-data rule
    assert 0 < n_missing_pcs < N


def test_qualeffo41_matches_reference():
    rng = np.random.default_rng(41)
    responses = {row.column: row.responses for row in instruments.items("qualeffo41").itertuples()}
    sets = random_answers(rng, responses, N)
    scored = instruments.score("qualeffo41", as_frame(sets))
    for i, answers in enumerate(sets):
        for score, value in ref.qualeffo41_reference(answers).items():
            assert_same(scored.loc[i, score], value, (i, score))
    assert any(s["q24"] == 5 for s in sets) and any(s["q29"] == 6 for s in sets)


@pytest.mark.parametrize("coding", ["score", "position"])
def test_hads_matches_reference(coding):
    rng = np.random.default_rng(14)
    allowed = (0, 1, 2, 3) if coding == "score" else (1, 2, 3, 4)
    sets = random_answers(rng, {f"q{i}": allowed for i in range(1, 15)}, N)
    scored = instruments.score("hads", as_frame(sets), coding=coding)
    bands = set()
    for i, answers in enumerate(sets):
        for score, value in ref.hads_reference(answers, coding=coding).items():
            assert_same(scored.loc[i, score], value, (i, score))
            bands.add(value)
    assert {"normal", "borderline", "abnormal"} <= bands


@pytest.mark.parametrize("flexion_bands", ["none_5_10", "5_10_20"])
def test_hss_matches_reference(flexion_bands):
    rng = np.random.default_rng(100)
    table = instruments.items("hss")
    responses = {}
    for row in table.itertuples():
        if row.kind == "categorical":
            responses[row.column] = row.responses
        elif row.column == "rom_arc_deg":
            responses[row.column] = tuple(float(v) for v in range(0, 151))
        else:
            # whole and half degrees around every band edge
            responses[row.column] = tuple(float(v) for v in np.arange(0, 25.5, 0.5))
    sets = []
    for answers in random_answers(rng, responses, N):
        # keep most sets complete so totals and grades are compared often
        if rng.random() < 0.8:
            answers = {k: (responses[k][0] if v is None else v) for k, v in answers.items()}
        sets.append(answers)
    scored = instruments.score("hss", as_frame(sets), flexion_bands=flexion_bands)
    grades = set()
    for i, answers in enumerate(sets):
        expected = ref.hss_reference(answers, flexion_bands=flexion_bands)
        for score, value in expected.items():
            assert_same(scored.loc[i, score], value, (i, score))
        grades.add(expected["grade"])
    assert {"excellent", "good", "fair", "poor"} <= grades
    assert not math.isnan(scored["total"].min())
