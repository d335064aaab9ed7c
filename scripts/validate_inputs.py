"""Snakemake adapter: validate a study's raw CSVs and write typed parquet per input.

The workflow checks the same inputs before it starts any job (trialflow.input_gate), so a
run whose inputs are bad stops before Snakemake removes this rule's earlier outputs.
"""

from pathlib import Path

from trialflow.adverse_events import VALIDATED_FILE
from trialflow.io import write_csv, write_parquet
from trialflow.script_support import logged, study_of
from trialflow.validate import validate_inputs, with_output_labels

with logged(snakemake.log[0]) as log:
    study = study_of(snakemake)
    validated = with_output_labels(validate_inputs(study), study)

    outdir = Path(snakemake.output.validated)
    write_parquet(validated.participants, outdir / "participants.parquet")
    for instrument_id, frame in validated.instruments.items():
        write_parquet(frame, outdir / f"{instrument_id}.parquet")
    if validated.adverse_events is not None:  # absent: adverse events not collected
        write_parquet(validated.adverse_events, outdir / VALIDATED_FILE)
    write_csv(validated.quality, snakemake.output.quality)
    log.info(
        "validated %d participants and %d instruments",
        len(validated.participants),
        len(validated.instruments),
    )
