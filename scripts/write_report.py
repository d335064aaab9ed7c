"""Snakemake adapter: the self-contained HTML report of a study."""

import json
from pathlib import Path

from trialflow.provenance import provenance_summary
from trialflow.report import write_report
from trialflow.script_support import logged, read_named_inputs, study_of

NAMES = ["analysis", "outcomes", "participants", "results", "descriptives", "model_fits"]

with logged(snakemake.log[0]) as log:
    study = study_of(snakemake)
    inputs = read_named_inputs(
        snakemake.input, [*NAMES, "data_quality", "scoring_summary", "participant_flow"]
    )
    figures_dir = Path(snakemake.input.figures).parent
    provenance = provenance_summary(study, json.loads(snakemake.params.input_hashes))
    write_report(
        study,
        snakemake.output.report,
        figures_dir=figures_dir,
        provenance=provenance,
        tables_dir=Path(snakemake.input.supplementary).parent,
        **inputs,
    )
    log.info("wrote %s", snakemake.output.report)
