"""Snakemake adapter: the self-contained HTML report of a study."""

from pathlib import Path

from trialflow.report import write_report
from trialflow.script_support import logged, read_named_inputs, study_of

NAMES = ["analysis", "outcomes", "participants", "results", "descriptives", "model_fits"]

with logged(snakemake.log[0]) as log:
    inputs = read_named_inputs(snakemake.input, [*NAMES, "data_quality", "scoring_summary"])
    figures_dir = Path(snakemake.input.figures).parent
    write_report(study_of(snakemake), snakemake.output.report, figures_dir=figures_dir, **inputs)
    log.info("wrote %s", snakemake.output.report)
