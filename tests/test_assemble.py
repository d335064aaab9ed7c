"""The tidy analysis dataset."""

import pandas as pd

from trialflow.assemble import assemble_analysis
from trialflow.config import study_from_mapping

STUDY = study_from_mapping(
    "tiny",
    {
        "title": "tiny",
        "design": "parallel",
        "data_dir": "data",
        "arms": [{"id": "control"}, {"id": "exercise"}],
        "visits": [
            {"id": "baseline", "week": 0, "role": "baseline"},
            {"id": "week8", "week": 8, "role": "end_of_treatment"},
        ],
        "instruments": {"tug": {"type": "tug"}},
        "covariates": ["age"],
    },
)


def test_joins_arm_week_and_covariates_in_config_order():
    scores = pd.DataFrame(
        {
            "participant_id": ["B", "A", "A", "B"],
            "visit": ["week8", "week8", "baseline", "baseline"],
            "instrument": "tug",
            "outcome": "tug_time",
            "value": [9.0, 10.0, 11.0, 12.0],
        }
    )
    roster = pd.DataFrame(
        {"participant_id": ["A", "B"], "arm": ["exercise", "control"], "age": [60.0, 55.0]}
    )
    analysis = assemble_analysis(scores, roster, STUDY)
    assert list(analysis.columns) == [
        "participant_id",
        "arm",
        "visit",
        "week",
        "outcome",
        "value",
        "age",
    ]
    # control arm first (reference arm), then visits in schedule order
    assert analysis[["participant_id", "arm", "visit", "week", "value"]].values.tolist() == [
        ["B", "control", "baseline", 0.0, 12.0],
        ["B", "control", "week8", 8.0, 9.0],
        ["A", "exercise", "baseline", 0.0, 11.0],
        ["A", "exercise", "week8", 8.0, 10.0],
    ]
    assert analysis["age"].tolist() == [55.0, 55.0, 60.0, 60.0]
