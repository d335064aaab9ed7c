"""Snakemake adapter: join scores, roster and visit schedule into the analysis dataset."""

from pathlib import Path

from trialflow.assemble import assemble_analysis
from trialflow.config import studies_from_config
from trialflow.io import read_parquet, write_parquet
from trialflow.script_support import logged

with logged(snakemake.log[0]) as log:
    study = studies_from_config(snakemake.config)[snakemake.wildcards.study]
    scores = read_parquet(snakemake.input.scores)
    participants = read_parquet(Path(snakemake.input.validated) / "participants.parquet")
    analysis = assemble_analysis(scores, participants, study)
    write_parquet(analysis, snakemake.output.analysis)
    log.info("analysis dataset: %d rows", len(analysis))
