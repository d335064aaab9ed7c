"""Snakemake adapter: the analysis dataset as CSV and as a CDISC-flavoured (ADaM BDS) CSV."""

from trialflow.export import bds_dataset
from trialflow.io import write_csv
from trialflow.script_support import logged, read_named_inputs, study_of

with logged(snakemake.log[0]) as log:
    inputs = read_named_inputs(snakemake.input, ["analysis", "outcomes"])
    write_csv(inputs["analysis"], snakemake.output.analysis)
    bds = bds_dataset(inputs["analysis"], inputs["outcomes"], study_of(snakemake))
    write_csv(bds, snakemake.output.bds)
    log.info("exported %d rows", len(bds))
