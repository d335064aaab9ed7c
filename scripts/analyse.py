"""Snakemake adapter: every comparison of a study (classic tests, ANCOVA, MMRM) as results.csv,
and the facts of every fitted model as model_fits.csv."""

import pandas as pd

from trialflow.script_support import logged, read_named_inputs, study_of
from trialflow.stats import adjust_family, analyse_study, sort_results, write_results_csv
from trialflow.stats.mmrm_analysis import analyse_mmrm
from trialflow.stats.results import write_model_fits_csv

with logged(snakemake.log[0]) as log:
    study = study_of(snakemake)
    inputs = read_named_inputs(snakemake.input, ["analysis", "outcomes", "participants"])
    classic = analyse_study(study=study, **inputs)
    mmrm = analyse_mmrm(inputs["analysis"], study)
    # MMRM rows join the multiplicity families, so adjust once over everything
    results = pd.concat([classic, mmrm.results], ignore_index=True)
    results = adjust_family(sort_results(results, study), study)
    write_results_csv(results, snakemake.output.results)
    write_model_fits_csv(mmrm.fits, snakemake.output.model_fits)
    log.info(
        "%d result rows (%d MMRM), %d models", len(results), len(mmrm.results), len(mmrm.fits)
    )
