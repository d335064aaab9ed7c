"""Shared reshaping of the long analysis data (participant_id, arm, visit, outcome, value)."""

from __future__ import annotations

import pandas as pd

from ..config import Study


def wide_by_visit(analysis: pd.DataFrame, outcome: str, study: Study) -> pd.DataFrame:
    """One outcome as one row per participant: ``arm`` and one column per visit id.

    Visits with no data become all-NaN columns, so every study visit is present; duplicate
    (participant, visit) rows are averaged away only if the assembler let them through.
    """
    rows = analysis.loc[analysis["outcome"] == outcome]
    arms = rows.groupby("participant_id", sort=True)["arm"].first()
    values = rows.groupby(["participant_id", "visit"], sort=True)["value"].mean().unstack("visit")
    values = values.reindex(index=arms.index, columns=study.visit_ids)
    values.columns = [str(c) for c in values.columns]
    values.insert(0, "arm", arms.astype(str))
    return values


def outcome_ids(analysis: pd.DataFrame, outcomes: pd.DataFrame | None = None) -> list[str]:
    """Outcomes to analyse: present in the data and not flagged ``analysed = False``, sorted."""
    present = set(analysis["outcome"].astype(str))
    if outcomes is not None and "analysed" in outcomes.columns:
        skipped = set(outcomes.loc[~outcomes["analysed"].astype(bool), "outcome"].astype(str))
        present -= skipped
    return sorted(present)


def is_numeric_like(series: pd.Series) -> bool:
    """Whether a roster column holds numbers (possibly read as text); booleans do not count."""
    if pd.api.types.is_bool_dtype(series):
        return False
    if pd.api.types.is_numeric_dtype(series):
        return True
    present = series.dropna()
    present = present[present.astype(str).str.strip() != ""]
    return bool(len(present)) and pd.to_numeric(present, errors="coerce").notna().all()
