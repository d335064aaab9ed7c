"""Snakemake adapter: descriptive statistics per outcome, arm and visit."""

from trialflow.io import read_parquet, write_csv
from trialflow.script_support import logged
from trialflow.stats import descriptives

with logged(snakemake.log[0]):
    analysis = read_parquet(snakemake.input.analysis)
    write_csv(descriptives(analysis), snakemake.output.descriptives)
