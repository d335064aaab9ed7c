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


def wide_tables(analysis: pd.DataFrame, study: Study) -> dict[str, pd.DataFrame]:
    """:func:`wide_by_visit` of every outcome (of :func:`outcome_ids`), from one grouping of
    all rows instead of one pass over the data per outcome.

    Each outcome's groups hold the same rows in the same order as when the outcome is picked
    out first, so every table is identical to :func:`wide_by_visit`'s.
    """
    arms = analysis.groupby(["outcome", "participant_id"], sort=True)["arm"].first()
    values = (
        analysis.groupby(["outcome", "participant_id", "visit"], sort=True)["value"]
        .mean()
        .unstack("visit")
    )
    with_values = set(values.index.get_level_values("outcome"))
    tables = {}
    for outcome, outcome_arms in arms.groupby(level="outcome", sort=False):
        if outcome not in with_values:
            continue
        participant_arms = outcome_arms.droplevel("outcome")
        wide = values.xs(outcome, level="outcome")
        wide = wide.reindex(index=participant_arms.index, columns=study.visit_ids)
        wide.columns = [str(c) for c in wide.columns]
        wide.insert(0, "arm", participant_arms.astype(str))
        tables[outcome] = wide
    # anything unusual (an outcome without a dated value, a non-text key): one at a time
    return {
        outcome: tables[outcome] if outcome in tables else wide_by_visit(analysis, outcome, study)
        for outcome in outcome_ids(analysis)
    }


def first_by_participant(analysis: pd.DataFrame, columns: list[str]) -> dict[str, pd.DataFrame]:
    """Per outcome, the first non-missing value of ``columns`` per participant (covariates,
    constant within participant), indexed by ``participant_id``: one grouping of all rows,
    each outcome's table identical to grouping that outcome's rows alone."""
    grouped = analysis.groupby(["outcome", "participant_id"], sort=True)[columns].first()
    return {
        outcome: table.droplevel("outcome")
        for outcome, table in grouped.groupby(level="outcome", sort=False)
    }


def outcome_ids(analysis: pd.DataFrame, outcomes: pd.DataFrame | None = None) -> list[str]:
    """Outcomes to analyse: present in the data and not flagged ``analysed = False``, sorted."""
    present = set(analysis["outcome"].astype(str).unique())
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
