"""Snakemake adapter: the tipping-point figure, drawn from the results rows."""

from pathlib import Path

from trialflow.figures.tipping import write_tipping_point_figure
from trialflow.script_support import logged, read_named_inputs, study_of

with logged(snakemake.log[0]) as log:
    inputs = read_named_inputs(snakemake.input, ["results", "outcomes"])
    outdir = Path(snakemake.output.png).parent
    written = write_tipping_point_figure(study_of(snakemake), outdir=outdir, **inputs)
    log.info("wrote %s", ", ".join(str(p) for p in written))
