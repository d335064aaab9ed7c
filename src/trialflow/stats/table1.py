"""Table 1: baseline characteristics by arm, without p-values (CONSORT item 15)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..config import Study
from .between import NON_VARIABLES, categorical_variables
from .descriptives import summarise
from .normality import shapiro_numbers

TABLE1_COLUMNS = (
    "variable",
    "level",
    "summary",
    "arm",
    "n",
    "value",
    "spread_low",
    "spread_high",
    "text",
    "smd",
)
ALL_ARMS = "all"


def table1(
    participants: pd.DataFrame,
    study: Study,
    analysis: pd.DataFrame | None = None,
    variables: list[str] | None = None,
    smd: bool = False,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Baseline characteristics by arm and overall, in tidy form.

    Numeric variables are summarised as mean (SD) when Shapiro-Wilk p >= ``alpha`` in every
    arm, else median [Q1, Q3] (the same rule as ``test_selection: auto``); categorical ones as
    n (%) of the non-missing. No significance tests (CONSORT).

    Parameters
    ----------
    participants : DataFrame
        The roster: ``participant_id, arm, age, sex, height_cm, weight_kg, ...``.
    study : Study
        Arm order; the baseline visit.
    analysis : DataFrame, optional
        Long analysis data; the baseline values of each outcome are added as variables
        (named by outcome id).
    variables : list of str, optional
        Roster columns to describe, in order; default every column except
        ``participant_id``, ``arm`` and the disposition columns.
    smd : bool
        Add standardised mean differences (first non-reference arm vs reference): for numeric
        variables (m1 - m0) / sqrt((s1^2 + s0^2) / 2), for each category level
        (p1 - p0) / sqrt((p1 (1 - p1) + p0 (1 - p0)) / 2).
    alpha : float
        Shapiro-Wilk threshold for mean (SD) versus median [IQR].

    Returns
    -------
    DataFrame
        Columns ``variable, level, summary, arm, n, value, spread_low, spread_high, text,
        smd``; ``summary`` is ``mean_sd`` (value = mean, spread_low = SD), ``median_iqr``
        (value = median, spread_low/high = Q1/Q3) or ``n_pct`` (value = count, spread_low =
        percent); ``arm`` is an arm id or ``all``; ``text`` the formatted cell.
    """
    roster = participants.loc[participants["arm"].astype(str).isin(study.arm_ids)].copy()
    roster["arm"] = roster["arm"].astype(str)
    if variables is None:
        variables = [c for c in roster.columns if c not in NON_VARIABLES]
    if analysis is not None:
        baseline = analysis.loc[analysis["visit"] == study.baseline.id].pivot_table(
            index="participant_id", columns="outcome", values="value", aggfunc="mean"
        )
        baseline.columns = [str(c) for c in baseline.columns]
        roster = roster.merge(baseline, left_on="participant_id", right_index=True, how="left")
        variables = variables + [c for c in baseline.columns if c not in variables]
    categorical = set(categorical_variables(roster))
    groups = [*study.arm_ids, ALL_ARMS]
    rows = []
    for variable in variables:
        column = roster[variable]
        if variable not in categorical:
            column = pd.to_numeric(column.replace("", np.nan), errors="coerce")
        if variable in categorical:
            rows.extend(_categorical_rows(variable, column, roster["arm"], groups, study, smd))
        else:
            rows.extend(_numeric_rows(variable, column, roster["arm"], groups, study, smd, alpha))
    return pd.DataFrame(rows, columns=list(TABLE1_COLUMNS))


def _numeric_rows(variable, column, arm, groups, study, smd, alpha) -> list[dict]:
    values = {
        g: column[arm == g].to_numpy(float) if g != ALL_ARMS else column.to_numpy(float)
        for g in groups
    }
    normal = all(
        shapiro_numbers(values[a])["p_value"] >= alpha for a in study.arm_ids
    )  # NaN (too few) compares False: describe by median [IQR]
    difference = math.nan
    if smd and len(study.arm_ids) > 1:
        treated, reference = (
            summarise(values[study.arm_ids[1]]),
            summarise(values[study.arm_ids[0]]),
        )
        pooled = math.sqrt((treated["sd"] ** 2 + reference["sd"] ** 2) / 2)
        if pooled > 0:
            difference = (treated["mean"] - reference["mean"]) / pooled
    rows = []
    for group in groups:
        s = summarise(values[group])
        if normal:
            value, low, high = s["mean"], s["sd"], math.nan
            text = f"{value:.1f} ({low:.1f})" if s["n"] else ""
        else:
            value, low, high = s["median"], s["q1"], s["q3"]
            text = f"{value:.1f} [{low:.1f}, {high:.1f}]" if s["n"] else ""
        rows.append(
            {
                "variable": variable,
                "level": "",
                "summary": "mean_sd" if normal else "median_iqr",
                "arm": group,
                "n": s["n"],
                "value": value,
                "spread_low": low,
                "spread_high": high,
                "text": text,
                "smd": difference,
            }
        )
    return rows


def _categorical_rows(variable, column, arm, groups, study, smd) -> list[dict]:
    text_values = column.astype("string").str.strip().replace("", pd.NA)
    levels = sorted(text_values.dropna().unique())
    rows = []
    for level in levels:
        shares = {}
        for group in groups:
            in_group = text_values if group == ALL_ARMS else text_values[arm == group]
            observed = in_group.dropna()
            count = int((observed == level).sum())
            shares[group] = (count, len(observed))
        difference = math.nan
        if smd and len(study.arm_ids) > 1:
            (k1, n1), (k0, n0) = shares[study.arm_ids[1]], shares[study.arm_ids[0]]
            if n1 and n0:
                p1, p0 = k1 / n1, k0 / n0
                pooled = math.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2)
                difference = (p1 - p0) / pooled if pooled > 0 else math.nan
        for group in groups:
            count, n = shares[group]
            percent = 100 * count / n if n else math.nan
            rows.append(
                {
                    "variable": variable,
                    "level": str(level),
                    "summary": "n_pct",
                    "arm": group,
                    "n": n,
                    "value": count,
                    "spread_low": percent,
                    "spread_high": np.nan,
                    "text": f"{count} ({percent:.1f}%)" if n else "",
                    "smd": difference,
                }
            )
    return rows
