"""Table 1: baseline characteristics by arm, without p-values (CONSORT item 15)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..config import Study
from ..roster import PLAN_COLUMNS
from ._tidy import is_numeric_like
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


SUMMARIES = ("mean_sd", "median_iqr", "n_pct")
MISSING_SUMMARY = "missing"
# roster columns that describe conduct, not baseline characteristics
CONDUCT_COLUMNS = PLAN_COLUMNS


# Over 80 lines only through its numpydoc docstring; the code itself is shorter.
def declared_table1(
    participants: pd.DataFrame,
    study: Study,
    variables: list[str] | None = None,
    summary: dict[str, str] | None = None,
    analysis: pd.DataFrame | None = None,
    smd: bool = False,
) -> pd.DataFrame:
    """Table 1 as declared in the analysis plan: each variable with a fixed summary and a
    missing-count row, never chosen by a normality test.

    Default summary: n (%) for categorical variables and for numeric variables with at most
    two distinct values (a 0/1 variable always shows both levels "0" and "1", even when one
    is absent); mean (SD) for other numeric variables. ``summary`` overrides it per variable
    (``mean_sd``, ``median_iqr`` or ``n_pct``; a mean or median of text is an error).
    Percentages are of the participants with a value; quartiles are R's type 7; no
    significance tests (CONSORT).

    Parameters
    ----------
    participants : DataFrame
        The roster: ``participant_id, arm, ...``.
    study : Study
    variables : list of str, optional
        Variables in display order: roster columns, or outcome ids whose baseline value comes
        from ``analysis``. Default: every roster column except identifiers, disposition and
        conduct columns (``ice_visit``, ``ice_type``, ``per_protocol``,
        ``received_allocation``), then (with ``analysis``) every outcome's baseline.
    summary : dict, optional
        Variable -> ``mean_sd | median_iqr | n_pct``.
    analysis : DataFrame, optional
        Long analysis data, for baseline outcome values.
    smd : bool
        Standardised mean differences, first non-reference arm vs reference, as
        :func:`table1`.

    Returns
    -------
    DataFrame
        The columns of :func:`table1` (``variable, level, summary, arm, n, value,
        spread_low, spread_high, text, smd``). Per variable: its summary rows (one per level
        for ``n_pct``) for every arm and ``all``, then ``summary = "missing"`` rows with
        ``value`` the number of participants without a value and ``n`` the number in the
        arm.

    Raises
    ------
    ValueError
        For a variable found neither in the roster nor among the outcomes, an unknown
        summary, or a mean / median of a non-numeric variable.

    Examples
    --------
    >>> from trialflow.config import Arm, Study, Visit
    >>> study = Study("s", "s", "parallel", "", (Arm("c", "c"), Arm("t", "t")),
    ...               (Visit("baseline", "B", 0, "baseline"),), ())
    >>> roster = pd.DataFrame({"participant_id": list("abcd"), "arm": list("cctt"),
    ...                        "smoker": [1, 1, 1, None]})
    >>> table = declared_table1(roster, study, ["smoker"])
    >>> table.loc[table["arm"] == "all", ["level", "summary", "text"]].values.tolist()
    [['0', 'n_pct', '0 (0.0%)'], ['1', 'n_pct', '3 (100.0%)'], ['', 'missing', '1']]
    """
    roster = participants.loc[participants["arm"].astype(str).isin(study.arm_ids)].copy()
    roster["arm"] = roster["arm"].astype(str)
    if variables is None:
        excluded = set(NON_VARIABLES) | set(CONDUCT_COLUMNS)
        variables = [c for c in roster.columns if c not in excluded]
        if analysis is not None:
            variables += sorted(set(analysis["outcome"].astype(str).unique()) - set(variables))
    roster = _with_baseline(roster, analysis, study, variables)
    summary = dict(summary or {})
    unknown = sorted(set(summary.values()) - set(SUMMARIES))
    if unknown:
        raise ValueError(f"unknown Table 1 summary {unknown}; expected one of {SUMMARIES}")
    groups = [*study.arm_ids, ALL_ARMS]
    rows = []
    for variable in variables:
        column = roster[variable]
        kind, levels, values = _declared_kind(variable, column, summary.get(variable))
        if kind == "n_pct":
            rows += _level_rows(variable, values, levels, roster["arm"], groups, study, smd)
        else:
            rows += _numeric_summary_rows(
                variable, values, kind, roster["arm"], groups, study, smd
            )
        rows += _missing_rows(variable, values, roster["arm"], groups)
    return pd.DataFrame(rows, columns=list(TABLE1_COLUMNS))


def _with_baseline(roster, analysis, study, variables) -> pd.DataFrame:
    wanted = [v for v in variables if v not in roster.columns]
    if not wanted:
        return roster
    known = set() if analysis is None else set(analysis["outcome"].astype(str).unique())
    absent = [v for v in wanted if v not in known]
    if absent:
        raise ValueError(f"Table 1 variable(s) {absent} are neither roster columns nor outcomes")
    rows = analysis.loc[
        (analysis["visit"] == study.baseline.id) & analysis["outcome"].isin(wanted)
    ]
    baseline = rows.pivot_table(
        index="participant_id", columns="outcome", values="value", aggfunc="mean"
    )
    baseline = baseline.reindex(columns=wanted)
    baseline.columns = [str(c) for c in baseline.columns]
    return roster.merge(baseline, left_on="participant_id", right_index=True, how="left")


def _declared_kind(variable: str, column: pd.Series, requested: str | None):
    """(summary, levels for n_pct, values): values are floats for numeric summaries, else
    level strings with missing as <NA>."""
    text = column.astype("string").str.strip().replace("", pd.NA)
    if not is_numeric_like(column):
        if requested not in (None, "n_pct"):
            raise ValueError(f"Table 1 variable {variable!r} is not numeric: use n_pct")
        return "n_pct", sorted(text.dropna().unique()), text
    numbers = pd.to_numeric(text, errors="coerce").astype(float)
    distinct = np.unique(numbers.dropna().to_numpy())
    binary = len(distinct) <= 2
    kind = requested or ("n_pct" if binary else "mean_sd")
    if kind != "n_pct":
        return kind, [], numbers
    if set(distinct) <= {0.0, 1.0}:
        distinct = np.array([0.0, 1.0])
    names = {v: f"{v:g}" for v in distinct}  # at most two
    labels = numbers.map(names).astype("string")
    return kind, list(names.values()), labels


def _in_group(values: pd.Series, arm: pd.Series, group: str) -> pd.Series:
    return values if group == ALL_ARMS else values[(arm == group).to_numpy()]


def _level_rows(variable, labels, levels, arm, groups, study, smd) -> list[dict]:
    rows = []
    for level in levels:
        shares = {}
        for group in groups:
            observed = _in_group(labels, arm, group).dropna()
            shares[group] = (int((observed == level).sum()), len(observed))
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
                    "spread_high": math.nan,
                    "text": f"{count} ({percent:.1f}%)" if n else "",
                    "smd": difference,
                }
            )
    return rows


def _numeric_summary_rows(variable, numbers, kind, arm, groups, study, smd) -> list[dict]:
    described = {g: summarise(_in_group(numbers, arm, g).to_numpy(float)) for g in groups}
    difference = math.nan
    if smd and len(study.arm_ids) > 1:
        treated, reference = described[study.arm_ids[1]], described[study.arm_ids[0]]
        pooled = math.sqrt((treated["sd"] ** 2 + reference["sd"] ** 2) / 2)
        if pooled > 0:
            difference = (treated["mean"] - reference["mean"]) / pooled
    rows = []
    for group in groups:
        s = described[group]
        if kind == "mean_sd":
            value, low, high = s["mean"], s["sd"], math.nan
            text = f"{value:.1f} ({_one_decimal(low)})"
        else:
            value, low, high = s["median"], s["q1"], s["q3"]
            text = f"{value:.1f} [{low:.1f}, {high:.1f}]"
        rows.append(
            {
                "variable": variable,
                "level": "",
                "summary": kind,
                "arm": group,
                "n": s["n"],
                "value": value,
                "spread_low": low,
                "spread_high": high,
                "text": text if s["n"] else "",
                "smd": difference,
            }
        )
    return rows


def _one_decimal(x: float) -> str:
    return "NA" if math.isnan(x) else f"{x:.1f}"


def _missing_rows(variable, values, arm, groups) -> list[dict]:
    rows = []
    for group in groups:
        in_group = _in_group(values, arm, group)
        missing = int(in_group.isna().sum())
        rows.append(
            {
                "variable": variable,
                "level": "",
                "summary": MISSING_SUMMARY,
                "arm": group,
                "n": len(in_group),
                "value": missing,
                "spread_low": math.nan,
                "spread_high": math.nan,
                "text": str(missing),
                "smd": math.nan,
            }
        )
    return rows
