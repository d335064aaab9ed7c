"""Snakemake adapter: the supplementary tables of a study (responders, categorical outcomes
by visit and their shift table, harms, the MMRM appendix) as CSV, Markdown, HTML and Word, and
tables.docx with every table of the study."""

from pathlib import Path

from trialflow.adverse_events import read_validated_adverse_events
from trialflow.script_support import logged, read_named_inputs, study_of
from trialflow.tables import write_supplementary_tables

with logged(snakemake.log[0]) as log:
    inputs = read_named_inputs(
        snakemake.input, ["analysis", "outcomes", "participants", "results", "descriptives"]
    )
    outdir = Path(snakemake.output.tables_docx).parent
    events = read_validated_adverse_events(snakemake.input.validated)
    written = write_supplementary_tables(
        study_of(snakemake), outdir=outdir, adverse_events=events, **inputs
    )
    log.info("wrote %d table files", len(written))
