"""End to end: a run that fails on bad input or a bad config keeps every earlier output
byte-identical and still reports every problem; degenerate but legal data exit 0
(issue 10, classes 2, 3 and 7)."""

import hashlib
import shutil
import textwrap

import pandas as pd
import pytest
import yaml

OUTPUT_DIRS = ("results", "data/processed")


def _outputs(workdir):
    """Every output file (relative path -> SHA-256)."""
    found = {}
    for top in OUTPUT_DIRS:
        for path in sorted((workdir / top).rglob("*")):
            if path.is_file():
                found[path.relative_to(workdir).as_posix()] = hashlib.sha256(
                    path.read_bytes()
                ).hexdigest()
    return found


@pytest.fixture(scope="module")
def finished(tmp_path_factory, tiny_study, snakemake_run):
    workdir = tmp_path_factory.mktemp("finished")
    tiny_study(workdir)
    run = snakemake_run(workdir)
    assert run.returncode == 0, run.stderr[-5000:]
    return workdir


@pytest.fixture
def copy(finished, tmp_path):
    workdir = tmp_path / "run"
    shutil.copytree(finished, workdir, symlinks=True)
    return workdir


@pytest.mark.slow
def test_a_failed_rerun_keeps_every_earlier_output_and_reports_the_problems(
    copy, snakemake_run, tiny_raw
):
    before = _outputs(copy)
    assert any(p.endswith("data_quality.csv") for p in before)
    assert any(p.startswith("data/processed/tiny/validated/") for p in before)
    raw = copy / "raw" / "tiny"
    bad_tug = tiny_raw["tug"].replace("T3,week8,9", "T3,week8,nine")
    (raw / "tug.csv").write_text(bad_tug)
    bad_grip = "participant_id,visit,grip_kg\nT1,baseline,20,\nT1,week8,24\n"
    (raw / "grip" / "T1.csv").write_text(bad_grip)
    run = snakemake_run(copy)
    assert run.returncode == 1
    assert "raw/tiny/tug.csv, row 14, column 'time_s': got 'nine'; expected" in run.stderr
    assert (
        "raw/tiny/grip/T1.csv, row 2; expected 3 fields as in the header; got 4: the line "
        "ends with 1 comma(s) too many" in run.stderr
    )
    assert "earlier results are kept" in run.stderr
    assert "Traceback" not in run.stderr
    assert _outputs(copy) == before  # every earlier output, byte for byte
    report = (copy / "logs" / "tiny" / "input_problems.txt").read_text()
    assert len(report.splitlines()) == 2
    assert (raw / "tug.csv").read_text() == bad_tug  # raw data untouched
    assert (raw / "grip" / "T1.csv").read_text() == bad_grip
    # a dry run says the same and changes nothing either
    dry = snakemake_run(copy, "-n")
    assert dry.returncode == 1 and "got 'nine'" in dry.stderr
    assert _outputs(copy) == before
    # fixed, the run goes through and the old report is gone
    (raw / "tug.csv").write_text(tiny_raw["tug"])
    (raw / "grip" / "T1.csv").write_text(tiny_raw["grip"]["T1.csv"])
    run = snakemake_run(copy)
    assert run.returncode == 0, run.stderr[-3000:]
    assert not (copy / "logs" / "tiny" / "input_problems.txt").exists()
    assert (
        _outputs(copy)["results/tiny/tables/descriptives.csv"]
        == (before["results/tiny/tables/descriptives.csv"])
    )


@pytest.mark.slow
def test_a_bad_config_stops_before_anything_with_only_its_messages(copy, snakemake_run):
    before = _outputs(copy)
    config = (copy / "config.yaml").read_text()
    config = config.replace("tug: {type: tug}", "tug: {type: tug, options: {missing_code: [9]}}")
    config = config.replace("design: parallel", "design: parallel\n    design: parallel")
    (copy / "config.yaml").write_text(config)
    run = snakemake_run(copy)
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert lines[0] == "trialflow: 2 config problem(s); nothing was run:"
    assert lines[1] == (
        "  - config.yaml, line 6: the key 'design' appears twice in the same mapping (first on "
        "line 5); remove one copy (YAML would silently keep the last)"
    )
    assert lines[2].startswith("  - studies.tiny.instruments.tug.options.missing_code: ")
    assert len(lines) == 3  # no traceback, no Snakemake validation dump
    assert _outputs(copy) == before


@pytest.mark.slow
def test_a_configfile_is_checked_the_same_way(copy, snakemake_run, tmp_path):
    other = tmp_path / "other.yaml"
    config = yaml.safe_load((copy / "config.yaml").read_text())
    config["studies"]["tiny"]["analysis"] = {"primary_visit": "baseline"}
    other.write_text(yaml.safe_dump(config, sort_keys=False))
    run = snakemake_run(copy, "--configfile", str(other))
    assert run.returncode == 1
    assert "studies.tiny.analysis.primary_visit: 'baseline' is the baseline visit" in run.stderr
    assert "Traceback" not in run.stderr


DEGENERATE_CONFIG = """
studies:
  tiny:
    title: Degenerate but legal
    design: parallel
    data_dir: raw/tiny
    arms: [{id: usual, label: Usual care}, {id: training, label: Training}]
    visits:
      - {id: baseline, label: Baseline, week: 0, role: baseline}
      - {id: week8, label: Week 8, week: 8, role: end_of_treatment}
    instruments:
      tug: {type: tug}
      grip:
        type: measures
        measures:
          grip_kg: {label: Grip strength, unit: kg, higher_is_better: true, min: 0}
    covariates: [age]
    missing_codes: [-99]
    analysis: {exploratory_only: true}
    figures: {formats: [png, svg]}   # SVG: the "No data" text is searchable
"""


@pytest.mark.slow
def test_degenerate_but_legal_data_exit_zero_with_empty_rows_notes_and_no_data_figures(
    tmp_path, tiny_study, snakemake_run, tiny_raw
):
    tiny_study(tmp_path)
    (tmp_path / "config.yaml").write_text(textwrap.dedent(DEGENERATE_CONFIG))
    raw = tmp_path / "raw" / "tiny"
    (raw / "tug.csv").write_text("participant_id,visit,time_s\n")  # a header and no rows
    for name in ("T1.csv", "T2.csv"):  # the training arm: nobody came back at week 8
        (raw / "grip" / name).write_text("\n".join(tiny_raw["grip"][name].splitlines()[:2]) + "\n")
    (raw / "grip" / "U3.CSV").write_text("participant_id,visit,grip_kg\nU3,baseline,-99\n")
    (raw / "grip" / "~$U1.csv").write_bytes(b"\x00lock")
    run = snakemake_run(tmp_path)
    assert run.returncode == 0, run.stderr[-5000:]
    tables = tmp_path / "results" / "tiny" / "tables"
    descriptives = pd.read_csv(tables / "descriptives.csv")
    tug = descriptives[descriptives["outcome"] == "tug_time"]
    assert tug["n"].tolist() == [0, 0, 0, 0]
    results = pd.read_csv(tables / "results.csv")
    tug_rows = results[results["outcome"] == "tug_time"]
    assert len(tug_rows) and tug_rows["estimate"].isna().all() and tug_rows["note"].notna().all()
    grip_week8 = results.query("outcome == 'grip_grip_kg' and visit == 'week8'")
    assert grip_week8.query("analysis == 'welch_t'")["estimate"].isna().all()
    assert "Timed Up and Go" in (tables / "table2_outcomes_by_visit.csv").read_text()
    svg = (tmp_path / "results/tiny/figures/trajectory/tug_time.svg").read_text()
    assert "No data" in svg
    quality = pd.read_csv(tables / "data_quality.csv", keep_default_na=False)
    skipped = quality[quality["finding"] == "skipped_file"]
    assert skipped[["instrument", "value"]].values.tolist() == [["grip", "~$U1.csv"]]
    assert skipped["detail"].iloc[0].startswith("not read: an Excel lock file")
    coded = quality[quality["finding"] == "missing_code"]
    assert coded[["instrument", "visit", "column", "value", "count"]].values.tolist() == [
        ["grip", "baseline", "grip_kg", "-99", "1"]
    ]
    counts = quality[quality["finding"] == ""].set_index(["instrument", "visit"])
    assert counts.loc[("grip", "baseline"), "files"] == "5"  # U3.CSV read, the lock file not
    assert counts.loc[("tug", "baseline"), "rows"] == "0"
