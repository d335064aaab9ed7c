"""Snakemake adapter: the self-contained HTML report of a study."""

from pathlib import Path

import pandas as pd

from trialflow.config import studies_from_config
from trialflow.io import read_parquet
from trialflow.report import write_report
from trialflow.script_support import logged
from trialflow.stats import read_results_csv

with logged(snakemake.log[0]) as log:
    study = studies_from_config(snakemake.config)[snakemake.wildcards.study]
    write_report(
        study,
        snakemake.output.report,
        analysis=read_parquet(snakemake.input.analysis),
        outcomes=read_parquet(snakemake.input.outcomes),
        participants=read_parquet(Path(snakemake.input.validated) / "participants.parquet"),
        results=read_results_csv(snakemake.input.results),
        descriptives=pd.read_csv(snakemake.input.descriptives),
        figures_dir=Path(snakemake.input.figures).parent,
        data_quality=pd.read_csv(snakemake.input.data_quality),
        scoring_summary=pd.read_csv(snakemake.input.scoring_summary),
    )
    log.info("wrote %s", snakemake.output.report)
