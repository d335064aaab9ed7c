"""Check every study's raw inputs before Snakemake starts a job, so bad input costs no result.

Snakemake removes a job's existing outputs before it runs the job, so a ``validate`` job
that fails on bad input would already have deleted the previous ``data_quality.csv`` and
``validated/`` directory. The workflow therefore validates the inputs while it builds the
DAG (:func:`exit_on_input_problems`, called from ``workflow/rules/common.smk``): when a
study's inputs have problems it prints them, writes them to
``logs/<study>/input_problems.txt`` (outside every rule's outputs) and exits 1 before any
job starts, so every earlier output stays as it was.

A study whose inputs passed is not validated again until they change: the check is keyed
by the SHA-256 of every raw file, the validate stage's config slice and trialflow's own
code, and the key of the last clean check is kept in ``.snakemake/trialflow/``. What a clean
check validated is left for the study's ``validate`` job (:mod:`trialflow.validated_store`),
which then does not validate the same files a second time.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from trialflow.config import Study
from trialflow.errors import InputError, InputProblem
from trialflow.stage_config import stage_params, study_from_params
from trialflow.validate import validate_inputs, with_output_labels
from trialflow.validated_store import STAGED_DIR, stage

__all__ = ["PROBLEMS_FILE", "STATE_DIR", "check_key", "exit_on_input_problems", "study_problems"]

#: where the key of each study's last clean check is kept
STATE_DIR = Path(".snakemake") / "trialflow" / "inputs_checked"
#: the report of a failed check, per study, under ``logs/<study>/``
PROBLEMS_FILE = "input_problems.txt"
#: problems shown on the terminal per study (all of them are in the report file)
SHOWN = 50


def code_digest() -> str:
    """SHA-256 of trialflow's own source and definition files (a new check on new code)."""
    package = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".yaml") and path.is_file():
            digest.update(path.relative_to(package).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def check_key(validate_params: str, input_hashes: str) -> str:
    """What a clean check of a study depends on: its validate stage's config slice (the
    validate job's ``params.study``), its raw files (``params.input_hashes``) and the code."""
    digest = hashlib.sha256()
    for part in (input_hashes, validate_params, code_digest()):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def study_problems(
    study: Study, key: str | None = None, staged: str | Path = STAGED_DIR
) -> list[InputProblem]:
    """Every input problem of one study (empty when its inputs are valid).

    With a check ``key``, valid inputs are also staged for the validate job under ``staged``:
    validated from the study its job rebuilds from the validate stage's config slice, so
    that the files are byte for byte the job's own.
    """
    as_job_sees_it = study_from_params(stage_params(study, "validate"))
    try:
        validated = validate_inputs(as_job_sees_it)
    except InputError as error:
        return error.problems
    if key is not None:
        stage(with_output_labels(validated, as_job_sees_it), study.id, key, staged)
    return []


def exit_on_input_problems(
    studies: Mapping[str, Study],
    input_hashes: Callable[[str], str],
    *,
    state_dir: str | Path = STATE_DIR,
    log_dir: str | Path = "logs",
) -> None:
    """Validate the inputs of every study whose inputs changed since their last clean check;
    on any problem print them all, write each study's to ``logs/<study>/input_problems.txt``
    and exit 1 (before Snakemake has touched an output).

    Parameters
    ----------
    studies : mapping of str to Study
    input_hashes : callable
        Study id -> canonical JSON of its raw files' SHA-256 (the ``validate`` rule's param).
    """
    state_dir, log_dir = Path(state_dir), Path(log_dir)
    failed: dict[str, list[InputProblem]] = {}
    keys = {}
    for study_id, study in studies.items():
        key = check_key(stage_params(study, "validate"), input_hashes(study_id))
        marker = state_dir / f"{study_id}.sha256"
        if not (marker.is_file() and marker.read_text(encoding="utf-8") == key):
            keys[study_id] = key
    found = _problems_of(studies, keys, state_dir.parent / STAGED_DIR.name)
    for study_id, key in keys.items():
        problems = found[study_id]
        marker = state_dir / f"{study_id}.sha256"
        report = log_dir / study_id / PROBLEMS_FILE
        if problems:
            failed[study_id] = problems
            report.parent.mkdir(parents=True, exist_ok=True)
            report.write_text("".join(f"{p}\n" for p in problems), encoding="utf-8")
            marker.unlink(missing_ok=True)
        else:
            report.unlink(missing_ok=True)
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(key, encoding="utf-8")
    if failed:
        print(problems_message(failed, log_dir), file=sys.stderr)
        sys.exit(1)


def _problems_of(
    studies: Mapping[str, Study], keys: Mapping[str, str], staged: Path
) -> dict[str, list[InputProblem]]:
    """:func:`study_problems` of the studies in ``keys``, each in a child process, as many at
    once as there are CPUs: the studies are checked side by side, and the memory of reading
    them goes back to the system before Snakemake runs its jobs (this runs in its main
    process)."""
    if not keys:
        return {}
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    workers = min(len(keys), os.cpu_count() or 1)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {
            study_id: pool.submit(study_problems, studies[study_id], key, staged)
            for study_id, key in keys.items()
        }
        return {study_id: future.result() for study_id, future in futures.items()}


def problems_message(failed: Mapping[str, list[InputProblem]], log_dir: str | Path) -> str:
    """The terminal message of a failed check: every study's problems (the first
    :data:`SHOWN` of each) and where the full lists are."""
    lines = ["trialflow: input problems; nothing was run and earlier results are kept."]
    for study_id, problems in failed.items():
        lines.append(f"Study {study_id}: {len(problems)} input problem(s):")
        lines += [f"  - {p}" for p in problems[:SHOWN]]
        if len(problems) > SHOWN:
            lines.append(f"  ... and {len(problems) - SHOWN} more")
        lines.append(f"  (all listed in {Path(log_dir) / study_id / PROBLEMS_FILE})")
    return "\n".join(lines)
