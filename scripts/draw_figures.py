"""Snakemake adapter: every figure of a study (PNG at 300 dpi and SVG) and their manifest."""

from pathlib import Path

from trialflow.figures import write_study_figures
from trialflow.script_support import logged, read_named_inputs, study_of

with logged(snakemake.log[0]) as log:
    inputs = read_named_inputs(
        snakemake.input, ["analysis", "outcomes", "participants", "results", "participant_flow"]
    )
    outdir = Path(snakemake.output.manifest).parent
    written = write_study_figures(study_of(snakemake), outdir=outdir, **inputs)
    log.info("wrote %d figure files", len(written))
