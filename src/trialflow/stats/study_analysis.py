"""A study analysed as its plan says: ``results.csv``, ``model_fits.csv`` and
``participant_flow.csv`` from the analysis data, the roster and the config.

1. The declared analysis set (``analysis.analysis_set``; :func:`set_data`) holds every
   analysis: the exploratory ones (:func:`trialflow.stats.analyse_study`,
   :func:`trialflow.stats.mmrm_analysis.analyse_mmrm`) and the confirmatory ones.
2. The primary and key secondary analyses are computed on their estimand's data (the set's
   data with the intercurrent-event strategies applied; :mod:`trialflow.stats.confirmatory`),
   replacing the exploratory rows of the same model (identical numbers when the roster has
   no intercurrent events), and repeated on each ``analysis.sensitivity_sets`` set (rows
   flagged ``sensitivity``).
3. The testing strategy adjusts the confirmatory comparisons; the multiplicity families
   adjust the exploratory ones only (:func:`trialflow.stats.adjust_family`).
4. The participant flow counts the roster and the primary model
   (:func:`trialflow.stats.flow.participant_flow`).

5. The missing-data sensitivity analyses (``analysis.sensitivity``, ``analysis.tipping_point``)
   run on the declared set's data and roster
   (:func:`trialflow.stats.sensitivity_analysis.sensitivity_results`); their rows are flagged
   ``sensitivity`` (outside the testing strategy and the exploratory families).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import Study
from ..errors import InputError, InputProblem
from ..membership import is_in
from .confirmatory import (
    apply_testing,
    estimand_data,
    planned_rows,
    replaced_rows,
    sensitivity_rows,
)
from .contract import MODEL_FIT_COLUMNS, typed_results
from .estimands import EXCLUSION_COLUMNS, analysis_set, intercurrent_events
from .flow import participant_flow
from .mmrm_analysis import analyse_mmrm
from .results import adjust_family, analyse_study, sort_results, with_covariates
from .sensitivity_analysis import sensitivity_results

__all__ = ["AnalysisSetData", "StudyAnalysis", "analyse_planned_study", "set_data"]


@dataclass(frozen=True)
class AnalysisSetData:
    """One analysis set of a study.

    Attributes
    ----------
    name : str
    data : DataFrame
        Long analysis data of the set (completers: per outcome, its completers).
    roster : DataFrame
        The set's roster (completers: everyone who completed some outcome).
    excluded : DataFrame
        ``outcome, arm, reason, n``: randomised participants outside the set (``outcome``
        empty unless the set is defined per outcome).
    """

    name: str
    data: pd.DataFrame
    roster: pd.DataFrame
    excluded: pd.DataFrame

    def exclusions(self, outcome: str) -> pd.DataFrame:
        """``arm, reason, n`` of the participants outside the set for ``outcome``."""
        rows = self.excluded.loc[self.excluded["outcome"].isin(["", outcome])]
        return rows[list(EXCLUSION_COLUMNS)].reset_index(drop=True)


@dataclass(frozen=True)
class StudyAnalysis:
    """``results.csv``, ``model_fits.csv`` and ``participant_flow.csv`` of a study."""

    results: pd.DataFrame
    model_fits: pd.DataFrame
    participant_flow: pd.DataFrame


def set_data(
    roster: pd.DataFrame, analysis: pd.DataFrame, study: Study, name: str
) -> AnalysisSetData:
    """The data and roster of analysis set ``name`` (:func:`trialflow.stats.estimands.analysis_set`).

    Raises
    ------
    InputError
        For ``per_protocol`` when the roster has no ``per_protocol`` column.
    """
    if name == "per_protocol" and "per_protocol" not in roster.columns:
        file = (
            str(roster["source_file"].iloc[0])
            if "source_file" in roster.columns and len(roster)
            else f"{study.data_dir}/participants.csv"
        )
        raise InputError(
            [
                InputProblem(
                    file, 1, "per_protocol", None,
                    "a yes/no column 'per_protocol' (the per_protocol analysis set)",
                )
            ]
        )  # fmt: skip
    if name != "completers":
        chosen = analysis_set(roster, analysis, study, name)
        excluded = chosen.excluded.assign(outcome="")
        return AnalysisSetData(name, chosen.data, chosen.participants, excluded)
    parts, people, excluded = [], [], []
    for outcome in sorted(analysis["outcome"].astype(str).unique()):
        chosen = analysis_set(roster, analysis, study, name, outcome=outcome)
        parts.append(chosen.data.loc[chosen.data["outcome"] == outcome])
        people.append(chosen.participants)
        excluded.append(chosen.excluded.assign(outcome=outcome))
    data = pd.concat(parts, ignore_index=True) if parts else analysis.iloc[:0]
    members = pd.concat(people).drop_duplicates("participant_id") if people else roster.iloc[:0]
    # keep the roster's order
    members = roster.loc[is_in(roster["participant_id"], members["participant_id"])]
    excluded_all = (
        pd.concat(excluded, ignore_index=True)
        if excluded
        else pd.DataFrame(columns=[*EXCLUSION_COLUMNS, "outcome"])
    )
    return AnalysisSetData(name, data, members.reset_index(drop=True), excluded_all)


def analyse_planned_study(
    analysis: pd.DataFrame,
    outcomes: pd.DataFrame,
    participants: pd.DataFrame,
    study: Study,
) -> StudyAnalysis:
    """Every output of the analyse stage of a study (see the module docstring).

    Parameters
    ----------
    analysis : DataFrame
        Long analysis data (``participant_id, arm, visit, week, outcome, value`` and the
        covariates).
    outcomes : DataFrame
        Outcome metadata.
    participants : DataFrame
        The validated roster (optionally ``ice_visit, ice_type, per_protocol,
        received_allocation, withdrawal_reason``).
    study : Study

    Returns
    -------
    StudyAnalysis
        ``results`` in the contract's order, ``model_fits`` one row per fitted model (the
        sensitivity sets' after the main set's), ``participant_flow`` (``arm, stage, n,
        reason``).

    Raises
    ------
    InputError
        For an ``ice_visit`` that is no post-baseline visit, an ``ice_type`` without a
        strategy in a declared estimand, or a per-protocol set without its column.
    """
    intercurrent_events(participants, study)  # an ice_visit outside the visits stops here
    analysis = with_covariates(analysis, participants, study)
    main = set_data(participants, analysis, study, study.analysis.analysis_set)
    results = analyse_study(main.data, outcomes, main.roster, study)
    mmrm = analyse_mmrm(main.data, study, main.name)
    results = typed_results(pd.concat([results, mmrm.results], ignore_index=True))
    fits = [mmrm.fits]
    analysed = None
    for i, planned in enumerate(study.analysis.planned):
        computed = _planned(main, outcomes, study, planned, _where(i))
        results, fits = _replace(results, fits, computed, planned, main.name)
        analysed = computed.analysed if i == 0 else analysed
    for name in study.analysis.sensitivity_sets:
        results, fits = _sensitivity(participants, analysis, outcomes, study, name, results, fits)
    imputed = sensitivity_results(main.data, main.roster, outcomes, study)
    results = typed_results(pd.concat([results, imputed], ignore_index=True))
    results = sort_results(results, study)
    results.loc[~results["analysis"].str.startswith("posthoc_"), "p_adjusted"] = np.nan
    results = adjust_family(apply_testing(results, study), study)
    flow = participant_flow(
        participants,
        study,
        analysed=analysed,
        exclusions=(
            main.exclusions(study.analysis.primary.outcome) if study.analysis.primary else None
        ),
        screening={"screened": study.flow.screened, "excluded": dict(study.flow.excluded)},
    )
    model_fits = pd.concat([f for f in fits if len(f)], ignore_index=True) if fits else None
    if model_fits is None or model_fits.empty:
        model_fits = pd.DataFrame(columns=list(MODEL_FIT_COLUMNS))
    return StudyAnalysis(results, model_fits[list(MODEL_FIT_COLUMNS)], flow)


def _where(i: int) -> str:
    return "analysis.primary" if i == 0 else f"analysis.key_secondary[{i - 1}]"


def _planned(chosen: AnalysisSetData, outcomes, study: Study, planned, where: str):
    """The planned analysis on its estimand's data (the set's when nobody has an event)."""
    data = estimand_data(chosen.data, chosen.roster, study, planned, where)
    data = chosen.data if data is None else data
    return planned_rows(data, chosen.roster, outcomes, study, planned, chosen.name)


def _replace(results, fits, computed, planned, set_name):
    keep = ~replaced_rows(results, planned, set_name)
    results = typed_results(pd.concat([results.loc[keep], computed.results], ignore_index=True))
    if planned.method == "mmrm":
        fits = [
            f.loc[~((f["outcome"] == planned.outcome) & (f["analysis_set"] == set_name))]
            for f in fits
        ]
        fits.append(computed.fits)
    return results, fits


def _sensitivity(participants, analysis, outcomes, study: Study, name, results, fits):
    chosen = set_data(participants, analysis, study, name)
    extra = []
    for i, planned in enumerate(study.analysis.planned):
        computed = _planned(chosen, outcomes, study, planned, _where(i))
        extra.append(sensitivity_rows(computed.results, planned, study))
        if len(computed.fits):
            fits = [*fits, computed.fits]
    results = typed_results(pd.concat([results, *extra], ignore_index=True))
    return results, fits
