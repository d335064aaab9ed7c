"""score_study: long scores, outcome metadata and the scoring summary of a study."""

import numpy as np
import pandas as pd
import pytest

from trialflow import instruments
from trialflow.config import Arm, InstrumentSpec, Study, Visit
from trialflow.errors import InputError
from trialflow.scoring import score_study


def make_study():
    return Study(
        id="demo",
        title="Demo",
        design="parallel",
        data_dir="data/raw/demo",
        arms=(Arm("control", "Control"), Arm("exercise", "Exercise")),
        visits=(
            Visit("baseline", "Baseline", 0, "baseline"),
            Visit("week12", "Week 12", 12, "end_of_treatment"),
        ),  # fmt: skip
        instruments=(
            InstrumentSpec(id="mood", type="hads", options={"coding": "position"}),
            InstrumentSpec(id="lung", type="spirometry"),
            InstrumentSpec(id="back", type="back_extensor"),
        ),
    )


PARTICIPANTS = pd.DataFrame(
    {"participant_id": ["P1", "P2"], "arm": ["control", "exercise"], "age": [58.0, 30.0],
     "sex": ["F", "M"], "height_cm": [160.0, 180.0], "weight_kg": [70.0, 80.0],
     "ethnicity": ["caucasian", "caucasian"]}
)  # fmt: skip


def hads_frame():
    # printed positions; P2 at week12 leaves q1 (an anxiety item) blank
    rows = []
    for pid, visit, position in [("P2", "week12", 2), ("P1", "baseline", 1), ("P1", "week12", 4), ("P2", "baseline", 3)]:  # fmt: skip
        row = {"participant_id": pid, "visit": visit}
        row.update({f"q{i}": float(position) for i in range(1, 15)})
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame.loc[0, "q1"] = np.nan
    frame["source_file"] = "data/raw/demo/mood.csv"
    frame["source_row"] = [2, 3, 4, 5]
    return frame


def lung_frame():
    return pd.DataFrame(
        {"participant_id": ["P1", "P2"], "visit": ["baseline", "baseline"], "vc_l": [3.1, np.nan],
         "fvc_l": [3.0, 4.5], "fev1_l": [2.4, 3.5], "fef25_75_l_s": [2.0, 3.0], "mip_cmh2o": [70.0, 95.0]}
    )  # fmt: skip


def back_frame():
    return pd.DataFrame({"participant_id": ["P1", "P2"], "visit": ["week12", "week12"], "peak_torque_nm": [140.0, 200.0]})  # fmt: skip


def test_score_study_long_scores_metadata_and_summary():
    frames = {"mood": hads_frame(), "lung": lung_frame(), "back": back_frame()}
    scores, meta, summary = score_study(frames, make_study(), PARTICIPANTS)

    assert list(scores.columns) == ["participant_id", "visit", "instrument", "outcome", "value"]
    assert scores["value"].dtype == float
    # sorted by outcome, participant, then visit in study order
    keys = list(zip(scores["outcome"], scores["participant_id"], scores["visit"].map({"baseline": 0, "week12": 1}), strict=True))  # fmt: skip
    assert keys == sorted(keys)
    # analysed scores only: no bands, no LLN
    assert not scores["outcome"].str.contains("band|lln").any()
    assert set(scores["instrument"]) == {"mood", "lung", "back"}

    def value(pid, visit, outcome):
        hit = scores[(scores.participant_id == pid) & (scores.visit == visit) & (scores.outcome == outcome)]  # fmt: skip
        return hit["value"].tolist()

    # P1 baseline, position 1 everywhere: anxiety 15, depression 9 (items 7, 9 and 2, 4,
    # 12, 14 score position - 1 = 0, the others 4 - position = 3)
    assert value("P1", "baseline", "mood_anxiety") == [15.0]
    assert value("P1", "baseline", "mood_depression") == [9.0]
    # P2 week12 has a blank anxiety item: no anxiety row, depression = 3 x 2 + 4 x 1 = 10
    assert value("P2", "week12", "mood_anxiety") == []
    assert value("P2", "week12", "mood_depression") == [10.0]
    # roster joined: 140 Nm / 70 kg; the GLI reference woman (instruments.md: 97.21 %)
    assert value("P1", "week12", "back_peak_torque_per_kg") == [2.0]
    assert value("P1", "baseline", "lung_fev1_pct_pred")[0] == pytest.approx(97.21, abs=0.005)
    assert value("P2", "baseline", "lung_vc") == []

    assert list(meta.columns) == ["outcome", "instrument", "instrument_type", "score", "label", "unit", "higher_is_better", "algorithm"]  # fmt: skip
    assert meta["outcome"].is_unique
    assert meta.loc[meta.outcome == "mood_anxiety", "instrument_type"].item() == "hads"
    assert not meta.loc[meta.outcome == "mood_anxiety", "higher_is_better"].item()
    assert meta.loc[meta.outcome == "back_peak_torque_per_kg", "unit"].item() == "Nm/kg"
    assert set(scores["outcome"]) <= set(meta["outcome"])
    assert "printed positions" in meta.loc[meta.outcome == "mood_anxiety", "algorithm"].item()

    summary = summary.set_index(["instrument", "visit"])
    assert summary.loc[("mood", "week12"), "n_rows"] == 2
    assert summary.loc[("mood", "week12"), "items_missing"] == 1
    assert summary.loc[("mood", "week12"), "scales_not_scored"] == 1  # P2's anxiety
    assert summary.loc[("mood", "baseline"), "scales_not_scored"] == 0
    assert summary.loc[("lung", "week12"), "n_rows"] == 0
    assert summary.loc[("lung", "baseline"), "items_missing"] == 1
    n_lung = int(instruments.outcomes("spirometry")["analysed"].sum())
    assert summary.loc[("lung", "baseline"), "scales_not_scored"] == 1  # P2's VC
    assert summary.loc[("lung", "baseline"), "scores_scored"] == 2 * n_lung - 1


def test_bad_answers_raise_with_file_and_row():
    frame = hads_frame()
    frame.loc[2, "q5"] = 5.0  # positions are 1-4
    with pytest.raises(InputError) as error:
        score_study({"mood": frame}, make_study(), PARTICIPANTS)
    [problem] = error.value.problems
    assert (problem.file, problem.row, problem.column, problem.value) == ("data/raw/demo/mood.csv", 4, "q5", 5.0)  # fmt: skip
    assert "one of 1, 2, 3, 4" in problem.expected


def test_outputs_are_deterministic_under_row_order():
    frames = {"mood": hads_frame(), "lung": lung_frame(), "back": back_frame()}
    shuffled = {k: v.sample(frac=1, random_state=3) for k, v in frames.items()}
    first = score_study(frames, make_study(), PARTICIPANTS)
    second = score_study(shuffled, make_study(), PARTICIPANTS)
    for a, b in zip(first, second, strict=True):
        pd.testing.assert_frame_equal(a, b)
