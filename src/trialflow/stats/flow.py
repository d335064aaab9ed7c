"""Participant flow (CONSORT 2010 item 13 and the flow diagram) from the roster, the primary
model and the optional screening counts of the config."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..config import Study
from .estimands import roster_flag

FLOW_STAGES = (
    "screened",
    "excluded",
    "randomised",
    "received_allocation",
    "discontinued_intervention",
    "withdrawn",
    "lost_to_follow_up",
    "excluded_from_analysis",
    "analysed_primary",
)
FLOW_COLUMNS = ("arm", "stage", "n", "reason")
ALL_ARMS = "all"
# ice_type values (after strip, lower case, blanks and hyphens as "_") meaning that the
# participant stopped the allocated intervention
DISCONTINUATION_TYPES = (
    "discontinued_treatment",
    "discontinued_intervention",
    "treatment_discontinuation",
    "intervention_discontinuation",
    "discontinued",
)
LOST_TO_FOLLOW_UP = "lost_to_follow_up"
MODEL_MISSING_REASON = "not in the primary model (outcome, baseline or covariate missing)"


def _normalised(text: pd.Series) -> pd.Series:
    return (
        text.astype("string")
        .fillna("")
        .str.strip()
        .str.lower()
        .str.replace(r"[\s\-]+", "_", regex=True)
    )


# Over 80 lines only through its numpydoc docstring; the code itself is shorter.
def participant_flow(
    roster: pd.DataFrame,
    study: Study,
    analysed: Mapping[str, int] | None = None,
    exclusions: pd.DataFrame | None = None,
    screening: Mapping | None = None,
) -> pd.DataFrame:
    """Counts per arm for the CONSORT flow, one row per arm, stage and reason.

    Stages (in this order; only those that apply):

    ``screened``, ``excluded``
        From ``screening`` (the config's ``flow: {screened, excluded: {reason: n}}``), arm
        ``all``; one ``excluded`` row per reason, in the given order.
    ``randomised``
        Roster rows per arm.
    ``received_allocation``
        Roster column ``received_allocation`` is yes (:func:`roster_flag`); only when the
        column exists.
    ``discontinued_intervention``
        ``ice_type`` is one of :data:`DISCONTINUATION_TYPES` (compared after strip, lower case
        and blanks/hyphens as ``_``); only when the roster has ``ice_type``.
    ``withdrawn``, ``lost_to_follow_up``
        From ``withdrawal_reason``: the value ``lost_to_follow_up`` (same normalisation,
        so "Lost to follow-up" counts) is lost to follow-up, any other non-blank value is a
        withdrawal, one row per reason as written (sorted); only when the column exists.
    ``excluded_from_analysis``, ``analysed_primary``
        Only with ``analysed`` (the n of the primary model per arm). The randomised minus
        the analysed are broken down by ``exclusions`` (e.g. the analysis set's
        ``excluded``); what the reasons leave unexplained is "not in the primary model
        (outcome, baseline or covariate missing)".

    Within a stage a row with ``reason`` "" is the whole count; rows with reasons break it
    down, so a stage's total is the sum of its rows. A stage with nobody gets one row with
    n = 0.

    Parameters
    ----------
    roster : DataFrame
        ``participant_id, arm`` and optionally ``received_allocation``, ``ice_type``,
        ``withdrawal_reason``.
    study : Study
        Arm order.
    analysed : mapping, optional
        Arm id -> number of participants in the primary model.
    exclusions : DataFrame, optional
        ``arm, reason, n``: participants randomised but not analysed, by reason.
    screening : mapping, optional
        ``{"screened": n, "excluded": {reason: n}}``.

    Returns
    -------
    DataFrame
        ``arm, stage, n, reason``.

    Raises
    ------
    ValueError
        When the reasons given exceed the randomised minus analysed of an arm, or more are
        analysed than randomised.

    Examples
    --------
    >>> from trialflow.config import Arm, Study, Visit
    >>> study = Study("s", "s", "parallel", "", (Arm("c", "c"), Arm("t", "t")),
    ...               (Visit("baseline", "B", 0, "baseline"),), ())
    >>> roster = pd.DataFrame({"participant_id": list("abcd"), "arm": list("cctt"),
    ...     "withdrawal_reason": ["", "moved", "Lost to follow-up", ""]})
    >>> flow = participant_flow(roster, study, analysed={"c": 1, "t": 2})
    >>> flow.loc[flow["stage"] == "withdrawn", ["arm", "n", "reason"]].values.tolist()
    [['c', 1, 'moved'], ['t', 0, '']]
    """
    roster = roster.loc[roster["arm"].astype(str).isin(study.arm_ids)]
    arm = roster["arm"].astype(str)
    rows: list[dict] = _screening_rows(screening)
    randomised = arm.value_counts().reindex(study.arm_ids, fill_value=0)
    rows += [_row(a, "randomised", int(randomised[a])) for a in study.arm_ids]
    if "received_allocation" in roster.columns:
        received = roster_flag(roster, "received_allocation").fillna(False).to_numpy(bool)
        rows += _per_arm(arm, received, "received_allocation", study)
    if "ice_type" in roster.columns:
        stopped = _normalised(roster["ice_type"]).isin(DISCONTINUATION_TYPES).to_numpy(bool)
        rows += _per_arm(arm, stopped, "discontinued_intervention", study)
    if "withdrawal_reason" in roster.columns:
        text = roster["withdrawal_reason"].astype("string").fillna("").str.strip()
        lost = (_normalised(roster["withdrawal_reason"]) == LOST_TO_FOLLOW_UP).to_numpy(bool)
        withdrawn = (text != "").to_numpy(bool) & ~lost
        rows += _by_reason(arm[withdrawn], text[withdrawn], "withdrawn", study)
        rows += _per_arm(arm, lost, "lost_to_follow_up", study)
    if analysed is not None:
        rows += _analysis_rows(randomised, analysed, exclusions, study)
    return pd.DataFrame(rows, columns=list(FLOW_COLUMNS))


def _row(arm: str, stage: str, n: int, reason: str = "") -> dict:
    return {"arm": arm, "stage": stage, "n": int(n), "reason": reason}


def _screening_rows(screening: Mapping | None) -> list[dict]:
    if not screening:
        return []
    rows = []
    if screening.get("screened") is not None:
        rows.append(_row(ALL_ARMS, "screened", int(screening["screened"])))
    for reason, n in dict(screening.get("excluded") or {}).items():
        rows.append(_row(ALL_ARMS, "excluded", int(n), str(reason)))
    return rows


def _per_arm(arm: pd.Series, flags: np.ndarray, stage: str, study: Study) -> list[dict]:
    counts = arm[flags].value_counts().reindex(study.arm_ids, fill_value=0)
    return [_row(a, stage, int(counts[a])) for a in study.arm_ids]


def _by_reason(arm: pd.Series, reason: pd.Series, stage: str, study: Study) -> list[dict]:
    counts = pd.DataFrame({"arm": arm.to_numpy(), "reason": reason.astype(str).to_numpy()})
    counts = counts.groupby(["arm", "reason"], sort=True).size()
    rows = []
    for a in study.arm_ids:
        if a in counts.index.get_level_values("arm"):
            rows += [_row(a, stage, int(n), r) for r, n in counts.loc[a].items()]
        else:
            rows.append(_row(a, stage, 0))
    return rows


def _analysis_rows(randomised: pd.Series, analysed, exclusions, study: Study) -> list[dict]:
    given = (
        exclusions if exclusions is not None else pd.DataFrame({"arm": [], "reason": [], "n": []})
    )
    excluded_rows, analysed_rows = [], []
    for a in study.arm_ids:
        n_analysed = int(analysed.get(a, 0))
        missing = int(randomised[a]) - n_analysed
        mine = given.loc[(given["arm"].astype(str) == a) & (given["n"] > 0)]
        explained = int(mine["n"].sum())
        if missing < 0 or explained > missing:
            raise ValueError(
                f"participant flow of arm {a!r}: {int(randomised[a])} randomised, "
                f"{n_analysed} analysed, but {explained} excluded with reasons"
            )
        rows = [_row(a, "excluded_from_analysis", n, str(r)) for r, n in zip(
            mine["reason"], mine["n"], strict=True)]  # fmt: skip
        if missing > explained:
            rows.append(
                _row(a, "excluded_from_analysis", missing - explained, MODEL_MISSING_REASON)
            )
        excluded_rows += rows or [_row(a, "excluded_from_analysis", 0)]
        analysed_rows.append(_row(a, "analysed_primary", n_analysed))
    return excluded_rows + analysed_rows
