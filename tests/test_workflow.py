"""End to end: the Snakemake workflow on a tiny study in a temporary directory.

The numbers asserted are worked by hand from the CSVs written here.
"""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from helpers.identity import differing_files, output_files
from helpers.tiny_study import ROOT


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
def test_the_analysis_dataset_is_exported_for_reviewers(finished_run):
    data = finished_run / "results/tiny/data"
    analysis = pd.read_parquet(finished_run / "data/processed/tiny/analysis.parquet")
    exported = pd.read_csv(data / "analysis.csv", dtype={"participant_id": str})
    assert list(exported.columns) == list(analysis.columns)
    assert len(exported) == len(analysis)
    bds = pd.read_csv(data / "adam_bds.csv", keep_default_na=False, na_values=[""])
    bds["ABLFL"] = bds["ABLFL"].fillna("")  # blank off baseline, as ADaM flags are
    u2 = bds.query("USUBJID == 'tiny-U2' and PARAMCD == 'tug_time'")
    # U2's TUG: 12 s at baseline, 11 s at week 8 (hand-written above)
    assert u2[["AVISIT", "AVISITN", "AVAL", "BASE", "ABLFL"]].values.tolist() == [
        ["Baseline", 0.0, 12.0, 12.0, "Y"],
        ["Week 8", 8.0, 11.0, 12.0, ""],
    ]
    assert u2["CHG"].iloc[1] == -1.0 and np.isnan(u2["CHG"].iloc[0])
    assert set(bds["TRT01P"]) == {"Usual care", "Training"}


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
    stems = ("table1_baseline", "table2_outcomes_by_visit", "table3_tests")
    stems += ("responders", "categorical_by_visit", "categorical_shift", "mmrm_appendix")
    for stem in stems:
        for ext in ("csv", "md", "html", "docx"):
            assert (tables / f"{stem}.{ext}").stat().st_size > 0
    assert (tables / "tables.docx").stat().st_size > 0
    report = (finished_run / "results/tiny/report.html").read_text()
    assert "Tiny two-arm study" in report
    assert "Timed Up and Go" in report


@pytest.mark.slow
def test_a_clean_rerun_is_byte_identical(finished_run, tmp_path, tiny_study, snakemake_run):
    tiny_study(tmp_path)
    run = snakemake_run(tmp_path)
    assert run.returncode == 0, run.stderr[-5000:]
    files = output_files(finished_run)
    assert any(p.suffix == ".png" for p in files) and any(p.suffix == ".docx" for p in files)
    assert differing_files(finished_run, tmp_path) == []
    assert differing_files(finished_run, tmp_path, under="data/processed") == []


@pytest.mark.slow
def test_one_and_four_cores_give_byte_identical_outputs(tmp_path, tiny_study, snakemake_run):
    # Outside pinning, a caller's thread settings would reach BLAS: set them high on purpose.
    env = {**os.environ, "OMP_NUM_THREADS": "4", "OPENBLAS_NUM_THREADS": "4"}
    for cores in (1, 4):
        workdir = tmp_path / f"cores{cores}"
        tiny_study(workdir)
        run = snakemake_run(workdir, cores=cores, env=env)
        assert run.returncode == 0, run.stderr[-5000:]
    assert len(output_files(tmp_path / "cores1")) > 30
    for folder in ("results", "data/processed"):
        assert differing_files(tmp_path / "cores1", tmp_path / "cores4", under=folder) == []


PROBE_SCRIPT = """
import json
import os

import numpy  # noqa: F401  (loads OpenBLAS)
from threadpoolctl import threadpool_info

names = ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"]
print(json.dumps({
    "env": {name: os.environ.get(name) for name in names},
    "blas_threads": [pool["num_threads"] for pool in threadpool_info()],
}))
"""


@pytest.mark.slow
def test_numeric_libraries_run_single_threaded_in_a_multithreaded_job(
    tmp_path, tiny_study, snakemake_run
):
    # A job given 4 threads: Snakemake would export OMP_NUM_THREADS=4 etc. to it; the
    # workflow pins them back to 1, and OpenBLAS as loaded by numpy really uses one thread.
    tiny_study(tmp_path)
    (tmp_path / "probe.py").write_text(PROBE_SCRIPT)
    snakefile = tmp_path / "probe.smk"
    snakefile.write_text(
        f'include: "{ROOT / "Snakefile"}"\n\n'
        "rule probe:\n"
        '    output: "probe.json"\n'
        "    threads: 4\n"
        f'    shell: "{sys.executable} probe.py > {{output}}"\n'
    )
    run = snakemake_run(tmp_path, "probe.json", cores=4, snakefile=snakefile)
    assert run.returncode == 0, run.stderr[-5000:]
    probe = json.loads((tmp_path / "probe.json").read_text())
    assert probe["env"] == {
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NUMEXPR_NUM_THREADS": "1",
    }
    assert probe["blas_threads"] and set(probe["blas_threads"]) == {1}


def test_jobs_ask_for_memory_and_time_scaled_from_their_input_size(
    tmp_path, tiny_study, snakemake_run
):
    # validate's inputs: the roster, tug.csv and the grip directory, here padded with 10 MiB.
    # JOB_COSTS["validate"] = 250 MiB + 42 MiB per input MiB, 10 min + 0.2 min per input MiB.
    tiny_study(tmp_path)
    (tmp_path / "raw/tiny/grip/padding.bin").write_bytes(b"\0" * 10 * 2**20)
    mib = sum(p.stat().st_size for p in (tmp_path / "raw/tiny").rglob("*") if p.is_file()) / 2**20
    assert 10 < mib < 10.01
    dry = snakemake_run(tmp_path, "-n")
    assert dry.returncode == 0, dry.stderr[-5000:]
    validate = re.search(r"rule validate:.*?resources: ([^\n]*)", dry.stdout, re.S).group(1)
    assert "mem_mb=671," in validate  # ceil(250 + 42 * 10.00x)
    assert "runtime=13," in validate  # ceil(10 + 0.2 * 10.00x)
    # later jobs' inputs do not exist yet: Snakemake asks again once they do
    score = re.search(r"rule score:.*?resources: ([^\n]*)", dry.stdout, re.S).group(1)
    assert "mem_mb=<TBD>" in score


@pytest.mark.slow
def test_the_plan_reaches_every_output(finished_run):
    """The tiny study's primary analysis (TUG at week 8 by ANCOVA): flagged in results.csv,
    counted in participant_flow.csv, labelled in Table 2, stated in the Methods."""
    from trialflow.stats import read_results_csv

    tables = finished_run / "results/tiny/tables"
    results = read_results_csv(tables / "results.csv")
    primary = results.loc[results["flags"] == "primary"]
    assert primary[["outcome", "visit", "analysis", "contrast"]].values.tolist() == [
        ["tug_time", "week8", "ancova", "training - usual"]
    ]
    # U4 left before week 8: 3 usual-care and 4 training participants in the model
    assert primary["n"].tolist() == [7]
    flow = pd.read_csv(tables / "participant_flow.csv", keep_default_na=False)
    analysed = flow.loc[flow["stage"] == "analysed_primary"].set_index("arm")["n"]
    assert analysed.to_dict() == {"usual": 3, "training": 4}
    withdrawn = flow.loc[(flow["stage"] == "withdrawn") & (flow["arm"] == "usual")]
    assert withdrawn[["n", "reason"]].values.tolist() == [[1, "moved away"]]
    table2 = pd.read_csv(tables / "table2_outcomes_by_visit.csv", dtype=str, keep_default_na=False)
    assert "Primary (ANCOVA)" in set(table2["Analysis plan"])
    assert (tables / "table4_within_arm.csv").exists()
    report = (finished_run / "results/tiny/report.html").read_text()
    assert "Estimand of the primary analysis" in report
