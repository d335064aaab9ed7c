"""Writing a study's validated inputs, and handing the input gate's copy to the validate job.

The input gate (:mod:`trialflow.input_gate`) validates every study whose inputs changed
before Snakemake starts a job, and the ``validate`` job would then validate the same files
again: at 100,000 participants a minute and a half of work done twice. Instead the gate
writes what it validated to ``.snakemake/trialflow/validated/<study>/`` with the key of its
check (:func:`trialflow.input_gate.check_key`: the SHA-256 of every raw file, the validate
stage's config slice and trialflow's code), and the job takes those files when the key is
its own (:func:`take_staged`), validating only when it is not (a forced rerun, outputs
deleted since, inputs changed after the check). Both write through :func:`write_validated`
from the same :class:`~trialflow.config.Study` (rebuilt from the validate slice), so the
files are the ones the job would have written.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from trialflow.adverse_events import VALIDATED_FILE
from trialflow.io import write_csv, write_parquet
from trialflow.validate import ValidatedStudy

__all__ = ["KEY_FILE", "QUALITY_FILE", "STAGED_DIR", "stage", "take_staged", "write_validated"]

#: where the gate leaves each study's validated inputs for its validate job
STAGED_DIR = Path(".snakemake") / "trialflow" / "validated"
#: the check key of the staged files, written last so that a half-written stage is never used
KEY_FILE = "check.sha256"
#: data_quality.csv inside a stage (the job writes it to results/<study>/tables/)
QUALITY_FILE = "data_quality.csv"
_FILES = "files"  # the stage's copy of the validated directory


def write_validated(validated: ValidatedStudy, directory: str | Path, quality: str | Path) -> None:
    """Write validated inputs: ``participants.parquet``, ``<instrument>.parquet`` per
    instrument and, when collected, the adverse events, in ``directory``; the data-quality
    table to ``quality``."""
    directory = Path(directory)
    write_parquet(validated.participants, directory / "participants.parquet")
    for instrument_id, frame in validated.instruments.items():
        write_parquet(frame, directory / f"{instrument_id}.parquet")
    if validated.adverse_events is not None:  # absent: adverse events not collected
        write_parquet(validated.adverse_events, directory / VALIDATED_FILE)
    write_csv(validated.quality, quality)


def stage(validated: ValidatedStudy, study_id: str, key: str, root: str | Path = STAGED_DIR):
    """Leave ``validated`` for the study's validate job, under the key of the check."""
    where = Path(root) / study_id
    shutil.rmtree(where, ignore_errors=True)
    write_validated(validated, where / _FILES, where / QUALITY_FILE)
    (where / KEY_FILE).write_text(key, encoding="utf-8")


def take_staged(
    study_id: str,
    key: str,
    directory: str | Path,
    quality: str | Path,
    root: str | Path = STAGED_DIR,
) -> bool:
    """Move the staged files of ``study_id`` to the job's outputs when they were staged
    under ``key``; False (and nothing moved) otherwise. A stage is used once."""
    where = Path(root) / study_id
    marker = where / KEY_FILE
    if not (marker.is_file() and marker.read_text(encoding="utf-8") == key):
        return False
    directory, quality = Path(directory), Path(quality)
    directory.mkdir(parents=True, exist_ok=True)
    quality.parent.mkdir(parents=True, exist_ok=True)
    marker.unlink()  # taken: a second job with this key validates for itself
    for path in sorted((where / _FILES).iterdir()):
        shutil.move(path, directory / path.name)
    shutil.move(where / QUALITY_FILE, quality)
    shutil.rmtree(where, ignore_errors=True)
    return True
