"""Snakemake adapter: validate a study's raw CSVs and write typed parquet per input.

The workflow checks the same inputs before it starts any job (trialflow.input_gate), so a
run whose inputs are bad stops before Snakemake removes this rule's earlier outputs; when
that check validated exactly these inputs, this job takes its files instead of validating
them again (trialflow.validated_store).
"""

from trialflow.input_gate import check_key
from trialflow.script_support import logged, study_of
from trialflow.validate import validate_inputs, with_output_labels
from trialflow.validated_store import take_staged, write_validated

with logged(snakemake.log[0]) as log:
    study = study_of(snakemake)
    key = check_key(snakemake.params.study, snakemake.params.input_hashes)
    outputs = snakemake.output.validated, snakemake.output.quality
    if take_staged(study.id, key, *outputs):
        log.info("took the inputs the workflow validated before starting (check %s)", key[:12])
    else:
        validated = with_output_labels(validate_inputs(study), study)
        write_validated(validated, *outputs)
        log.info(
            "validated %d participants and %d instruments",
            len(validated.participants),
            len(validated.instruments),
        )
