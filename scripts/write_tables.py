"""Snakemake adapter: the publication tables of a study as CSV, Markdown, HTML and Word."""

from pathlib import Path

import pandas as pd

from trialflow.config import studies_from_config
from trialflow.io import read_parquet
from trialflow.script_support import logged
from trialflow.stats import read_results_csv
from trialflow.tables import write_study_tables

with logged(snakemake.log[0]) as log:
    study = studies_from_config(snakemake.config)[snakemake.wildcards.study]
    written = write_study_tables(
        study,
        analysis=read_parquet(snakemake.input.analysis),
        outcomes=read_parquet(snakemake.input.outcomes),
        participants=read_parquet(Path(snakemake.input.validated) / "participants.parquet"),
        results=read_results_csv(snakemake.input.results),
        descriptives=pd.read_csv(snakemake.input.descriptives),
        outdir=Path(snakemake.output.table1).parent,
    )
    log.info("wrote %d table files", len(written))
