"""Snakemake adapter: every comparison of a study (classic tests, ANCOVA, MMRM) as results.csv."""

import pandas as pd

from trialflow.script_support import logged, read_named_inputs, study_of
from trialflow.stats import adjust_family, analyse_study, sort_results, write_results_csv
from trialflow.stats.mmrm_analysis import mmrm_results

with logged(snakemake.log[0]) as log:
    study = study_of(snakemake)
    inputs = read_named_inputs(snakemake.input, ["analysis", "outcomes", "participants"])
    classic = analyse_study(study=study, **inputs)
    mmrm = mmrm_results(inputs["analysis"], study)
    # MMRM rows join the multiplicity families, so adjust once over everything
    results = pd.concat([classic, mmrm], ignore_index=True)
    results = adjust_family(sort_results(results, study), study)
    write_results_csv(results, snakemake.output.results)
    log.info("%d result rows (%d MMRM)", len(results), len(mmrm))
