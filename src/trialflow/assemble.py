"""The tidy analysis dataset: one row per participant, visit and outcome."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trialflow.config import Study

ANALYSIS_COLUMNS = ["participant_id", "arm", "visit", "week", "outcome", "value"]


def assemble_analysis(
    scores: pd.DataFrame,
    participants: pd.DataFrame,
    study: Study,
    outcomes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Join scores to the roster and the visit schedule.

    Parameters
    ----------
    scores : pandas.DataFrame
        Long scores: ``participant_id, visit, outcome, value`` (other columns ignored).
    participants : pandas.DataFrame
        The validated roster; ``arm`` and the study's covariates are taken from it.
    study : Study
    outcomes : pandas.DataFrame, optional
        Outcome metadata (``outcome``, and ``analysed`` when present): every declared outcome.
        One with no value at all (its column left blank, or its file holding only a header)
        gets one row per randomised participant and visit with an empty ``value``, so that
        it reaches every output with n = 0 instead of vanishing.

    Returns
    -------
    pandas.DataFrame
        ``participant_id, arm, visit, week, outcome, value`` followed by the covariate
        columns, sorted by outcome (in the order given), arm and visit (config order) and
        participant. Otherwise a score that could not be computed has no row (see
        :func:`trialflow.scoring.score_study`); descriptives count it as missing.
    """
    covariates = [c for c in study.covariates if c in participants.columns]
    roster = participants[["participant_id", "arm", *covariates]]
    scores = scores[["participant_id", "visit", "outcome", "value"]]
    empty = empty_outcomes(scores, outcomes)
    if empty:
        scores = pd.concat([scores, _placeholders(empty, roster, study)], ignore_index=True)
    frame = scores.merge(roster, on="participant_id", how="left", validate="many_to_one")
    weeks = np.array([float(v.week) for v in study.visits] + [np.nan])
    frame["week"] = weeks[pd.Index(study.visit_ids).get_indexer(frame["visit"])]
    frame["value"] = frame["value"].astype(float)

    frame = frame.assign(
        _o=position_in(frame["outcome"], scores["outcome"].unique()),
        _a=position_in(frame["arm"], study.arm_ids),
        _v=position_in(frame["visit"], study.visit_ids),
    ).sort_values(["_o", "_a", "participant_id", "_v"], kind="stable")
    return frame[[*ANALYSIS_COLUMNS, *covariates]].reset_index(drop=True)


def position_in(column: pd.Series, order) -> pd.Series:
    """Each value's position in ``order`` (NaN if absent): ``column.map({value: i})`` without
    a Python call per row (pandas maps Arrow strings one by one)."""
    position = pd.Index(order).get_indexer(column).astype(float)
    position[position < 0] = np.nan
    return pd.Series(position, index=column.index, name=column.name)


def empty_outcomes(scores: pd.DataFrame, outcomes: pd.DataFrame | None) -> list[str]:
    """Analysed outcomes of ``outcomes`` without a single value in ``scores``."""
    if outcomes is None or outcomes.empty:
        return []
    declared = outcomes
    if "analysed" in outcomes.columns:
        declared = outcomes[outcomes["analysed"].astype(bool)]
    observed = set(scores.loc[scores["value"].notna(), "outcome"])
    return [o for o in dict.fromkeys(declared["outcome"]) if o not in observed]


def _placeholders(outcomes: list[str], roster: pd.DataFrame, study: Study) -> pd.DataFrame:
    ids = roster["participant_id"].dropna().astype(str).to_numpy()
    visits = np.asarray(study.visit_ids, dtype=object)
    n = len(ids) * len(visits)
    return pd.DataFrame(
        {
            "participant_id": np.tile(np.repeat(ids, len(visits)), len(outcomes)),
            "visit": np.tile(visits, len(ids) * len(outcomes)),
            "outcome": np.repeat(np.asarray(outcomes, dtype=object), n),
            "value": np.nan,
        }
    )
