"""``trialflow verify``: rerun a study from its provenance manifest and compare every output.

The rerun happens in a fresh temporary directory: the recorded config (the fully resolved
study) becomes that directory's only config, the recorded input files are copied there at
their recorded relative paths (data outside the working directory is read where it is), and
the workflow runs with ``snakemake --directory TMP -s <Snakefile> --configfile
TMP/config.yaml``. What it prints, one line per item, in this order:

1. package versions that differ from the recorded environment (they explain the rest);
2. every recorded input: ``identical``, ``different`` or ``missing`` now;
3. every output: ``identical``, ``different``, ``missing`` (recorded, not produced) or
   ``extra`` (produced, not recorded).

Outputs are compared by their reproducible hash (the report's Provenance section, which
names the commit and environment, is left out; see :mod:`trialflow.provenance`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from trialflow.provenance import (
    COMMAND_VARIABLE,
    MANIFEST_NAME,
    expand_files,
    output_record,
    read_provenance,
    sha256_file,
)

IDENTICAL, DIFFERENT, MISSING, EXTRA = "identical", "different", "missing", "extra"


@dataclass(frozen=True)
class Check:
    """One compared item: ``kind`` is ``package``, ``input`` or ``output``."""

    kind: str
    path: str
    status: str
    detail: str = ""

    def line(self) -> str:
        detail = f"  ({self.detail})" if self.detail else ""
        return f"{self.kind:<7} {self.status:<9} {self.path}{detail}"


def package_checks(recorded: Iterable[str], installed: Iterable[str]) -> list[Check]:
    """Distributions whose version differs, or that exist on one side only."""
    old = dict(_split(line) for line in recorded)
    new = dict(_split(line) for line in installed)
    checks = []
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            detail = f"recorded {old.get(name) or 'absent'}, installed {new.get(name) or 'absent'}"
            checks.append(Check("package", name, DIFFERENT, detail))
    return checks


def _split(line: str) -> tuple[str, str]:
    name, _, version = line.partition("==")
    return name.lower(), version


def input_checks(inputs: Mapping[str, Mapping[str, Any]], root: Path) -> list[Check]:
    """Each recorded input file now: same hash, another hash, or gone."""
    checks = []
    for path, record in inputs.items():
        file = Path(root, path)
        if not file.is_file():
            checks.append(Check("input", path, MISSING))
        elif sha256_file(file) != record["sha256"]:
            checks.append(Check("input", path, DIFFERENT, "content changed since the run"))
        else:
            checks.append(Check("input", path, IDENTICAL))
    return checks


def output_checks(
    outputs: Mapping[str, Mapping[str, Any]], rundir: Path, study_id: str
) -> list[Check]:
    """Each recorded output against the rerun's file, then the rerun's unrecorded files."""
    checks = []
    for path, record in outputs.items():
        file = rundir / path
        if not file.is_file():
            checks.append(Check("output", path, MISSING))
            continue
        same = output_record(file)["reproducible_sha256"] == record["reproducible_sha256"]
        checks.append(Check("output", path, IDENTICAL if same else DIFFERENT))
    produced = expand_files([rundir / "results" / study_id, rundir / "data/processed" / study_id])
    for file in produced:
        path = file.relative_to(rundir).as_posix()
        if path not in outputs and file.name != MANIFEST_NAME:
            checks.append(Check("output", path, EXTRA))
    return checks


def default_snakefile() -> Path:
    """The Snakefile of the checkout this trialflow package runs from."""
    candidate = Path(__file__).resolve().parents[2] / "Snakefile"
    if not candidate.is_file():
        raise FileNotFoundError(
            "no Snakefile beside this trialflow installation; pass --snakefile PATH"
        )
    return candidate


def prepare_rundir(manifest: Mapping[str, Any], root: Path, rundir: Path) -> Path:
    """Write the recorded config and copy the recorded inputs into ``rundir``."""
    config = rundir / "config.yaml"
    config.write_text(yaml.safe_dump(manifest["config"], sort_keys=False), encoding="utf-8")
    for path in manifest["inputs"]:
        source = Path(root, path)
        if Path(path).is_absolute() or not source.is_file():
            continue  # external data is read in place; a missing file fails the rerun
        target = rundir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    return config


def rerun(
    manifest: Mapping[str, Any], rundir: Path, *, snakefile: Path, jobs: int
) -> subprocess.CompletedProcess:
    """Run the workflow for the manifest's study in ``rundir`` (prepared beforehand).

    Every job the manifest depends on runs, but not the ``provenance`` job itself
    (``--omit-from``): the rerun's outputs are hashed here, and a second manifest would
    only repeat that work and list the environment again.
    """
    target = f"results/{manifest['study']}/{MANIFEST_NAME}"
    command = [sys.executable, "-m", "snakemake", "-s", str(snakefile)]
    command += ["--directory", str(rundir), "--configfile", str(rundir / "config.yaml")]
    command += ["--cores", str(jobs), "--omit-from", "provenance", "--", target]
    env = {k: v for k, v in os.environ.items() if k != COMMAND_VARIABLE}
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


def verify(
    manifest_path: str | Path,
    *,
    jobs: int = 1,
    snakefile: str | Path | None = None,
    data_root: str | Path | None = None,
    keep: str | Path | None = None,
    echo: Callable[[str], None] = print,
) -> int:
    """Rerun a study from its manifest and report every difference; 0 when all identical.

    Parameters
    ----------
    manifest_path : path-like
        ``results/<study>/provenance.json`` of the run to check.
    jobs : int
        Cores for the rerun.
    snakefile : path-like, optional
        Defaults to the Snakefile of the checkout this package is installed from.
    data_root : path-like, optional
        Where the recorded relative input paths start: the run's working directory, by
        default the directory that holds ``results/<study>/provenance.json``.
    keep : path-like, optional
        Rerun in this (new or empty) directory and keep it, instead of a temporary one.
    echo : callable
        Receives each output line.
    """
    from trialflow.provenance import distributions

    manifest_path = Path(manifest_path).resolve()
    manifest = read_provenance(manifest_path)
    root = Path(data_root).resolve() if data_root else manifest_path.parents[2]
    snakefile = Path(snakefile).resolve() if snakefile else default_snakefile()

    packages = package_checks(manifest["environment"]["distributions"], distributions())
    inputs = input_checks(manifest["inputs"], root)
    for check in packages + inputs:
        echo(check.line())

    with tempfile.TemporaryDirectory(prefix="trialflow-verify-") as scratch:
        rundir = Path(keep).resolve() if keep else Path(scratch)
        rundir.mkdir(parents=True, exist_ok=True)
        prepare_rundir(manifest, root, rundir)
        run = rerun(manifest, rundir, snakefile=snakefile, jobs=jobs)
        if run.returncode != 0:
            echo(run.stderr[-4000:])
            echo(f"rerun failed (exit {run.returncode}); outputs compared as far as produced")
        outputs = output_checks(manifest["outputs"], rundir, manifest["study"])
    for check in outputs:
        echo(check.line())
    failed = [c for c in outputs if c.status != IDENTICAL]
    echo(
        f"{len(outputs) - len(failed)} of {len(outputs)} outputs identical; "
        f"{sum(c.status != IDENTICAL for c in inputs)} input(s) and "
        f"{len(packages)} package(s) differ from the record"
    )
    return 0 if not failed and run.returncode == 0 else 1
