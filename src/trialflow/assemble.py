"""The tidy analysis dataset: one row per participant, visit and outcome."""

from __future__ import annotations

import pandas as pd

from trialflow.config import Study

ANALYSIS_COLUMNS = ["participant_id", "arm", "visit", "week", "outcome", "value"]


def assemble_analysis(
    scores: pd.DataFrame, participants: pd.DataFrame, study: Study
) -> pd.DataFrame:
    """Join scores to the roster and the visit schedule.

    Parameters
    ----------
    scores : pandas.DataFrame
        Long scores: ``participant_id, visit, outcome, value`` (other columns ignored).
    participants : pandas.DataFrame
        The validated roster; ``arm`` and the study's covariates are taken from it.
    study : Study

    Returns
    -------
    pandas.DataFrame
        ``participant_id, arm, visit, week, outcome, value`` followed by the covariate
        columns, sorted by outcome (in the order given), arm and visit (config order) and
        participant. A score that could not be computed has no row (see
        :func:`trialflow.scoring.score_study`); descriptives count it as missing.
    """
    covariates = [c for c in study.covariates if c in participants.columns]
    roster = participants[["participant_id", "arm", *covariates]]
    frame = scores[["participant_id", "visit", "outcome", "value"]].merge(
        roster, on="participant_id", how="left", validate="many_to_one"
    )
    frame["week"] = frame["visit"].map({v.id: v.week for v in study.visits}).astype(float)
    frame["value"] = frame["value"].astype(float)

    outcome_order = {name: i for i, name in enumerate(dict.fromkeys(scores["outcome"]))}
    arm_order = {arm: i for i, arm in enumerate(study.arm_ids)}
    visit_order = {visit: i for i, visit in enumerate(study.visit_ids)}
    frame = frame.assign(
        _o=frame["outcome"].map(outcome_order),
        _a=frame["arm"].map(arm_order),
        _v=frame["visit"].map(visit_order),
    ).sort_values(["_o", "_a", "participant_id", "_v"], kind="stable")
    return frame[[*ANALYSIS_COLUMNS, *covariates]].reset_index(drop=True)
