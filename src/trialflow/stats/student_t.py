"""Student's two-sample t-test (equal variances), for replicating papers that used it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .contract import NUMBER_COLUMNS, empty_numbers
from .effect_sizes import hedges_g_numbers, merge_effect_size
from .normality import MIN_N

#: The contract's number columns (with the effect-size interval since contract version 2).
STUDENT_T_COLUMNS = NUMBER_COLUMNS


def student_t(x, y, conf_level: float = 0.95) -> pd.DataFrame:
    """Student's t-test of ``x - y`` with the pooled variance (R's
    ``t.test(x, y, var.equal = TRUE)``) and Hedges' g with its interval.

    SE = s_p sqrt(1/n_x + 1/n_y), s_p^2 = ((n_x - 1) s_x^2 + (n_y - 1) s_y^2) / df,
    df = n_x + n_y - 2, t = difference / SE; the interval is difference -/+ t_(df) SE.

    Parameters
    ----------
    x, y : array_like
        The two samples (treatment arm first); NaN are dropped.
    conf_level : float

    Returns
    -------
    DataFrame
        One row with :data:`STUDENT_T_COLUMNS`: ``n`` (both arms), ``estimate`` (difference
        in means), ``se``, ``df``, ``ci_low``, ``ci_high``, ``statistic`` (t), ``p_value``,
        ``effect_size`` (Hedges' g, pooled SD, see
        :func:`trialflow.stats.effect_sizes.hedges_g`) with ``effect_size_ci_low``,
        ``effect_size_ci_high``; ``p_adjusted`` empty. Fewer than 3 values in an arm (the
        rule of the Welch rows) or zero variance in both arms give empty numbers and a note.

    Examples
    --------
    >>> row = student_t([5.1, 6.0, 7.2, 6.4], [4.0, 5.2, 4.4]).iloc[0]
    >>> round(float(row["estimate"]), 4), float(row["df"]), round(float(row["statistic"]), 4)
    (1.6417, 5.0, 2.7593)
    """
    row = student_t_numbers(x, y, conf_level)
    return pd.DataFrame([{column: row[column] for column in STUDENT_T_COLUMNS}])


def student_t_numbers(x, y, conf_level: float = 0.95) -> dict[str, Any]:
    """:func:`student_t` as a dict of :data:`STUDENT_T_COLUMNS`."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    nx, ny = len(x), len(y)
    blank = {"effect_size_ci_low": math.nan, "effect_size_ci_high": math.nan}
    if min(nx, ny) < MIN_N:
        return empty_numbers(f"fewer than {MIN_N} observations in an arm", n=nx + ny) | blank
    df = nx + ny - 2
    pooled_variance = ((nx - 1) * x.var(ddof=1) + (ny - 1) * y.var(ddof=1)) / df
    difference = float(x.mean() - y.mean())
    if pooled_variance == 0:
        return empty_numbers("zero variance in both arms", n=nx + ny, estimate=difference) | blank
    se = math.sqrt(pooled_variance * (1 / nx + 1 / ny))
    t = difference / se
    half = stats.t.ppf(0.5 + conf_level / 2, df) * se
    numbers = empty_numbers(
        "equal variances assumed (Student)",
        n=nx + ny,
        estimate=difference,
        se=se,
        df=df,
        ci_low=difference - half,
        ci_high=difference + half,
        statistic=t,
        p_value=float(2 * stats.t.sf(abs(t), df)),
    )
    return merge_effect_size(numbers, hedges_g_numbers(x, y, conf_level))
