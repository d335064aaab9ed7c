"""Snakemake adapter: publication tables of a study (those named in params.tables) as CSV,
Markdown, HTML and Word."""

from pathlib import Path

from trialflow.script_support import logged, read_named_inputs, study_of
from trialflow.tables import write_study_tables

with logged(snakemake.log[0]) as log:
    inputs = read_named_inputs(
        snakemake.input, ["analysis", "outcomes", "participants", "results", "descriptives"]
    )
    outdir = Path(snakemake.output[0]).parent
    written = write_study_tables(
        study_of(snakemake), outdir=outdir, names=list(snakemake.params.tables), **inputs
    )
    log.info("wrote %d table files", len(written))
