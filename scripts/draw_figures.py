"""Snakemake adapter: every figure of a study (PNG at 300 dpi and SVG) and their manifest."""

from pathlib import Path

from trialflow.config import studies_from_config
from trialflow.figures import write_study_figures
from trialflow.io import read_parquet
from trialflow.script_support import logged
from trialflow.stats import read_results_csv

with logged(snakemake.log[0]) as log:
    study = studies_from_config(snakemake.config)[snakemake.wildcards.study]
    written = write_study_figures(
        study,
        analysis=read_parquet(snakemake.input.analysis),
        outcomes=read_parquet(snakemake.input.outcomes),
        participants=read_parquet(Path(snakemake.input.validated) / "participants.parquet"),
        results=read_results_csv(snakemake.input.results),
        outdir=Path(snakemake.output.manifest).parent,
    )
    log.info("wrote %d figure files", len(written))
