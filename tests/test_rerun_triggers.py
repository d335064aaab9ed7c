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
# the tiny study is parallel with tables.within_arm (default): Table 4 has a rule of its own
READERS = {"figures", "tables", "within_arm_table", "report", "provenance"}
ANALYSIS = {"analyse"} | READERS
# the tables quote the config hash: a figures edit changes it too
FIGURES = READERS
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
    "test selection": (lambda s: _set(("analysis", "test_selection"))(s, "auto"), ANALYSIS),
    "alpha": (lambda s: _set(("analysis", "alpha"))(s, 0.1), ANALYSIS),
    "minimal important difference": (
        lambda s: _set(("analysis", "minimal_important_difference"))(s, {"tug_time": 1.0}),
        ANALYSIS,
    ),
    "MMRM covariance order": (
        lambda s: _set(("analysis", "mmrm", "covariance"))(s, ["compound_symmetry"]),
        ANALYSIS,
    ),
    "MMRM baseline by visit": (
        lambda s: _set(("analysis", "mmrm", "baseline_by_visit"))(s, True),
        ANALYSIS,
    ),
    # the analysis plan
    "primary analysis": (
        lambda s: _set(("analysis", "primary", "outcome"))(s, "grip_grip_kg"),
        ANALYSIS,
    ),
    "estimand": (
        lambda s: _set(("analysis", "primary", "estimand"))(
            s, {"intercurrent_events": [{"type": "rescue", "strategy": "treatment_policy"}]}
        ),
        ANALYSIS,
    ),
    "key secondary": (
        lambda s: _set(("analysis", "key_secondary"))(
            s, [{"outcome": "grip_grip_kg", "visit": "week8", "method": "mmrm"}]
        ),
        ANALYSIS,
    ),
    "testing strategy": (lambda s: _set(("analysis", "testing"))(s, "holm"), ANALYSIS),
    "between test": (lambda s: _set(("analysis", "between_test"))(s, "student"), ANALYSIS),
    "responder missing policy": (
        lambda s: _set(("analysis", "responders", "missing"))(s, "exclude"),
        ANALYSIS,
    ),
    "analysis set": (
        lambda s: _set(("analysis", "analysis_set"))(s, "completers"),
        ANALYSIS,
    ),
    # the participant flow's screening counts: analyse writes participant_flow.csv
    "flow screening counts": (
        lambda s: s.update(flow={"screened": 12, "excluded": {"declined": 4}}),
        ANALYSIS,
    ),
    # what the tables show: readers only
    "table1 variables": (lambda s: s.update(table1={"variables": ["age"]}), READERS),
    "within-arm table off": (
        lambda s: s.update(tables={"within_arm": False}),
        READERS - {"within_arm_table"},
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
    "covariate type": (
        lambda s: s.update(covariates=[{"name": "age", "type": "categorical"}]),
        EVERYTHING,
    ),
    "missing codes": (lambda s: s.update(missing_codes=[999]), EVERYTHING),
    "instrument missing codes": (
        lambda s: s["instruments"]["tug"].update(options={"missing_codes": [99]}),
        EVERYTHING,
    ),
    "measure missing codes": (
        lambda s: s["instruments"]["grip"]["measures"]["grip_kg"].update(missing_codes=[-1]),
        EVERYTHING,
    ),
    "allowed columns": (lambda s: s.update(allow_columns=["initials"]), EVERYTHING),
    "external data allowed": (lambda s: s.update(allow_external_data=True), EVERYTHING),
    # no change to the analysis: nothing
    "reordered keys": (None, set()),
    "spelled-out defaults": (
        lambda s: s.update(
            analysis={
                **s["analysis"],
                "primary_visit": "week8",
                "test_selection": "parametric",
                "between_test": "welch",
                "alpha": 0.05,
                "testing": "fixed_sequence",
                "exploratory_only": False,
                "analysis_set": "full_analysis",
                "sensitivity_sets": [],
                "responders": {"missing": "non_responder", "thresholds": {}},
                "mmrm": {
                    "covariance": ["unstructured", "toeplitz", "ar1", "compound_symmetry"],
                    "baseline_by_visit": False,
                    "tolerance": 1e-8,
                },
                "multiplicity": {"method": "holm", "family": "primary_visit"},
            },
            tables={"within_arm": True},
            flow={},
            covariates=[{"name": "age", "type": "numeric"}],
            missing_codes=[],
            allow_columns=[],
            allow_external_data=False,
            figures={"formats": ["png"], "dpi": 300, "trajectory_sample": 200, "seed": 1},
        ),
        set(),
    ),
    "empty instrument missing codes": (
        lambda s: s["instruments"]["tug"].update(options={"missing_codes": []}),
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
