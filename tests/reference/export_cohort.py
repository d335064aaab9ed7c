"""Export a default cohort for the R reference script and run it.

Usage (from the repository root)::

    .venv/bin/python tests/reference/export_cohort.py spine_rct [knee_sarcopenia ...]

For each study of ``config.yaml`` it takes the analysis data from
``data/processed/<study>/`` (``analysis.parquet``, ``outcomes.parquet``,
``validated/participants.parquet``) when the pipeline has made them, else it runs validation,
scoring and assembly in memory on ``data/raw/<study>/``. It writes

* ``tests/reference/cohort_<study>_long.csv``, ``_participants.csv``, ``_outcomes.csv``
  (the inputs), and
* ``tests/reference/classic_tests_<study>_results.csv`` / ``_descriptives.csv`` by calling
  ``Rscript tests/reference/classic_tests.R`` with the study's arms, visits, covariates,
  minimal important differences and outcome directions.

``tests/test_stats_reference.py::test_default_cohort_matches_r`` then compares
:func:`trialflow.stats.analyse_study` with those numbers (it skips while the files are absent).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

from trialflow.config import Study, studies_from_config

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def cohort_frames(study: Study) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(analysis, participants, outcomes) of a study, from the pipeline or computed."""
    processed = ROOT / "data" / "processed" / study.id
    if (processed / "analysis.parquet").exists():
        return (
            pd.read_parquet(processed / "analysis.parquet"),
            pd.read_parquet(processed / "validated" / "participants.parquet"),
            pd.read_parquet(processed / "outcomes.parquet"),
        )
    from trialflow.assemble import assemble_analysis
    from trialflow.io import read_csv_input
    from trialflow.scoring import score_study
    from trialflow.validate import validate_study

    raw = ROOT / study.data_dir
    validated = validate_study(
        study,
        read_csv_input(raw / "participants.csv"),
        {spec.id: read_csv_input(spec.path(raw)) for spec in study.instruments},
    )
    scores, outcomes, _ = score_study(validated.instruments, study, validated.participants)
    analysis = assemble_analysis(scores, validated.participants, study)
    return analysis, validated.participants, outcomes


def export(study: Study) -> None:
    analysis, participants, outcomes = cohort_frames(study)
    prefix = HERE / f"cohort_{study.id}"
    long = analysis.drop(columns=["week"], errors="ignore")
    long.to_csv(f"{prefix}_long.csv", index=False, lineterminator="\n")
    roster = participants.drop(columns=["source_file", "source_row"], errors="ignore")
    roster.to_csv(f"{prefix}_participants.csv", index=False, lineterminator="\n")
    outcomes.to_csv(f"{prefix}_outcomes.csv", index=False, lineterminator="\n")
    lower = outcomes.loc[~outcomes["higher_is_better"].astype(bool), "outcome"]
    mid = {
        outcome: threshold["mid"]
        for outcome, threshold in study.analysis.responder_thresholds().items()
        if "mid" in threshold  # the R script takes absolute thresholds
    }
    command = [
        "Rscript",
        str(HERE / "classic_tests.R"),
        f"--data={prefix}_long.csv",
        f"--arms={','.join(study.arm_ids)}",
        f"--visits={','.join(study.visit_ids)}",
        f"--participants={prefix}_participants.csv",
        f"--out={HERE / f'classic_tests_{study.id}'}",
        f"--responder-missing={study.analysis.responders.missing}",
    ]
    if study.end_of_treatment:
        command.append(f"--eot={study.end_of_treatment.id}")
    if study.follow_up:
        command.append(f"--fu={study.follow_up.id}")
    if study.covariates:
        command.append(f"--covariates={','.join(study.covariates)}")
    if mid:
        command.append("--mid=" + ",".join(f"{k}:{v}" for k, v in mid.items()))
    if len(lower):
        command.append(f"--lower-better={','.join(lower)}")
    print(" ".join(command))
    subprocess.run(command, check=True, cwd=ROOT)


def main(study_ids: list[str]) -> None:
    studies = studies_from_config(yaml.safe_load((ROOT / "config.yaml").read_text()))
    for study_id in study_ids or list(studies):
        export(studies[study_id])


if __name__ == "__main__":
    main(sys.argv[1:])
