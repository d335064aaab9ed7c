"""Descriptives, classic tests, ANCOVA, single-arm analyses, responders, multiplicity, the
results contract, the analysis plan (effect sizes with CIs, estimands, analysis sets, testing
strategy, participant flow; :mod:`trialflow.stats.study_analysis` runs a study as planned),
and the statistics the figures draw (mean CI, Q-Q points). The MMRM engine lives in
:mod:`trialflow.stats.mmrm`, the study's MMRM analysis in
:mod:`trialflow.stats.mmrm_analysis`."""

from .ancova import ancova, ancova_by_visit
from .between import (
    baseline_categorical,
    between_group,
    categorical_association,
    fisher_exact_p,
    mann_whitney,
    welch_t,
)
from .contract import RESULT_COLUMNS
from .descriptives import descriptives, mean_ci
from .hodges_lehmann import hodges_lehmann_paired, hodges_lehmann_shift
from .multiplicity import p_adjust
from .normality import change_pairs, normality, qq_points, shapiro_wilk
from .paired import paired_t, wilcoxon_signed_rank, within_group
from .responders import is_responder, newcombe_interval, responders, wilson_interval
from .results import (
    adjust_family,
    analyse_study,
    family_members,
    read_results_csv,
    select_reported,
    sort_results,
    write_results_csv,
)
from .single_arm import friedman, pairwise_visits, rm_anova, single_arm_analyses
from .table1 import table1
from .wilcoxon import rank_sum_test, signed_rank_test

__all__ = [
    "RESULT_COLUMNS",
    "adjust_family",
    "analyse_study",
    "read_results_csv",
    "ancova",
    "ancova_by_visit",
    "baseline_categorical",
    "between_group",
    "categorical_association",
    "change_pairs",
    "descriptives",
    "family_members",
    "fisher_exact_p",
    "friedman",
    "hodges_lehmann_paired",
    "hodges_lehmann_shift",
    "is_responder",
    "mann_whitney",
    "mean_ci",
    "newcombe_interval",
    "normality",
    "p_adjust",
    "paired_t",
    "pairwise_visits",
    "qq_points",
    "rank_sum_test",
    "responders",
    "rm_anova",
    "select_reported",
    "shapiro_wilk",
    "signed_rank_test",
    "single_arm_analyses",
    "sort_results",
    "table1",
    "welch_t",
    "wilcoxon_signed_rank",
    "within_group",
    "wilson_interval",
    "write_results_csv",
]
