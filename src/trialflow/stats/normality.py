"""Shapiro-Wilk normality tests per arm and visit, and on paired differences."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from ..config import Study
from ._tidy import wide_tables
from .contract import VALUES_CONTRAST, empty_numbers, keyed_rows, numbers_frame, within_contrast

MIN_N = 3


def shapiro_wilk(x: np.ndarray) -> pd.DataFrame:
    """Shapiro-Wilk test of one sample (R's ``shapiro.test``; scipy implements the same AS R94).

    Parameters
    ----------
    x : array_like
        The sample; NaN are dropped.

    Returns
    -------
    DataFrame
        One row with the contract's number columns: ``n``, ``statistic`` (W), ``p_value``;
        a ``note`` instead of numbers when n < 3, n > 5000 or all values are equal.
    """
    return numbers_frame(shapiro_numbers(x))


def shapiro_numbers(x: np.ndarray) -> dict:
    """:func:`shapiro_wilk` as a dict of the contract's number columns."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n < MIN_N:
        return empty_numbers(f"fewer than {MIN_N} observations", n=n)
    if n > 5000:
        return empty_numbers("more than 5000 observations (R's limit)", n=n)
    if np.ptp(x) == 0:
        return empty_numbers("all values equal", n=n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = stats.shapiro(x)
    return empty_numbers(n=n, statistic=float(result.statistic), p_value=float(result.pvalue))


def normality(
    analysis: pd.DataFrame, study: Study, tables: Mapping[str, pd.DataFrame] | None = None
) -> pd.DataFrame:
    """Shapiro-Wilk rows of a study: every arm x visit cell, and every within-arm change.

    Parameters
    ----------
    analysis : DataFrame
        Long analysis data: ``participant_id, arm, visit, outcome, value``.
    study : Study
    tables : mapping of str to DataFrame, optional
        Each outcome's wide table as :func:`trialflow.stats._tidy.wide_tables` makes them,
        when the caller already has them (:func:`trialflow.stats.analyse_study` reshapes once
        for all analyses); made here otherwise.

    Returns
    -------
    DataFrame
        Contract rows with ``analysis = "shapiro_wilk"``; cells have ``contrast = "values"``,
        changes the change's label (e.g. ``week8 - baseline``); ``group`` is the arm.
    """
    rows = []
    for outcome, wide in (wide_tables(analysis, study) if tables is None else tables).items():
        for arm in study.arm_ids:
            cells = wide.loc[wide["arm"] == arm]
            for visit in study.visit_ids:
                keys = _keys(study, outcome, visit, VALUES_CONTRAST, arm)
                rows.append(keys | shapiro_numbers(cells[visit].to_numpy()))
            for later, earlier in change_pairs(study):
                change = cells[later] - cells[earlier]
                keys = _keys(study, outcome, later, within_contrast(later, earlier), arm)
                rows.append(keys | shapiro_numbers(change.to_numpy()))
    return keyed_rows(rows)


def change_pairs(study: Study) -> list[tuple[str, str]]:
    """The within-arm changes a study reports: each later visit minus baseline, and follow-up
    minus end of treatment when the study has both."""
    pairs = [(visit.id, study.baseline.id) for visit in study.post_baseline]
    eot, follow_up = study.end_of_treatment, study.follow_up
    if eot is not None and follow_up is not None and eot.week < follow_up.week:
        pairs.append((follow_up.id, eot.id))
    return pairs


def _keys(study: Study, outcome: str, visit: str, contrast: str, group: str) -> dict:
    return {
        "study": study.id,
        "outcome": outcome,
        "visit": visit,
        "analysis": "shapiro_wilk",
        "contrast": contrast,
        "group": group,
    }


def qq_points(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Points and reference line of a normal Q-Q plot.

    From three values on, scipy's ``probplot``: theoretical quantiles at Filliben's
    plotting positions (``1 - 0.5^(1/n)`` at the ends, ``(i - 0.3175) / (n + 0.365)``
    inside) and the least-squares line through the points. Fewer values get the positions
    ``(i - 0.5) / n`` and no line.

    Parameters
    ----------
    values : array_like
        The sample (finite values).

    Returns
    -------
    theoretical : ndarray
        Normal quantiles, increasing.
    ordered : ndarray
        The sorted sample.
    slope, intercept : float
        The line ``ordered ~ theoretical`` (NaN for fewer than three values).
    """
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    if n >= 3:
        (theoretical, ordered), (slope, intercept, _) = stats.probplot(x, dist="norm")
        return theoretical, ordered, float(slope), float(intercept)
    theoretical = stats.norm.ppf((np.arange(1, n + 1) - 0.5) / n)
    return theoretical, x, np.nan, np.nan
