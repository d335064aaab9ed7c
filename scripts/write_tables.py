"""Snakemake adapter: the publication tables of a study as CSV, Markdown, HTML and Word."""

from pathlib import Path

from trialflow.script_support import logged, read_named_inputs, study_of
from trialflow.tables import write_study_tables

with logged(snakemake.log[0]) as log:
    inputs = read_named_inputs(
        snakemake.input, ["analysis", "outcomes", "participants", "results", "descriptives"]
    )
    outdir = Path(snakemake.output.table1).parent
    written = write_study_tables(study_of(snakemake), outdir=outdir, **inputs)
    log.info("wrote %d table files", len(written))
