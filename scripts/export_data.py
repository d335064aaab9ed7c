"""Snakemake adapter: the analysis dataset as CSV and as a CDISC-flavoured (ADaM BDS) CSV,
the latter built and written in pieces (a 100,000-participant study has 7 million rows)."""

from trialflow.export import bds_chunks
from trialflow.io import write_csv, write_csv_chunks
from trialflow.script_support import logged, read_named_inputs, study_of

with logged(snakemake.log[0]) as log:
    inputs = read_named_inputs(snakemake.input, ["analysis", "outcomes"])
    write_csv(inputs["analysis"], snakemake.output.analysis)
    pieces = bds_chunks(inputs["analysis"], inputs["outcomes"], study_of(snakemake))
    write_csv_chunks(pieces, snakemake.output.bds)
    log.info("exported %d rows", len(inputs["analysis"]))
