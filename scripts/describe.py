"""Snakemake adapter: descriptive statistics per outcome, arm and visit."""

from pathlib import Path

from trialflow.config import studies_from_config
from trialflow.io import read_parquet, write_csv
from trialflow.script_support import logged
from trialflow.stats import descriptives

with logged(snakemake.log[0]):
    study = studies_from_config(snakemake.config)[snakemake.wildcards.study]
    analysis = read_parquet(snakemake.input.analysis)
    participants = read_parquet(Path(snakemake.input.validated) / "participants.parquet")
    write_csv(descriptives(analysis, participants, study), snakemake.output.descriptives)
