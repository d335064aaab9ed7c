"""Snakemake adapter: join scores, roster and visit schedule into the analysis dataset."""

from trialflow.assemble import assemble_analysis
from trialflow.io import write_parquet
from trialflow.script_support import logged, read_named_inputs, study_of

with logged(snakemake.log[0]) as log:
    inputs = read_named_inputs(snakemake.input, ["scores", "participants", "outcomes"])
    analysis = assemble_analysis(study=study_of(snakemake), **inputs)
    write_parquet(analysis, snakemake.output.analysis)
    log.info("analysis dataset: %d rows", len(analysis))
