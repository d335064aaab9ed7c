"""provenance.json, the report's Provenance section, and ``trialflow verify``."""

import hashlib
import json
import shutil
import subprocess
import sys

import pytest
import yaml

from trialflow.provenance import (
    display_path,
    output_record,
    read_provenance,
    reproducible_bytes,
    sha256_file,
)
from trialflow.verify import package_checks


def test_sha256_of_a_known_text(tmp_path):
    # FIPS 180-2, appendix B.1: SHA-256("abc")
    file = tmp_path / "abc.txt"
    file.write_bytes(b"abc")
    assert sha256_file(file) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_paths_are_relative_inside_the_working_directory(tmp_path):
    assert display_path(tmp_path / "data" / "x.csv", tmp_path) == "data/x.csv"
    outside = tmp_path.parent / "elsewhere.csv"
    assert display_path(outside, tmp_path) == outside.resolve().as_posix()


def test_reproducible_bytes_leave_out_only_the_provenance_section():
    page = (
        b"<p>a</p>\n<!-- trialflow:provenance:start -->\n<section>commit 1234</section>\n"
        b"<!-- trialflow:provenance:end -->\n</body>"
    )
    assert reproducible_bytes(page) == b"<p>a</p>\n\n</body>"
    assert reproducible_bytes(b"no markers") == b"no markers"


def test_output_record_hashes(tmp_path):
    file = tmp_path / "r.html"
    file.write_bytes(b"x<!-- trialflow:provenance:start -->y<!-- trialflow:provenance:end -->")
    record = output_record(file)
    assert record["size"] == 1 + 35 + 1 + 33
    assert record["sha256"] == sha256_file(file)
    assert record["reproducible_sha256"] == (
        "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"  # SHA-256("x")
    )


def test_package_differences_name_both_versions():
    checks = package_checks(["numpy==2.4.6", "pandas==3.1.1"], ["numpy==2.4.7", "pandas==3.1.1"])
    assert [c.line() for c in checks] == [
        "package different numpy  (recorded 2.4.6, installed 2.4.7)"
    ]


# -- the workflow -------------------------------------------------------------------------


def _verify(manifest, *args):
    command = [sys.executable, "-m", "trialflow", "verify", str(manifest), "--jobs", "2", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def run(tmp_path_factory, tiny_study, snakemake_run):
    workdir = tmp_path_factory.mktemp("provenance")
    tiny_study(workdir)
    done = snakemake_run(workdir)
    assert done.returncode == 0, done.stderr[-5000:]
    return workdir


@pytest.mark.slow
def test_manifest_records_config_inputs_outputs_and_environment(run, tiny_raw):
    manifest = read_provenance(run / "results/tiny/provenance.json")
    assert manifest["study"] == "tiny"
    study = manifest["config"]["studies"]["tiny"]
    assert list(study["instruments"]) == ["tug", "grip"]  # config order kept
    assert study["analysis"]["multiplicity"] == {"method": "holm", "family": "primary_visit"}
    assert set(manifest["inputs"]) == {
        "raw/tiny/participants.csv",
        "raw/tiny/tug.csv",
        "raw/tiny/grip/T1.csv",
        "raw/tiny/grip/T2.csv",
        "raw/tiny/grip/U1.csv",
        "raw/tiny/grip/U2.csv",
    }
    tug = manifest["inputs"]["raw/tiny/tug.csv"]
    raw = tiny_raw["tug"].encode()
    assert tug == {"sha256": hashlib.sha256(raw).hexdigest(), "size": len(raw)}
    outputs = manifest["outputs"]
    assert "results/tiny/tables/results.csv" in outputs
    assert "data/processed/tiny/analysis.parquet" in outputs
    assert "results/tiny/report.html" in outputs
    assert not any(path.startswith("logs/") or "provenance" in path for path in outputs)
    for path, record in outputs.items():
        assert record["sha256"] == sha256_file(run / path)
    assert any(line.startswith("pandas==") for line in manifest["environment"]["distributions"])
    assert manifest["trialflow"]["version"]
    assert manifest["snakemake_command"].startswith("snakemake ")
    # the report shows the same config hash in its Provenance section
    report = (run / "results/tiny/report.html").read_text()
    assert manifest["config_sha256"] in report


@pytest.mark.slow
def test_two_clean_runs_record_equal_output_hashes(run, tmp_path, tiny_study, snakemake_run):
    tiny_study(tmp_path)
    assert snakemake_run(tmp_path).returncode == 0
    first = read_provenance(run / "results/tiny/provenance.json")
    second = read_provenance(tmp_path / "results/tiny/provenance.json")
    assert first["outputs"] == second["outputs"]
    assert first["inputs"] == second["inputs"]
    assert first["config_sha256"] == second["config_sha256"]


@pytest.mark.slow
def test_verify_of_an_untouched_run_exits_0(run):
    checked = _verify(run / "results/tiny/provenance.json")
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
    lines = checked.stdout.splitlines()
    assert all(" identical " in line for line in lines if line.startswith(("input", "output")))
    recorded = read_provenance(run / "results/tiny/provenance.json")["outputs"]
    assert sum(line.startswith("output ") for line in lines) == len(recorded)


@pytest.mark.slow
def test_verify_names_exactly_the_outputs_an_edited_value_changed(run, tmp_path, snakemake_run):
    first = tmp_path / "first.json"
    shutil.copy(run / "results/tiny/provenance.json", first)
    workdir = tmp_path / "edited"
    shutil.copytree(run, workdir, symlinks=True)
    tug = workdir / "raw/tiny/tug.csv"
    tug.write_text(tug.read_text().replace("T3,week8,9", "T3,week8,9.5"))
    assert snakemake_run(workdir).returncode == 0
    second = read_provenance(workdir / "results/tiny/provenance.json")
    recorded = read_provenance(first)["outputs"]
    changed = {
        path
        for path, record in second["outputs"].items()
        if record["reproducible_sha256"] != recorded[path]["reproducible_sha256"]
    }
    assert "results/tiny/tables/results.csv" in changed
    assert "results/tiny/tables/data_quality.csv" not in changed

    checked = _verify(first, "--data-root", str(workdir))
    assert checked.returncode == 1
    lines = checked.stdout.splitlines()
    different = {line.split()[-1] for line in lines if line.startswith("output  different")}
    assert different == changed
    # the changed input is named before any output
    edited = next(i for i, line in enumerate(lines) if "raw/tiny/tug.csv" in line)
    assert "different" in lines[edited]
    assert edited < min(i for i, line in enumerate(lines) if line.startswith("output"))


@pytest.mark.slow
def test_a_configfile_replaces_config_yaml(run, snakemake_run, tmp_path):
    # config.yaml of the run names study "tiny"; --configfile names only "other"
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["studies"] = {"other": config["studies"]["tiny"]}
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump(config))
    dry = snakemake_run(run, "-n", "--configfile", str(other))
    text = dry.stdout + dry.stderr
    assert dry.returncode == 0, text[-3000:]
    assert "study=other" in text
    assert "study=tiny" not in text


@pytest.mark.slow
def test_report_and_tables_name_the_config_hash(run):
    manifest = read_provenance(run / "results/tiny/provenance.json")
    digest = manifest["config_sha256"]
    for name in ("table2_outcomes_by_visit.md", "table2_outcomes_by_visit.html"):
        assert digest[:12] in (run / "results/tiny/tables" / name).read_text()
    assert digest not in (run / "results/tiny/tables/results.csv").read_text()
    assert json.loads((run / "results/tiny/provenance.json").read_text())["format_version"] == 1
