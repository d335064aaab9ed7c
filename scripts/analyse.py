"""Snakemake adapter: every comparison of a study as results.csv (exploratory and, as the
analysis plan declares them, confirmatory), the facts of every fitted model as
model_fits.csv, and the participant flow as participant_flow.csv (with the adverse-event
note: participants with an event per arm, or "no adverse events reported" / "not collected")."""

import pandas as pd

from trialflow.adverse_events import adverse_event_flow, read_validated_adverse_events
from trialflow.io import write_csv
from trialflow.script_support import logged, read_named_inputs, study_of
from trialflow.stats import write_results_csv
from trialflow.stats.results import write_model_fits_csv
from trialflow.stats.study_analysis import analyse_planned_study

with logged(snakemake.log[0]) as log:
    study = study_of(snakemake)
    inputs = read_named_inputs(snakemake.input, ["analysis", "outcomes", "participants"])
    analysed = analyse_planned_study(study=study, **inputs)
    write_results_csv(analysed.results, snakemake.output.results)
    write_model_fits_csv(analysed.model_fits, snakemake.output.model_fits)
    events = read_validated_adverse_events(snakemake.input.validated)
    flow = pd.concat(
        [analysed.participant_flow, adverse_event_flow(events, inputs["participants"], study)],
        ignore_index=True,
    )
    write_csv(flow, snakemake.output.participant_flow)
    log.info(
        "%d result rows, %d models, %d flow rows",
        len(analysed.results),
        len(analysed.model_fits),
        len(analysed.participant_flow),
    )
