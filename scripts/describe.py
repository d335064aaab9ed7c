"""Snakemake adapter: descriptive statistics per outcome, arm and visit."""

from trialflow.io import write_csv
from trialflow.script_support import logged, read_named_inputs, study_of
from trialflow.stats import descriptives

with logged(snakemake.log[0]):
    inputs = read_named_inputs(snakemake.input, ["analysis", "participants"])
    table = descriptives(inputs["analysis"], inputs["participants"], study_of(snakemake))
    write_csv(table, snakemake.output.descriptives)
