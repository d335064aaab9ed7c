"""Degenerate but legal data (issue 10, classes 1 and 3): a declared outcome with no value
still reaches every output with n = 0 and a note; figures say "No data"; nothing crashes."""

from dataclasses import replace

import numpy as np
import pandas as pd
from helpers.studies import make_study

from trialflow.assemble import assemble_analysis, empty_outcomes
from trialflow.config import FigureOptions
from trialflow.figures import write_study_figures
from trialflow.stats import analyse_study, descriptives
from trialflow.stats.mmrm_analysis import analyse_mmrm

STUDY = make_study("d", ["control", "exercise"], covariates=("age",))
ROSTER = pd.DataFrame(
    {
        "participant_id": [f"P{i}" for i in range(8)],
        "arm": ["control"] * 4 + ["exercise"] * 4,
        "age": [50.0 + i for i in range(8)],
        "last_visit": ["week8"] * 8,
    }
)
OUTCOMES = pd.DataFrame(
    {
        "outcome": ["tug_time", "grip_kg"],
        "instrument": ["tug", "grip"],
        "label": ["TUG", "Grip"],
        "unit": ["s", "kg"],
        "higher_is_better": [False, True],
        "analysed": [True, True],
    }
)


def _scores(with_grip: bool) -> pd.DataFrame:
    rows = []
    for i, pid in enumerate(ROSTER["participant_id"]):
        for visit, shift in (("baseline", 0.0), ("week8", -1.0)):
            rows.append(("tug_time", pid, visit, 10.0 + i % 3 + shift))
            if with_grip:
                rows.append(("grip_kg", pid, visit, 20.0 + i))
    return pd.DataFrame(rows, columns=["outcome", "participant_id", "visit", "value"])


def test_an_outcome_without_values_gets_empty_rows_for_every_participant_and_visit():
    scores = _scores(with_grip=False)
    assert empty_outcomes(scores, OUTCOMES) == ["grip_kg"]
    analysis = assemble_analysis(scores, ROSTER, STUDY, OUTCOMES)
    grip = analysis[analysis["outcome"] == "grip_kg"]
    assert len(grip) == 8 * 2 and grip["value"].isna().all()
    assert analysis[analysis["outcome"] == "tug_time"]["value"].notna().all()
    # with values it adds nothing: the default analysis data are unchanged
    full = _scores(with_grip=True)
    pd.testing.assert_frame_equal(
        assemble_analysis(full, ROSTER, STUDY, OUTCOMES), assemble_analysis(full, ROSTER, STUDY)
    )


def test_the_empty_outcome_has_n_zero_and_notes_in_descriptives_and_results():
    analysis = assemble_analysis(_scores(with_grip=False), ROSTER, STUDY, OUTCOMES)
    table = descriptives(analysis, ROSTER, STUDY)
    grip = table[table["outcome"] == "grip_kg"]
    assert grip["n"].tolist() == [0, 0, 0, 0] and grip["n_missing"].tolist() == [4, 4, 4, 4]
    results = analyse_study(analysis, OUTCOMES, ROSTER, STUDY)
    rows = results[results["outcome"] == "grip_kg"]
    assert len(rows) and (rows["n"] == 0).all() and rows["estimate"].isna().all()
    assert rows["note"].str.len().gt(0).all()
    mmrm = analyse_mmrm(analysis, STUDY)
    fit = mmrm.fits.set_index("outcome").loc["grip_kg"]
    assert fit["status"] == "not_fitted" and fit["note"]


def test_figures_of_an_outcome_without_values_say_no_data(tmp_path):
    analysis = assemble_analysis(_scores(with_grip=False), ROSTER, STUDY, OUTCOMES)
    results = analyse_study(analysis, OUTCOMES, ROSTER, STUDY)
    study = replace(STUDY, figures=FigureOptions(formats=("png", "svg")))  # SVG: its text
    written = write_study_figures(study, analysis, OUTCOMES, ROSTER, results, tmp_path)
    names = {p.relative_to(tmp_path).as_posix() for p in written}
    for kind in ("trajectory", "change", "qq"):
        assert f"{kind}/grip_kg.png" in names and f"{kind}/tug_time.png" in names
        svg = (tmp_path / kind / "grip_kg.svg").read_text()
        assert "No data" in svg and "no values recorded" in svg
        assert "No data" not in (tmp_path / kind / "tug_time.svg").read_text()


def test_a_study_whose_only_outcome_is_empty_still_writes_every_figure(tmp_path):
    study = make_study("d", ["control", "exercise"])
    study = replace(study, figures=FigureOptions(formats=("png", "svg")))
    outcomes = OUTCOMES.iloc[[1]]
    empty = pd.DataFrame(columns=["outcome", "participant_id", "visit", "value"])
    analysis = assemble_analysis(empty, ROSTER, study, outcomes)
    results = analyse_study(analysis, outcomes, ROSTER, study)
    written = write_study_figures(study, analysis, outcomes, ROSTER, results, tmp_path)
    assert "No data" in (tmp_path / "forest/forest.svg").read_text()
    assert all((tmp_path / kind).is_dir() for kind in ("trajectory", "change", "qq"))
    # consort, forest and three per outcome, each as PNG and SVG, and figures.csv
    assert len(written) == 2 * 5 + 1


def test_complete_dropout_in_one_arm_gives_empty_rows_with_notes():
    analysis = assemble_analysis(_scores(with_grip=True), ROSTER, STUDY, OUTCOMES)
    gone = (analysis["arm"] == "exercise") & (analysis["visit"] == "week8")
    analysis = analysis[~gone.to_numpy()].reset_index(drop=True)
    results = analyse_study(analysis, OUTCOMES, ROSTER, STUDY)
    between = results[(results["analysis"] == "welch_t") & (results["visit"] == "week8")]
    assert between["estimate"].isna().all() and between["note"].str.len().gt(0).all()
    fits = analyse_mmrm(analysis, STUDY).fits
    assert set(fits["status"]) == {"not_fitted"}
    assert np.all(fits["note"].str.contains("needs the reference arm, another arm"))
