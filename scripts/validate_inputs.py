"""Snakemake adapter: validate a study's raw CSVs and write typed parquet per input."""

from pathlib import Path

from trialflow.io import read_csv_input, write_csv, write_parquet
from trialflow.script_support import logged, study_of
from trialflow.validate import validate_study

with logged(snakemake.log[0]) as log:
    study = study_of(snakemake)
    participants = read_csv_input(snakemake.input.participants)
    raw = {spec.id: read_csv_input(snakemake.input[spec.id]) for spec in study.instruments}
    validated = validate_study(study, participants, raw)

    outdir = Path(snakemake.output.validated)
    write_parquet(validated.participants, outdir / "participants.parquet")
    for instrument_id, frame in validated.instruments.items():
        write_parquet(frame, outdir / f"{instrument_id}.parquet")
    write_csv(validated.quality, snakemake.output.quality)
    log.info("validated %d participants and %d instruments", len(participants), len(raw))
