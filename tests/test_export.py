"""The analysis dataset as a CDISC-flavoured (ADaM BDS) dataset, worked by hand (issue 15)."""

import numpy as np
import pandas as pd

from trialflow.config import Arm, InstrumentSpec, Study, Visit
from trialflow.export import BDS_COLUMNS, bds_chunks, bds_dataset
from trialflow.io import write_csv, write_csv_chunks

STUDY = Study(
    id="tiny",
    title="Tiny",
    design="parallel",
    data_dir="raw",
    arms=(Arm("usual", "Usual care"), Arm("training", "Training")),
    visits=(
        Visit("baseline", "Baseline", 0.0, "baseline"),
        Visit("week8", "Week 8", 8.0, "end_of_treatment"),
    ),
    instruments=(InstrumentSpec("tug", "tug"),),
)
OUTCOMES = pd.DataFrame(
    {"outcome": ["tug_time", "grip_kg"], "label": ["Timed Up and Go", "Grip"], "unit": ["s", ""]}
)


ANALYSIS = dict(
    participant_id=["U1", "U1", "T1", "T1", "T1"],
    arm=["usual", "usual", "training", "training", "training"],
    visit=["baseline", "week8", "baseline", "week8", "week8"],
    week=[0.0, 8.0, 0.0, 8.0, 8.0],
    outcome=["tug_time", "tug_time", "tug_time", "tug_time", "grip_kg"],
    value=[12.0, 10.5, np.nan, 9.0, 30.0],
)


def test_bds_rows_carry_baseline_change_and_flags():
    analysis = pd.DataFrame(ANALYSIS)
    bds = bds_dataset(analysis, OUTCOMES, STUDY)
    assert tuple(bds.columns) == BDS_COLUMNS
    expected = pd.DataFrame(
        {
            "STUDYID": ["tiny"] * 5,
            "USUBJID": ["tiny-U1", "tiny-U1", "tiny-T1", "tiny-T1", "tiny-T1"],
            "SUBJID": ["U1", "U1", "T1", "T1", "T1"],
            "TRT01P": ["Usual care", "Usual care", "Training", "Training", "Training"],
            "AVISIT": ["Baseline", "Week 8", "Baseline", "Week 8", "Week 8"],
            "AVISITN": [0.0, 8.0, 0.0, 8.0, 8.0],
            "PARAMCD": ["tug_time", "tug_time", "tug_time", "tug_time", "grip_kg"],
            "PARAM": ["Timed Up and Go (s)"] * 4 + ["Grip"],
            "AVAL": [12.0, 10.5, np.nan, 9.0, 30.0],
            # U1: 10.5 - 12; T1 has no baseline TUG (no change) and no baseline grip row
            "BASE": [12.0, 12.0, np.nan, np.nan, np.nan],
            "CHG": [np.nan, -1.5, np.nan, np.nan, np.nan],
            "ABLFL": ["Y", "", "Y", "", ""],
            "ANL01FL": ["Y", "Y", "", "Y", "Y"],
        }
    )
    pd.testing.assert_frame_equal(bds, expected, check_dtype=False)


def test_bds_pieces_are_the_dataset_and_write_the_same_bytes(tmp_path):
    analysis = pd.DataFrame(ANALYSIS)
    # a formula-like participant id in the last piece only: prefixed there, as in one piece
    analysis.loc[4, "participant_id"] = "=T1"
    whole = bds_dataset(analysis, OUTCOMES, STUDY)
    pieces = list(bds_chunks(analysis, OUTCOMES, STUDY, rows=2))
    assert [len(p) for p in pieces] == [2, 2, 1]
    pd.testing.assert_frame_equal(pd.concat(pieces), whole)
    write_csv(whole, tmp_path / "whole.csv")
    write_csv_chunks(pieces, tmp_path / "pieces.csv")
    text = (tmp_path / "pieces.csv").read_bytes()
    assert text == (tmp_path / "whole.csv").read_bytes()
    # SUBJID "=T1" prefixed; USUBJID does not start like a formula; no baseline grip
    assert text.splitlines()[-1] == b"tiny,tiny-=T1,'=T1,Training,Week 8,8,grip_kg,Grip,30,,,,Y"
    # an empty dataset is one empty piece: the header alone
    empty = list(bds_chunks(analysis.iloc[:0], OUTCOMES, STUDY, rows=2))
    assert [len(p) for p in empty] == [0]
