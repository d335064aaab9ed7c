"""Export a few outcomes of the default cohorts' analysis data for the R MMRM reference.

Reads ``data/processed/<study>/analysis.parquet`` (written by a pipeline run) and writes
``tests/reference/mmrm/cohort_<study>.csv``: one row per participant and visit, one column
per exported outcome (empty where the value is missing), plus the study's covariates.
``tests/reference/mmrm/gls_cohorts.R`` fits these with nlme::gls + emmeans and
``tests/test_mmrm_cohorts.py`` compares trialflow's MMRM adapter with its numbers.

Values are written with 10 significant digits; R and the test both read the CSV, so the
rounding does not affect the comparison. Run from the repository root:

    .venv/bin/python tests/reference/mmrm/export_cohorts.py
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from trialflow.config import studies_from_config

ROOT = Path(__file__).resolve().parents[3]
OUT_DIR = Path(__file__).resolve().parent

# continuous physical measures and questionnaire scores of each cohort
OUTCOMES = {
    "spine_rct": [
        "back_extensor_peak_torque",
        "spirometry_fev1",
        "mobility_flexion",
        "sf36_pcs",
        "qualeffo41_total",
    ],
    "knee_sarcopenia": [
        "gait_speed",
        "tug_time",
        "quadriceps_csa",
        "hads_anxiety",
        "hss_total",
    ],
}


def export(study_id: str, outcomes: list[str], study) -> pd.DataFrame:
    """Wide frame ``participant_id, arm, visit, <covariates>, <outcomes>``."""
    long = pd.read_parquet(ROOT / "data" / "processed" / study_id / "analysis.parquet")
    long = long.loc[long["outcome"].isin(outcomes)]
    missing = sorted(set(outcomes) - set(long["outcome"]))
    if missing:
        raise SystemExit(f"{study_id}: outcomes not in the analysis data: {missing}")
    keys = ["participant_id", "arm", "visit"]
    wide = long.set_index([*keys, "outcome"])["value"].unstack("outcome")[outcomes]
    wide = wide.reset_index()
    wide.columns.name = None
    covariates = [c for c in study.covariates if c in long.columns]
    if covariates:
        roster = long.dropna(subset=covariates).drop_duplicates("participant_id")
        wide = wide.merge(roster[["participant_id", *covariates]], on="participant_id", how="left")
    order = {v: i for i, v in enumerate(study.visit_ids)}
    wide = wide.assign(_visit=wide["visit"].map(order))
    wide = wide.sort_values(["participant_id", "_visit"]).drop(columns="_visit")
    return wide[[*keys, *covariates, *outcomes]].reset_index(drop=True)


def main() -> None:
    with open(ROOT / "config.yaml") as handle:
        studies = studies_from_config(yaml.safe_load(handle))
    for study_id, outcomes in OUTCOMES.items():
        wide = export(study_id, outcomes, studies[study_id])
        path = OUT_DIR / f"cohort_{study_id}.csv"
        wide.to_csv(path, index=False, float_format="%.10g")
        print(f"{path.relative_to(ROOT)}: {len(wide)} rows, {len(outcomes)} outcomes")


if __name__ == "__main__":
    main()
