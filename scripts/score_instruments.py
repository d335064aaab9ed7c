"""Snakemake adapter: score every instrument of a study from its validated items."""

from pathlib import Path

from trialflow.config import studies_from_config
from trialflow.io import read_parquet, write_csv, write_parquet
from trialflow.scoring import score_study
from trialflow.script_support import logged

with logged(snakemake.log[0]) as log:
    study = studies_from_config(snakemake.config)[snakemake.wildcards.study]
    validated = Path(snakemake.input.validated)
    participants = read_parquet(validated / "participants.parquet")
    frames = {
        spec.id: read_parquet(validated / f"{spec.id}.parquet") for spec in study.instruments
    }
    scores, outcomes, summary = score_study(frames, study, participants)
    write_parquet(scores, snakemake.output.scores)
    write_parquet(outcomes, snakemake.output.outcomes)
    write_csv(summary, snakemake.output.summary)
    log.info("scored %d outcomes", len(outcomes))
