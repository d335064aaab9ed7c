"""Participant flow (CONSORT): how many were allocated, attended each visit, withdrew and
were analysed, by arm, from the roster's disposition columns."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from ..config import Study

__all__ = ["FLOW_STAGES", "flow_counts"]

FLOW_STAGES = ("allocated", "attended", "withdrawn", "analysed")


def flow_counts(
    study: Study, participants: pd.DataFrame, analysis: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Participant flow by arm and visit from the roster's disposition columns.

    A participant attended every visit up to ``last_visit`` (blank means the last visit of the
    study) and left before the next one with ``withdrawal_reason`` (blank means "not
    recorded"). Analysed = participants with at least one non-missing outcome value.

    Parameters
    ----------
    study : Study
    participants : pandas.DataFrame
        Roster with ``arm`` and optionally ``last_visit`` and ``withdrawal_reason``.
    analysis : pandas.DataFrame, optional
        Long analysis data, for the analysed count (all allocated when not given).

    Returns
    -------
    pandas.DataFrame
        ``arm, stage, visit, n, reasons`` where ``stage`` is ``allocated``, ``attended``,
        ``withdrawn`` (before ``visit``), ``analysed``; ``reasons`` is ``"reason: n; ..."``.
    """
    roster = participants.copy()
    index = {v.id: i for i, v in enumerate(study.visits)}
    last = (
        roster["last_visit"]
        if "last_visit" in roster.columns
        else pd.Series(np.nan, index=roster.index)
    )
    roster["_last"] = last.map(index).fillna(len(study.visits) - 1).astype(int)
    reason = (
        roster["withdrawal_reason"]
        if "withdrawal_reason" in roster.columns
        else pd.Series("", index=roster.index)
    )
    roster["_reason"] = (
        reason.fillna("").astype(str).str.strip().replace("", "reason not recorded")
    )
    analysed_ids = None
    if analysis is not None:
        analysed_ids = set(analysis.dropna(subset=["value"])["participant_id"])
    rows = []
    for arm in study.arm_ids:
        sub = roster[roster["arm"] == arm]
        rows.append({"arm": arm, "stage": "allocated", "visit": "", "n": len(sub), "reasons": ""})
        for k, visit in enumerate(study.visits):
            if k > 0:
                left = sub[sub["_last"] == k - 1]
                counts = Counter(left["_reason"])
                reasons = "; ".join(f"{r}: {counts[r]}" for r in sorted(counts))
                rows.append(
                    {
                        "arm": arm,
                        "stage": "withdrawn",
                        "visit": visit.id,
                        "n": len(left),
                        "reasons": reasons,
                    }
                )
            rows.append(
                {
                    "arm": arm,
                    "stage": "attended",
                    "visit": visit.id,
                    "n": int((sub["_last"] >= k).sum()),
                    "reasons": "",
                }
            )
        n_analysed = (
            len(sub)
            if analysed_ids is None
            else int(sub["participant_id"].isin(analysed_ids).sum())
        )
        rows.append({"arm": arm, "stage": "analysed", "visit": "", "n": n_analysed, "reasons": ""})
    return pd.DataFrame(rows, columns=["arm", "stage", "visit", "n", "reasons"])
