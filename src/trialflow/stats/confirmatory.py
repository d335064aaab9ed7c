"""The confirmatory analyses of the plan: the primary and key secondary comparisons, each on
its estimand's data, and the testing strategy over them.

A planned analysis (``analysis.primary``, ``analysis.key_secondary``) names an outcome, a
visit and a method; its *comparisons* are the rows of ``results.csv`` that answer it:

* ``ancova``: the adjusted difference of each non-reference arm at the visit;
* ``mmrm``: the LS-mean difference of each non-reference arm at the visit, or (single arm)
  the change from baseline to the visit;
* ``responder``: the baseline-adjusted odds ratio of responding of each non-reference arm
  (``responder_logistic``).

Each is computed on the data its estimand defines (:func:`estimand_data`: the analysis set
with the intercurrent-event strategies applied, :mod:`trialflow.stats.estimands`); without
intercurrent events in the roster that is the analysis set's data and the rows are the
exploratory computation's. :func:`planned_rows` computes them (the whole model: all visits of
the MMRM, the adjusted means of the ANCOVA, the per-arm responder rows) and
:func:`apply_testing` adjusts the comparisons in declared order by ``analysis.testing``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import PlannedAnalysis, Study
from ..errors import InputError, InputProblem
from ..membership import is_in
from .ancova import ancova_by_visit
from .contract import (
    ADJUSTED_MEAN_CONTRAST,
    KEY_SECONDARY,
    NOT_FORMALLY_TESTED,
    PRIMARY,
    SENSITIVITY,
    between_contrast,
    empty_results,
    typed_results,
    with_flag,
    within_contrast,
)
from .estimands import apply_intercurrent_events, intercurrent_events
from .mmrm_analysis import analyse_mmrm
from .responders import LOGISTIC_ANALYSIS, ResponderThreshold, responder_analysis
from .testing import apply_testing_strategy

__all__ = [
    "DEFAULT_STRATEGY",
    "PLANNED_METHODS",
    "PlannedRows",
    "apply_testing",
    "comparison_keys",
    "estimand_data",
    "estimand_text",
    "planned_rows",
    "replaced_rows",
]

#: The strategy for every intercurrent event when a planned analysis declares no estimand
#: (or no ``intercurrent_events``): values after the event are set aside, and the model
#: targets the outcome had the event not occurred (under MAR).
DEFAULT_STRATEGY = "hypothetical"
_MODEL_ANALYSES = {"ancova": ("ancova",), "mmrm": ("mmrm",)}
_MODEL_ANALYSES["responder"] = ("responder", LOGISTIC_ANALYSIS)
#: The methods a planned analysis may name (``analysis.primary.method``).
PLANNED_METHODS = tuple(_MODEL_ANALYSES)


@dataclass(frozen=True)
class PlannedRows:
    """One planned analysis computed on its estimand's data.

    Attributes
    ----------
    results : DataFrame
        Contract rows of the whole model (see :func:`replaced_rows`), ``analysis_set`` set.
    fits : DataFrame
        ``model_fits.csv`` rows (the MMRM; empty for the other methods).
    analysed : dict
        Arm id -> participants in the model (the n of the analysis in the participant flow).
    """

    results: pd.DataFrame
    fits: pd.DataFrame
    analysed: dict[str, int]


def comparison_keys(planned: PlannedAnalysis, study: Study) -> list[dict[str, str]]:
    """The ``outcome, visit, analysis, contrast, group`` of each row answering ``planned``."""
    analysis = LOGISTIC_ANALYSIS if planned.method == "responder" else planned.method
    keys = {"outcome": planned.outcome, "visit": planned.visit, "analysis": analysis}
    if study.single_arm:
        contrast = within_contrast(planned.visit, study.baseline.id)
        return [keys | {"contrast": contrast, "group": study.arm_ids[0]}]
    reference = study.reference_arm.id
    return [
        keys | {"contrast": between_contrast(arm, reference), "group": ""}
        for arm in study.arm_ids[1:]
    ]


def replaced_rows(results: pd.DataFrame, planned: PlannedAnalysis, analysis_set: str):
    """Mask of the rows of ``results`` that :func:`planned_rows` recomputes for ``planned``:
    the outcome's model rows (every visit for the MMRM, the visit otherwise) on the set."""
    mask = (
        (results["outcome"] == planned.outcome)
        & results["analysis"].isin(_MODEL_ANALYSES[planned.method])
        & (results["analysis_set"] == analysis_set)
    )
    if planned.method != "mmrm":
        mask &= results["visit"] == planned.visit
    return mask


def _strategies(planned: PlannedAnalysis) -> dict[str, str] | str:
    estimand = planned.estimand
    if estimand is None or estimand.intercurrent_events is None:
        return DEFAULT_STRATEGY
    return {event.type: event.strategy for event in estimand.intercurrent_events}


def estimand_data(
    analysis: pd.DataFrame,
    roster: pd.DataFrame,
    study: Study,
    planned: PlannedAnalysis,
    where: str = "analysis.primary",
) -> pd.DataFrame | None:
    """The long data of ``planned``'s outcome after its estimand's intercurrent-event
    strategies, or None when nobody in ``roster`` has an intercurrent event (then the data
    are the analysis set's as they are).

    Parameters
    ----------
    analysis : DataFrame
        Long analysis data of the analysis set.
    roster : DataFrame
        The analysis set's roster (``participant_id, arm``, ``ice_visit``, ``ice_type``).
    study : Study
    planned : PlannedAnalysis
    where : str
        The config key of ``planned``, for messages.

    Raises
    ------
    InputError
        When the estimand lists intercurrent events and a participant's ``ice_type`` is not
        among them (every event needs a strategy).
    """
    events = intercurrent_events(roster, study)
    if events.empty:
        return None
    strategies = _strategies(planned)
    if isinstance(strategies, dict):
        _check_types(roster, strategies, where)
    data = analysis.loc[analysis["outcome"] == planned.outcome]
    chosen = apply_intercurrent_events(data, roster, study, strategies, DEFAULT_STRATEGY)
    return chosen.data.drop(columns=["after_ice", "carried_from"])


def _check_types(roster: pd.DataFrame, strategies: dict[str, str], where: str) -> None:
    visit = roster["ice_visit"].astype("string").str.strip().fillna("")
    kind = roster.get("ice_type", pd.Series("", index=roster.index))
    kind = kind.astype("string").str.strip().fillna("")
    bad = (visit != "") & ~kind.isin(list(strategies))
    if not bad.any():
        return
    files = roster.get("source_file", pd.Series("participants.csv", index=roster.index))
    rows = roster.get("source_row", pd.Series(np.arange(len(roster)) + 2, index=roster.index))
    expected = (
        f"an ice_type with a strategy in {where}.estimand.intercurrent_events: "
        + ", ".join(strategies)
    )
    raise InputError(
        [
            InputProblem(str(files[i]), int(rows[i]), "ice_type", kind[i] or None, expected)
            for i in roster.index[bad.to_numpy(bool)]
        ]
    )


def estimand_text(planned: PlannedAnalysis, study: Study) -> str:
    """The estimand a model targets, in words (for ``model_fits.csv`` and notes)."""
    strategies = _strategies(planned)
    if isinstance(strategies, str):
        events = f"{strategies} strategy for intercurrent events"
    else:
        events = ", ".join(f"{k}: {v.replace('_', ' ')}" for k, v in strategies.items())
        events = f"intercurrent events {events}" if events else "no intercurrent events"
    what = (
        "mean change from baseline"
        if study.single_arm
        else "difference between arms in the mean (baseline-adjusted)"
    )
    if planned.method == "responder":
        what = "odds ratio of responding (baseline-adjusted)"
    return f"{what} at {planned.visit}; {events}; estimated under missing at random"


def planned_rows(
    data: pd.DataFrame,
    roster: pd.DataFrame,
    outcomes: pd.DataFrame,
    study: Study,
    planned: PlannedAnalysis,
    analysis_set: str,
) -> PlannedRows:
    """The rows of one planned analysis computed on ``data`` (see :func:`replaced_rows`).

    Parameters
    ----------
    data : DataFrame
        Long data of the planned outcome (after :func:`estimand_data`, or the analysis
        set's), with the study's covariates.
    roster : DataFrame
        The analysis set's roster (responder denominators).
    outcomes : DataFrame
        Outcome metadata (``higher_is_better`` for responders).
    study : Study
    planned : PlannedAnalysis
    analysis_set : str

    Returns
    -------
    PlannedRows
    """
    data = data.loc[data["outcome"] == planned.outcome]
    conf_level = 1 - study.analysis.alpha
    fits = pd.DataFrame()
    if planned.method == "mmrm":
        fitted = analyse_mmrm(data, study, analysis_set, estimand_text(planned, study))
        rows, fits = fitted.results, fitted.fits
        counts = fitted.subjects.set_index("arm")["n"]
        analysed = {arm: int(counts.get(arm, 0)) for arm in study.arm_ids}
    elif planned.method == "ancova":
        rows = ancova_by_visit(data, study, conf_level)
        rows = rows.loc[rows["visit"] == planned.visit]
        means = rows.loc[rows["contrast"] == ADJUSTED_MEAN_CONTRAST].set_index("group")["n"]
        analysed = {arm: int(np.nan_to_num(means.get(arm, 0))) for arm in study.arm_ids}
    else:
        rows, analysed = _responder_rows(data, roster, outcomes, study, planned, conf_level)
    rows = typed_results(rows if len(rows) else empty_results())
    rows["analysis_set"] = analysis_set
    return PlannedRows(results=rows, fits=fits, analysed=analysed)


def _responder_rows(data, roster, outcomes, study: Study, planned, conf_level):
    thresholds = study.analysis.responder_thresholds()
    rows = responder_analysis(
        data,
        outcomes,
        study,
        {planned.outcome: thresholds[planned.outcome]},
        participants=roster,
        missing=study.analysis.responders.missing,
        adjusted=True,
        conf_level=conf_level,
    )
    rows = rows.loc[rows["visit"] == planned.visit]
    # the logistic model's complete cases: a known status (or missing counted as
    # non-response) and a baseline value
    rule = ResponderThreshold.from_config(thresholds[planned.outcome])
    base = data.loc[data["visit"] == study.baseline.id].dropna(subset=["value"])
    later = data.loc[data["visit"] == planned.visit].dropna(subset=["value"])
    people = roster[["participant_id", "arm"]].drop_duplicates("participant_id")
    known = is_in(people["participant_id"], base["participant_id"])
    if study.analysis.responders.missing == "exclude":
        known &= is_in(people["participant_id"], later["participant_id"])
        if rule.percent_improvement is not None:
            known &= ~is_in(
                people["participant_id"], base.loc[base["value"] == 0, "participant_id"]
            )
    counts = people.loc[known.to_numpy(bool), "arm"].astype(str).value_counts()
    return rows, {arm: int(counts.get(arm, 0)) for arm in study.arm_ids}


def apply_testing(results: pd.DataFrame, study: Study) -> pd.DataFrame:
    """Flag the confirmatory comparisons and adjust them by ``analysis.testing``.

    The comparisons of the primary analysis, then of each key secondary analysis in
    declared order (:func:`comparison_keys`, on the study's analysis set), are one
    sequence: ``p_adjusted`` comes from
    :func:`trialflow.stats.testing.apply_testing_strategy` at ``analysis.alpha``, ``flags``
    gain ``primary`` or ``key_secondary``, and a fixed sequence's hypotheses after its stop
    gain ``not_formally_tested`` (and the note says so). A comparison without a row counts
    as a missing p-value (it stops a fixed sequence).

    Parameters
    ----------
    results : DataFrame
    study : Study

    Returns
    -------
    DataFrame
        A copy.
    """
    results = results.copy()
    positions, roles = [], []
    main = results["analysis_set"] == study.analysis.analysis_set
    for i, planned in enumerate(study.analysis.planned):
        for keys in comparison_keys(planned, study):
            mask = main.copy()
            for column, value in keys.items():
                mask &= results[column] == value
            hits = results.index[mask.to_numpy(bool)]
            positions.append(hits[0] if len(hits) else None)
            roles.append(PRIMARY if i == 0 else KEY_SECONDARY)
    if not positions:
        return results
    p_values = [math.nan if i is None else results.at[i, "p_value"] for i in positions]
    table = apply_testing_strategy(p_values, study.analysis.testing, study.analysis.alpha)
    for index, role, decision in zip(positions, roles, table.itertuples(), strict=True):
        if index is None:
            continue
        results.at[index, "p_adjusted"] = decision.p_adjusted
        results.loc[[index], "flags"] = with_flag(results.loc[[index], "flags"], role, [True])
        label = "primary analysis" if role == PRIMARY else "key secondary analysis"
        label += f" (position {decision.position}, {study.analysis.testing.replace('_', ' ')})"
        if not decision.tested:
            results.loc[[index], "flags"] = with_flag(
                results.loc[[index], "flags"], NOT_FORMALLY_TESTED, [True]
            )
            label += f"; {decision.note}"
        results.at[index, "note"] = "; ".join(filter(None, [label, results.at[index, "note"]]))
    return results


def sensitivity_rows(rows: pd.DataFrame, planned: PlannedAnalysis, study: Study) -> pd.DataFrame:
    """The comparisons of ``planned`` among ``rows`` (computed on a sensitivity set), flagged
    ``sensitivity`` and noted as such; other rows of the model are dropped."""
    keep = pd.Series(False, index=rows.index)
    for keys in comparison_keys(planned, study):
        mask = pd.Series(True, index=rows.index)
        for column, value in keys.items():
            mask &= rows[column] == value
        keep |= mask
    out = rows.loc[keep.to_numpy(bool)].copy()
    out["flags"] = with_flag(out["flags"], SENSITIVITY, pd.Series(True, index=out.index))
    set_name = out["analysis_set"].str.replace("_", " ")
    out["note"] = (
        "sensitivity analysis on the " + set_name + " set; not part of the testing strategy; "
    ) + out["note"]
    return out
