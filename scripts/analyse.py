"""Snakemake adapter: every comparison of a study, classic tests, ANCOVA and MMRM, as results.csv."""

from pathlib import Path

import pandas as pd

from trialflow.config import studies_from_config
from trialflow.io import read_parquet
from trialflow.script_support import logged
from trialflow.stats import adjust_family, analyse_study, sort_results, write_results_csv
from trialflow.stats.mmrm_analysis import mmrm_results

with logged(snakemake.log[0]) as log:
    study = studies_from_config(snakemake.config)[snakemake.wildcards.study]
    analysis = read_parquet(snakemake.input.analysis)
    outcomes = read_parquet(snakemake.input.outcomes)
    participants = read_parquet(Path(snakemake.input.validated) / "participants.parquet")
    classic = analyse_study(analysis, outcomes, participants, study)
    mmrm = mmrm_results(analysis, study)
    results = pd.concat([classic, mmrm], ignore_index=True)
    results = adjust_family(sort_results(results, study), study)
    write_results_csv(results, snakemake.output.results)
    log.info("%d result rows (%d MMRM)", len(results), len(mmrm))
