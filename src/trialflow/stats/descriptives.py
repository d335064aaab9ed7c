"""Descriptive statistics per outcome, arm and visit, and the t interval of a mean."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..config import Study
from ..membership import is_in

DESCRIPTIVE_COLUMNS = (
    "outcome",
    "arm",
    "visit",
    "n",
    "n_missing",
    "mean",
    "sd",
    "median",
    "q1",
    "q3",
    "min",
    "max",
)


def descriptives(
    analysis: pd.DataFrame,
    participants: pd.DataFrame | None = None,
    study: Study | None = None,
) -> pd.DataFrame:
    """n, missing, mean, SD, median, quartiles, min and max per outcome, arm and visit.

    Parameters
    ----------
    analysis : DataFrame
        Long analysis data: ``participant_id, arm, visit, outcome, value``.
    participants : DataFrame, optional
        The roster (``participant_id, arm``). When given, ``n_missing`` counts every randomised
        participant of the arm without a value (also those with no row at all); otherwise only
        rows whose ``value`` is missing.
    study : Study, optional
        Orders arms and visits as in the config (and adds empty cells); otherwise sorted.

    Returns
    -------
    DataFrame
        Columns ``outcome, arm, visit, n, n_missing, mean, sd, median, q1, q3, min, max``;
        quartiles by R's default type 7 (numpy's linear); SD with n - 1; empty numbers where
        n is 0 (and SD where n is 1).
    """
    arms = study.arm_ids if study else sorted(analysis["arm"].astype(str).unique())
    visits = study.visit_ids if study else sorted(analysis["visit"].astype(str).unique())
    # one pass over the rows; each cell keeps its rows in data order, so every statistic is
    # computed on the same array as when the cell was picked out by a mask
    cells = dict(list(analysis.groupby(["outcome", "arm", "visit"], sort=False, dropna=False)))
    empty = analysis.iloc[:0]
    rosters = {}
    if participants is not None:  # as objects: hashed, not compared one by one
        rosters = {
            arm: pd.Index(
                participants.loc[participants["arm"] == arm, "participant_id"], dtype=object
            )
            for arm in arms
        }
    rows = []
    for outcome in sorted(analysis["outcome"].astype(str).unique()):
        for arm in arms:
            for visit in visits:
                cell = cells.get((outcome, arm, visit), empty)
                values = cell["value"].to_numpy(float)
                values = values[~np.isnan(values)]
                if participants is not None:
                    observed = cell.loc[cell["value"].notna(), "participant_id"].unique()
                    n_missing = int((~is_in(rosters[arm], observed)).sum())
                else:
                    n_missing = int(cell["value"].isna().sum())
                rows.append(
                    {"outcome": outcome, "arm": arm, "visit": visit}
                    | summarise(values)
                    | {"n_missing": n_missing}
                )
    return pd.DataFrame(rows, columns=list(DESCRIPTIVE_COLUMNS))


def summarise(values: np.ndarray) -> dict[str, float]:
    """n, mean, SD, median, quartiles (type 7), min and max of one sample (NaN dropped).

    Parameters
    ----------
    values : array_like

    Returns
    -------
    dict
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return dict.fromkeys(("mean", "sd", "median", "q1", "q3", "min", "max"), np.nan) | {"n": 0}
    q1, median, q3 = np.percentile(x, [25, 50, 75])
    return {
        "n": n,
        "mean": float(x.mean()),
        "sd": float(x.std(ddof=1)) if n > 1 else np.nan,
        "median": float(median),
        "q1": float(q1),
        "q3": float(q3),
        "min": float(x.min()),
        "max": float(x.max()),
    }


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float, int]:
    """Mean with a t-based confidence interval, ``mean ± t(1/2 + level/2, n-1) SD / sqrt(n)``.

    The interval of R's ``t.test(x, conf.level = level)``, the one the within-arm paired
    t-test reports for a change (figures draw it instead of a bootstrap interval, which
    would depend on a random seed).

    Parameters
    ----------
    values : sequence of float
        Missing values are dropped.
    level : float
        Confidence level.

    Returns
    -------
    tuple
        ``(mean, low, high, n)``; the interval is NaN for fewer than two values.

    Examples
    --------
    >>> [round(float(v), 4) for v in mean_ci([1.0, 2.0, 3.0, 4.0])]
    [2.5, 0.4457, 4.5543, 4.0]
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return (np.nan, np.nan, np.nan, 0)
    mean = float(x.mean())
    if n < 2:
        return (mean, np.nan, np.nan, n)
    half = stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / np.sqrt(n)
    return (mean, mean - half, mean + half, n)
