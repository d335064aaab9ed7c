"""Snakemake adapter: results/<study>/provenance.json, the record of what produced the run."""

import json

from trialflow.provenance import build_provenance, output_records, write_provenance
from trialflow.script_support import logged, study_of

with logged(snakemake.log[0]) as log:
    study = study_of(snakemake)
    outputs = output_records(snakemake.input)
    inputs = json.loads(snakemake.params.input_hashes)
    manifest = build_provenance(study, inputs, outputs)
    write_provenance(manifest, snakemake.output.manifest)
    log.info("recorded %d inputs and %d outputs", len(inputs), len(outputs))
