"""Shared reshaping of the long analysis data (participant_id, arm, visit, outcome, value)."""

from __future__ import annotations

import numpy as np
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
    """:func:`wide_by_visit` of every outcome (of :func:`outcome_ids`) in one pass.

    Text keys are replaced by their codes in sorted order (what ``groupby(sort=True)`` sorts
    by), so the same groups hold the same rows in the same order and get the same first arm
    and mean value as when each outcome is picked out and grouped by text: every table is
    identical to :func:`wide_by_visit`'s. Missing keys or non-text keys: outcome by outcome.
    """
    codes = _sorted_codes(analysis, ("outcome", "participant_id", "visit"))
    if codes is None:
        return _wide_tables_by_outcome(analysis, study)
    (outcome, person, visit), labels = codes
    people = len(labels[1])
    # one row per (outcome, participant), in sorted order, with its first arm
    group = outcome * people + person
    position = np.arange(len(analysis), dtype=float)
    first_row = pd.Series(position).groupby(group, sort=True).first()
    # groupby's first() skips missing arms: the first row with an arm, else the group's first
    with_arm = np.where(analysis["arm"].notna(), position, np.nan)
    first_arm = pd.Series(with_arm).groupby(group, sort=True).first().fillna(first_row)
    groups = first_row.index.to_numpy()
    arms = analysis["arm"].iloc[first_arm.to_numpy(np.int64)]
    # the mean value of each (outcome, participant, visit), placed in that row's visit column
    mean = analysis["value"].groupby([outcome, person, visit], sort=True).mean()
    cell = [
        level.to_numpy()[code]
        for level, code in zip(mean.index.levels, mean.index.codes, strict=True)
    ]
    row = np.searchsorted(groups, cell[0] * people + cell[1])
    column = pd.Index(study.visit_ids).get_indexer(labels[2])[cell[2]]
    known = column >= 0  # visits outside the study are dropped, as by reindex
    grid = np.full((len(groups), len(study.visit_ids)), np.nan)
    grid[row[known], column[known]] = mean.to_numpy()[known]
    bounds = np.searchsorted(groups // people, np.arange(len(labels[0]) + 1))
    tables = {}
    for index, name in enumerate(labels[0]):
        part = slice(bounds[index], bounds[index + 1])
        ids = pd.Index(labels[1].take(groups[part] % people), name="participant_id")
        wide = pd.DataFrame(grid[part], index=ids, columns=[str(v) for v in study.visit_ids])
        wide.insert(0, "arm", arms.iloc[part].set_axis(ids).astype(str))
        tables[name] = wide
    return {outcome: tables[outcome] for outcome in outcome_ids(analysis)}


def _wide_tables_by_outcome(analysis: pd.DataFrame, study: Study) -> dict[str, pd.DataFrame]:
    return {outcome: wide_by_visit(analysis, outcome, study) for outcome in outcome_ids(analysis)}


def first_by_participant(analysis: pd.DataFrame, columns: list[str]) -> dict[str, pd.DataFrame]:
    """Per outcome, the first non-missing value of ``columns`` per participant (covariates,
    constant within participant), indexed by ``participant_id``: one grouping of all rows,
    each outcome's table identical to grouping that outcome's rows alone."""
    keys = ("outcome", "participant_id")
    codes = _sorted_codes(analysis, keys)
    if codes is None:
        grouped = analysis.groupby(list(keys), sort=True)[columns].first()
        return {
            outcome: table.droplevel("outcome")
            for outcome, table in grouped.groupby(level="outcome", sort=False)
        }
    (outcome, person), (outcomes, people) = codes
    first = analysis[columns].groupby(outcome * len(people) + person, sort=True).first()
    groups = first.index.to_numpy()
    bounds = np.searchsorted(groups // len(people), np.arange(len(outcomes) + 1))
    tables = {}
    for index, name in enumerate(outcomes):
        part = first.iloc[bounds[index] : bounds[index + 1]]
        ids = people.take(groups[bounds[index] : bounds[index + 1]] % len(people))
        tables[name] = part.set_axis(pd.Index(ids, name="participant_id"))
    return tables


def _sorted_codes(analysis: pd.DataFrame, keys: tuple[str, ...]):
    """Integer codes of text key columns in sorted order, and their labels; None when a key
    is missing somewhere or not text (then group by the columns themselves)."""
    if not all(isinstance(analysis[key].dtype, pd.StringDtype) for key in keys):
        return None
    codes, labels = zip(*(pd.factorize(analysis[key], sort=True) for key in keys), strict=True)
    if any((code < 0).any() for code in codes):
        return None
    return tuple(code.astype(np.int64) for code in codes), labels


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
