"""The config is an input: each edit reruns exactly the stages that read the edited key.

A finished run of the tiny study is edited one way at a time; the dry run must list exactly
the expected rules (every rule takes its config slice as ``params:``, see
``trialflow.stage_config``), and edits that do not change the analysis rerun nothing.
"""

import os
import re
import shutil

import pytest
import yaml

INGEST = {"validate", "score", "assemble", "descriptives"}
ANALYSIS = {"analyse", "figures", "tables", "report", "provenance"}
READERS = {"figures", "tables", "report", "provenance"}
FIGURES = {"figures", "report", "provenance"}
EVERYTHING = INGEST | ANALYSIS


def _set(path):
    """An edit that sets the key at ``path`` (a tuple of keys) of the tiny study."""

    def edit(study, value):
        node = study
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value

    return edit


def _reorder(study):
    reordered = {key: study[key] for key in reversed(list(study))}
    reordered["instruments"]["grip"] = dict(reversed(list(study["instruments"]["grip"].items())))
    return reordered


EDITS = {
    # analysis options: analyse and what reads results
    "multiplicity method": (
        lambda s: _set(("analysis", "multiplicity", "method"))(s, "none"),
        ANALYSIS,
    ),
    "test selection": (lambda s: _set(("analysis", "test_selection"))(s, "parametric"), ANALYSIS),
    "alpha": (lambda s: _set(("analysis", "alpha"))(s, 0.1), ANALYSIS),
    "minimal important difference": (
        lambda s: _set(("analysis", "minimal_important_difference"))(s, {"tug_time": 1.0}),
        ANALYSIS,
    ),
    "MMRM covariance order": (
        lambda s: _set(("analysis", "mmrm_covariance"))(s, ["compound_symmetry"]),
        ANALYSIS,
    ),
    # what readers see: tables, figures, report
    "arm label": (lambda s: s["arms"][1].update(label="Strength training"), READERS),
    "visit label": (lambda s: s["visits"][1].update(label="Week eight"), READERS),
    "title": (lambda s: s.update(title="A tiny trial"), READERS),
    "simulated flag": (lambda s: s.update(simulated=True), READERS),
    # how figures are drawn: figures, and the report and provenance that read them
    "figure formats": (lambda s: _set(("figures", "formats"))(s, ["png", "svg"]), FIGURES),
    "trajectory sample": (lambda s: _set(("figures", "trajectory_sample"))(s, 5), FIGURES),
    # what the raw files must hold: from validate on
    "instrument option": (
        lambda s: s["instruments"]["grip"]["measures"]["grip_kg"].update(max=90),
        EVERYTHING,
    ),
    "covariates": (lambda s: s.update(covariates=[]), EVERYTHING),
    # no change to the analysis: nothing
    "reordered keys": (None, set()),
    "spelled-out defaults": (
        lambda s: s.update(
            analysis={"primary_visit": "week8", "test_selection": "auto", "alpha": 0.05},
            figures={"formats": ["png"], "dpi": 300, "trajectory_sample": 200, "seed": 1},
        ),
        set(),
    ),
}


def planned_rules(output: str) -> set[str]:
    """The rules of a dry run's "Job stats" table, without the ``all`` target."""
    if "Nothing to be done" in output:
        return set()
    table = output.split("Job stats:", 1)[1].split("total", 1)[0]
    rules = {m.group(1) for m in re.finditer(r"^(\w+)\s+\d+\s*$", table, flags=re.MULTILINE)}
    return rules - {"all"}


@pytest.fixture(scope="module")
def finished(tmp_path_factory, tiny_study, snakemake_run):
    workdir = tmp_path_factory.mktemp("triggers")
    tiny_study(workdir)
    run = snakemake_run(workdir)
    assert run.returncode == 0, run.stderr[-5000:]
    return workdir


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EDITS))
def test_a_config_edit_reruns_exactly_its_stages(finished, snakemake_run, tmp_path, name):
    edit, expected = EDITS[name]
    config = yaml.safe_load((finished / "config.yaml").read_text())
    study = config["studies"]["tiny"]
    if edit is None:
        config["studies"]["tiny"] = _reorder(study)
    else:
        edit(study)
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(config, sort_keys=False))
    dry = snakemake_run(finished, "-n", "--configfile", str(edited))
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert planned_rules(dry.stdout + dry.stderr) == expected


@pytest.mark.slow
def test_a_corrected_file_with_an_older_mtime_is_rerun(finished, snakemake_run, tmp_path):
    # restored from an archive (cp -p): new content, old modification time
    workdir = tmp_path / "copy"
    shutil.copytree(finished, workdir, symlinks=True)
    tug = workdir / "raw" / "tiny" / "tug.csv"
    stat = tug.stat()
    tug.write_text(tug.read_text().replace("T3,week8,9", "T3,week8,9.5"))
    os.utime(tug, ns=(stat.st_atime_ns, stat.st_mtime_ns - 10**12))
    dry = snakemake_run(workdir, "-n")
    assert planned_rules(dry.stdout + dry.stderr) == EVERYTHING


@pytest.mark.slow
def test_unchanged_config_reruns_nothing(finished, snakemake_run):
    dry = snakemake_run(finished, "-n")
    assert "Nothing to be done" in dry.stdout + dry.stderr
