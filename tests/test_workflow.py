"""End to end: the Snakemake workflow on a tiny study in a temporary directory.

The numbers asserted are worked by hand from the CSVs written here.
"""

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, tiny_study, snakemake_run):
    workdir = tmp_path_factory.mktemp("tiny")
    tiny_study(workdir)
    run = snakemake_run(workdir)
    assert run.returncode == 0, run.stderr[-5000:]
    return workdir


@pytest.mark.slow
def test_analysis_dataset_is_tidy_and_complete(finished_run):
    analysis = pd.read_parquet(finished_run / "data/processed/tiny/analysis.parquet")
    assert list(analysis.columns)[:6] == [
        "participant_id",
        "arm",
        "visit",
        "week",
        "outcome",
        "value",
    ]
    tug = analysis[analysis["outcome"] == "tug_time"]
    assert len(tug) == 15
    u2 = tug[tug["participant_id"] == "U2"].set_index("visit")["value"]
    assert u2.to_dict() == {"baseline": 12.0, "week8": 11.0}
    grip = analysis[analysis["outcome"] == "grip_grip_kg"]
    assert sorted(grip["participant_id"].unique()) == ["T1", "T2", "U1", "U2"]
    # usual arm first (reference), then participant and visit; U2's blank week-8 grip has no row
    assert grip[["participant_id", "week"]].values.tolist() == [
        ["U1", 0.0],
        ["U1", 8.0],
        ["U2", 0.0],
        ["T1", 0.0],
        ["T1", 8.0],
        ["T2", 0.0],
        ["T2", 8.0],
    ]
    assert analysis.loc[analysis["participant_id"] == "T4", "age"].unique().tolist() == [65.0]


@pytest.mark.slow
def test_descriptives_match_hand_computation(finished_run):
    table = pd.read_csv(finished_run / "results/tiny/tables/descriptives.csv")
    row = table.query("outcome == 'tug_time' and arm == 'usual' and visit == 'baseline'").iloc[0]
    # 10, 12, 14, 11: mean 11.75; SD sqrt(((-1.75)^2 + 0.25^2 + 2.25^2 + (-0.75)^2) / 3)
    assert row["n"] == 4
    assert row["mean"] == pytest.approx(11.75)
    assert row["sd"] == pytest.approx((8.75 / 3) ** 0.5)
    assert row["median"] == pytest.approx(11.5)
    row = table.query("outcome == 'tug_time' and arm == 'training' and visit == 'week8'").iloc[0]
    # 10, 10, 9, 12: mean 10.25, median 10
    assert (row["n"], row["mean"], row["median"]) == (4, 10.25, 10.0)
    row = table.query("outcome == 'grip_grip_kg' and arm == 'usual' and visit == 'week8'").iloc[0]
    # U2's week-8 grip is blank and U3, U4 have no grip file: 3 of 4 randomised missing
    assert (row["n"], row["n_missing"], row["mean"]) == (1, 3, 21.0)


@pytest.mark.slow
def test_figures_are_drawn_per_outcome(finished_run):
    figures = sorted(p.name for p in (finished_run / "results/tiny/figures").rglob("*.png"))
    assert any("tug_time" in name for name in figures)
    assert any("grip_grip_kg" in name for name in figures)


@pytest.mark.slow
def test_second_run_has_nothing_to_do(finished_run, snakemake_run):
    dry = snakemake_run(finished_run, "-n")
    assert dry.returncode == 0
    assert "Nothing to be done" in dry.stdout + dry.stderr


@pytest.mark.slow
def test_bad_input_stops_with_file_row_and_column(finished_run, tmp_path, snakemake_run, tiny_raw):
    TUG = tiny_raw["tug"]
    # A copy of the finished run with one bad cell: the run fails, earlier results stay.
    subprocess.run(["cp", "-r", f"{finished_run}/.", str(tmp_path)], check=True)
    tug = tmp_path / "raw" / "tiny" / "tug.csv"
    tug.write_text(TUG.replace("T3,week8,9", "T3,week8,nine"))
    descriptives = tmp_path / "results/tiny/tables/descriptives.csv"
    before = descriptives.read_bytes()
    run = snakemake_run(tmp_path)
    assert run.returncode != 0
    assert "tug.csv, row 14, column 'time_s': got 'nine'; expected" in run.stderr
    assert descriptives.read_bytes() == before
    assert tug.read_text() == TUG.replace("T3,week8,9", "T3,week8,nine")  # raw data untouched


@pytest.mark.slow
def test_results_hold_a_hand_worked_paired_t(finished_run):
    from trialflow.stats import read_results_csv

    results = read_results_csv(finished_run / "results/tiny/tables/results.csv")
    row = results.query(
        "outcome == 'tug_time' and analysis == 'paired_t' and group == 'training'"
    ).iloc[0]
    # training changes: 10-12, 10-13, 9-11, 12-14 = -2, -3, -2, -2: mean -2.25, SD 0.5,
    # SE 0.25, t = -9 on 3 df, 95% CI -2.25 -/+ qt(0.975, 3) * 0.25 = 3.182446305 * 0.25
    assert row["contrast"] == "week8 - baseline"
    assert (row["n"], row["estimate"], row["se"], row["df"]) == (4, -2.25, 0.25, 3)
    assert row["statistic"] == pytest.approx(-9.0)
    assert row["ci_low"] == pytest.approx(-2.25 - 0.795611576, rel=1e-9)
    assert row["ci_high"] == pytest.approx(-2.25 + 0.795611576, rel=1e-9)
    assert set(results["analysis"]) >= {"welch_t", "mann_whitney", "ancova", "mmrm"}


@pytest.mark.slow
def test_tables_and_report_are_written(finished_run):
    tables = finished_run / "results/tiny/tables"
    for stem in ("table1_baseline", "table2_outcomes_by_visit", "table3_tests"):
        for ext in ("csv", "md", "html", "docx"):
            assert (tables / f"{stem}.{ext}").stat().st_size > 0
    report = (finished_run / "results/tiny/report.html").read_text()
    assert "Tiny two-arm study" in report
    assert "Timed Up and Go" in report


@pytest.mark.slow
@pytest.mark.parametrize("cores", ["1", "4"])
def test_a_clean_rerun_is_byte_identical(finished_run, tmp_path, tiny_study, snakemake_run, cores):
    # the first run used --cores 2: parallel jobs and figure workers change no byte
    tiny_study(tmp_path)
    run = snakemake_run(tmp_path, "--cores", cores)
    assert run.returncode == 0, run.stderr[-5000:]
    first = sorted(p.relative_to(finished_run) for p in (finished_run / "results").rglob("*"))
    second = sorted(p.relative_to(tmp_path) for p in (tmp_path / "results").rglob("*"))
    assert first == second
    files = [p for p in first if (finished_run / p).is_file()]
    assert any(p.suffix == ".png" for p in files) and any(p.suffix == ".docx" for p in files)
    different = [
        p for p in files if (finished_run / p).read_bytes() != (tmp_path / p).read_bytes()
    ]
    # provenance.json names the command line (another --directory here); its record of
    # the outputs is the same
    assert different in ([], [Path("results/tiny/provenance.json")])
    manifests = [
        json.loads((d / "results/tiny/provenance.json").read_text())
        for d in (finished_run, tmp_path)
    ]
    assert manifests[0]["outputs"] == manifests[1]["outputs"]
