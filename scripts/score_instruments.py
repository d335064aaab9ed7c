"""Snakemake adapter: score every instrument of a study from its validated items."""

from pathlib import Path

from trialflow.io import read_parquet, write_csv, write_parquet
from trialflow.scoring import score_study
from trialflow.script_support import logged, read_named_inputs, study_of

with logged(snakemake.log[0]) as log:
    study = study_of(snakemake)
    participants = read_named_inputs(snakemake.input, ["participants"])["participants"]
    validated = Path(snakemake.input.validated)
    frames = {s.id: read_parquet(validated / f"{s.id}.parquet") for s in study.instruments}
    scores, outcomes, summary = score_study(frames, study, participants)
    write_parquet(scores, snakemake.output.scores)
    write_parquet(outcomes, snakemake.output.outcomes)
    write_csv(summary, snakemake.output.summary)
    log.info("scored %d outcomes", len(outcomes))
