"""Standardised effect sizes with two-sided confidence intervals, as R's ``effectsize`` 0.8.3.

One rule per row type:

* two-sample t rows (Welch and Student): Hedges' g with the pooled SD
  (``effectsize::hedges_g(x, y, pooled_sd = TRUE)``);
* paired t rows: Cohen's d_z, the mean change over the SD of the changes
  (``effectsize::cohens_d(after, before, paired = TRUE)``, identical to the one-sample
  ``cohens_d(after - before)``), without small-sample correction;
* rank-test rows: the rank-biserial correlation (``effectsize::rank_biserial``), two-sample or
  matched pairs;
* model-based rows (ANCOVA, MMRM): the adjusted difference over the pooled within-arm
  baseline SD (:func:`standardised_difference`).

The t-based intervals invert the noncentral t distribution, as ``effectsize`` does: with
``t`` the test statistic and ``df`` its degrees of freedom, the limits are the noncentrality
parameters ``ncp`` at which ``P(T_df,ncp <= t)`` equals ``1 - alpha/2`` and ``alpha/2``,
rescaled to the effect-size scale. ``effectsize`` finds them with ``optim`` (Nelder-Mead,
``abstol = 1e-9``), which stops about 1e-7 short of the root; here they are roots of
``scipy.stats.nct.cdf`` found by Brent's method to machine precision, so the limits agree
with ``effectsize`` to about 1e-7 and with an exact inversion in R (``uniroot`` on ``pt``) to
about 1e-10 (``tests/reference/analysis_plan.R``).

The rank-biserial interval is ``tanh(atanh(r) +/- z SE)`` with effectsize's standard errors.
For paired data it follows ``rank_biserial(after - before)``: effectsize 0.8.3's
``rank_biserial(after, before, paired = TRUE)`` counts the non-zero *after values* instead of
the non-zero differences for the standard error. At ``r = +/-1`` the interval does not exist
(``atanh`` is infinite; effectsize prints ``(r, r)``) and is left empty with a note.

Every function returns a dict (``*_numbers``) or a one-row DataFrame with
:data:`EFFECT_SIZE_COLUMNS`; degenerate data give NaN numbers and the reason in ``note``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.special import gammaln

EFFECT_SIZE_COLUMNS = (
    "effect_size",
    "effect_size_name",
    "effect_size_ci_low",
    "effect_size_ci_high",
    "note",
)

# the bracket around t is widened at most this many times before the limit is given up
_MAX_BRACKET_STEPS = 60


def empty_effect_size(note: str = "", name: str = "", **values: Any) -> dict[str, Any]:
    """An effect-size dict with every number NaN except ``values``."""
    row: dict[str, Any] = {
        "effect_size": math.nan,
        "effect_size_name": name,
        "effect_size_ci_low": math.nan,
        "effect_size_ci_high": math.nan,
        "note": note,
    }
    row.update(values)
    return row


def effect_size_frame(row: Mapping[str, Any]) -> pd.DataFrame:
    """One effect-size dict as a one-row DataFrame with :data:`EFFECT_SIZE_COLUMNS`."""
    return pd.DataFrame([{column: row[column] for column in EFFECT_SIZE_COLUMNS}])


def merge_effect_size(numbers: Mapping[str, Any], effect: Mapping[str, Any]) -> dict[str, Any]:
    """A test's numbers dict with an effect-size dict added; the two notes are joined.

    Parameters
    ----------
    numbers : mapping
        Numbers of a test (the contract's number columns, e.g. from
        :func:`trialflow.stats.student_t.student_t_numbers`).
    effect : mapping
        An effect-size dict from this module.

    Returns
    -------
    dict
        ``numbers`` with ``effect_size``, ``effect_size_name``, ``effect_size_ci_low`` and
        ``effect_size_ci_high`` replaced, and ``note`` = both notes joined by ``"; "``.
    """
    merged = dict(numbers)
    for key in EFFECT_SIZE_COLUMNS[:-1]:
        merged[key] = effect[key]
    merged["note"] = "; ".join(filter(None, [numbers.get("note", ""), effect["note"]]))
    return merged


def with_effect_size(numbers: Mapping[str, Any], effect: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`merge_effect_size` when the test has a statistic, else ``numbers`` unchanged
    (a degenerate test row keeps its own note and no effect size)."""
    statistic = numbers.get("statistic", math.nan)
    if statistic is None or not math.isfinite(float(statistic)):
        return dict(numbers)
    return merge_effect_size(numbers, effect)


def noncentral_t_limits(t: float, df: float, conf_level: float = 0.95) -> tuple[float, float]:
    """Confidence limits for the noncentrality parameter of a t statistic.

    The limits solve ``P(T <= t | df, ncp) = 1 - alpha/2`` (lower) and ``= alpha/2`` (upper),
    ``alpha = 1 - conf_level``, where ``T`` has the noncentral t distribution
    (``scipy.stats.nct``); the cdf falls as ``ncp`` grows, so each is the single root of a
    monotone function, bracketed around ``t`` and found by Brent's method.

    Parameters
    ----------
    t : float
        Observed t statistic.
    df : float
        Its degrees of freedom (> 0).
    conf_level : float

    Returns
    -------
    tuple of float
        ``(low, high)``; NaN where ``t`` or ``df`` is not finite and positive, or where the
        distribution cannot be evaluated that far out (|t| of several hundred).

    Examples
    --------
    >>> low, high = noncentral_t_limits(2.0, 10)
    >>> round(low, 4), round(high, 4)
    (-0.1835, 4.1011)
    """
    if not (math.isfinite(t) and math.isfinite(df) and df > 0):
        return math.nan, math.nan
    alpha = 1 - conf_level
    return _ncp_root(t, df, 1 - alpha / 2), _ncp_root(t, df, alpha / 2)


def _ncp_root(t: float, df: float, probability: float) -> float:
    def excess(ncp: float) -> float:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return float(stats.nct.cdf(t, df, ncp)) - probability

    def monotone_excess(ncp: float) -> float:
        # scipy's nct.cdf is NaN far out in a tail (e.g. ncp = 50 for t = 95, df = 4749, where
        # the cdf is 1 to double precision): there the cdf is 1 below t and 0 above it
        value = excess(ncp)
        if math.isnan(value):
            return (1.0 if ncp < t else 0.0) - probability
        return value

    step = 2.0 + abs(t) / 2
    low, high = t - step, t + step
    for _ in range(_MAX_BRACKET_STEPS):
        f_low, f_high = excess(low), excess(high)
        if math.isnan(f_low) or math.isnan(f_high):
            return math.nan
        if f_low >= 0 >= f_high:
            root = optimize.brentq(
                monotone_excess, low, high, xtol=1e-13, rtol=4 * np.finfo(float).eps
            )
            # a root where the cdf itself cannot be evaluated is no answer
            return float(root) if not math.isnan(excess(root)) else math.nan
        step *= 2
        low, high = (low - step, high) if f_low < 0 else (low, high + step)
    return math.nan


def floats(x) -> np.ndarray:
    """``x`` as a float array. A Series goes through ``to_numpy``: ``np.asarray`` on a
    Series with a text index costs a lookup in the index (about 1 ms at 50,000 rows)."""
    if isinstance(x, pd.Series):
        return x.to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(x, dtype=float)


def _clean(x) -> np.ndarray:
    x = floats(x)
    return x[~np.isnan(x)]


def _pairs(after, before) -> np.ndarray:
    """Differences ``after - before`` of the complete pairs (``before`` None: ``after``)."""
    after = floats(after)
    d = after if before is None else after - floats(before)
    return d[~np.isnan(d)]


def hedges_correction(df: float) -> float:
    """Hedges' exact small-sample factor J = Gamma(df/2) / (sqrt(df/2) Gamma((df - 1)/2)).

    Examples
    --------
    >>> round(hedges_correction(2), 6)  # 1 / sqrt(pi)
    0.56419
    """
    return math.exp(gammaln(df / 2) - math.log(math.sqrt(df / 2)) - gammaln((df - 1) / 2))


def hedges_g(x, y, conf_level: float = 0.95) -> pd.DataFrame:
    """Hedges' g of ``x - y`` with the pooled SD and its noncentral-t interval.

    ``effectsize::hedges_g(x, y, pooled_sd = TRUE)``: d = (mean_x - mean_y) / s_p with
    s_p^2 = ((n_x - 1) s_x^2 + (n_y - 1) s_y^2) / (n_x + n_y - 2); the interval inverts
    the Student t statistic t = d / sqrt(1/n_x + 1/n_y) on df = n_x + n_y - 2
    (:func:`noncentral_t_limits`), and estimate and limits are multiplied by
    :func:`hedges_correction` (df).

    Parameters
    ----------
    x, y : array_like
        The two samples (treatment arm first); NaN are dropped.
    conf_level : float

    Returns
    -------
    DataFrame
        One row with :data:`EFFECT_SIZE_COLUMNS` (``effect_size_name = "hedges_g"``); empty
        numbers and a note when an arm has fewer than 2 values or both arms have zero
        variance.

    Examples
    --------
    >>> row = hedges_g([1, 2], [3, 5]).iloc[0]
    >>> round(float(row["effect_size"]), 4), round(float(row["effect_size_ci_low"]), 4)
    (-1.2616, -2.8008)
    """
    return effect_size_frame(hedges_g_numbers(x, y, conf_level))


def hedges_g_numbers(x, y, conf_level: float = 0.95) -> dict[str, Any]:
    """:func:`hedges_g` as a dict."""
    x, y = _clean(x), _clean(y)
    nx, ny = len(x), len(y)
    name = "hedges_g"
    if min(nx, ny) < 2:
        return empty_effect_size("Hedges' g needs at least 2 values in each arm", name)
    df = nx + ny - 2
    pooled = math.sqrt(((nx - 1) * x.var(ddof=1) + (ny - 1) * y.var(ddof=1)) / df)
    if pooled == 0:
        return empty_effect_size("Hedges' g undefined: zero variance in both arms", name)
    d = float(x.mean() - y.mean()) / pooled
    scale = math.sqrt(1 / nx + 1 / ny)
    low, high = noncentral_t_limits(d / scale, df, conf_level)
    j = hedges_correction(df)
    note = "" if math.isfinite(low + high) else "noncentral t interval not computable"
    return empty_effect_size(
        note,
        name,
        effect_size=d * j,
        effect_size_ci_low=low * scale * j,
        effect_size_ci_high=high * scale * j,
    )


def cohens_dz(after, before=None, conf_level: float = 0.95) -> pd.DataFrame:
    """Cohen's d_z of paired data: mean change over the SD of the changes, with its interval.

    ``effectsize::cohens_d(after, before, paired = TRUE)`` (= ``cohens_d(after - before)``):
    d_z = mean(d) / sd(d) over the n complete pairs, no small-sample correction; the interval
    inverts the paired t statistic t = d_z sqrt(n) on n - 1 df and divides the noncentrality
    limits by sqrt(n).

    Parameters
    ----------
    after, before : array_like
        Aligned measurements; pairs with a NaN are dropped. ``before = None`` takes ``after``
        as the differences.
    conf_level : float

    Returns
    -------
    DataFrame
        One row with :data:`EFFECT_SIZE_COLUMNS` (``effect_size_name = "cohen_dz"``); empty
        numbers and a note with fewer than 2 pairs or changes of zero variance.

    Examples
    --------
    >>> row = cohens_dz([2, 4.5], [1, 2]).iloc[0]
    >>> round(float(row["effect_size"]), 4), round(float(row["effect_size_ci_high"]), 4)
    (1.6499, 4.0234)
    """
    return effect_size_frame(cohens_dz_numbers(after, before, conf_level))


def cohens_dz_numbers(after, before=None, conf_level: float = 0.95) -> dict[str, Any]:
    """:func:`cohens_dz` as a dict."""
    d = _pairs(after, before)
    n = len(d)
    name = "cohen_dz"
    if n < 2:
        return empty_effect_size("Cohen's d_z needs at least 2 complete pairs", name)
    sd = float(d.std(ddof=1))
    if sd == 0:
        return empty_effect_size("Cohen's d_z undefined: zero variance of the changes", name)
    dz = float(d.mean()) / sd
    low, high = noncentral_t_limits(dz * math.sqrt(n), n - 1, conf_level)
    note = "" if math.isfinite(low + high) else "noncentral t interval not computable"
    return empty_effect_size(
        note,
        name,
        effect_size=dz,
        effect_size_ci_low=low / math.sqrt(n),
        effect_size_ci_high=high / math.sqrt(n),
    )


def rank_biserial(x, y=None, paired: bool = False, conf_level: float = 0.95) -> pd.DataFrame:
    """Rank-biserial correlation with its Fisher-z interval (``effectsize::rank_biserial``).

    Two samples: r = 2 U / (n_x n_y) - 1, U the Mann-Whitney statistic of ``x`` from the
    mid-ranks of the pooled sample, SE(atanh r) = sqrt((n_x + n_y + 1) / (3 n_x n_y)).
    Paired (``paired=True``, or ``y`` None for differences): the differences ``x - y`` of the
    complete pairs, zeros dropped, ranked by absolute value (mid-ranks); with n_d non-zero
    differences r = (T+ - T-) / (n_d (n_d + 1) / 2) and
    SE = sqrt((2 n_d^3 + 3 n_d^2 + n_d) / 6) / (n_d (n_d + 1) / 2). Limits
    tanh(atanh(r) -/+ z SE). Positive when ``x`` tends to be larger.

    Parameters
    ----------
    x, y : array_like
        The samples (treatment arm first), or after / before; NaN are dropped (pairwise when
        paired).
    paired : bool
    conf_level : float

    Returns
    -------
    DataFrame
        One row with :data:`EFFECT_SIZE_COLUMNS` (``effect_size_name = "rank_biserial"``);
        the interval is empty at r = +/-1 and every number with an empty sample or (paired)
        no non-zero difference, with the reason in ``note``.

    Examples
    --------
    >>> row = rank_biserial([3, 4, 5], [1, 2, 3.5]).iloc[0]
    >>> round(float(row["effect_size"]), 4)  # U = 8 of 9
    0.7778
    """
    return effect_size_frame(rank_biserial_numbers(x, y, paired, conf_level))


def rank_biserial_numbers(x, y=None, paired: bool = False, conf_level: float = 0.95) -> dict:
    """:func:`rank_biserial` as a dict."""
    name = "rank_biserial"
    if paired or y is None:
        d = _pairs(x, y)
        d = d[d != 0]
        nd = len(d)
        if nd == 0:
            return empty_effect_size("rank-biserial r undefined: no non-zero difference", name)
        ranks = stats.rankdata(np.abs(d))
        total = nd * (nd + 1) / 2
        r = float(np.sum(np.sign(d) * ranks)) / total
        se = math.sqrt((2 * nd**3 + 3 * nd**2 + nd) / 6) / total
    else:
        x, y = _clean(x), _clean(y)
        nx, ny = len(x), len(y)
        if min(nx, ny) == 0:
            return empty_effect_size("rank-biserial r undefined: an empty sample", name)
        ranks = stats.rankdata(np.concatenate([x, y]))
        u = float(ranks[:nx].sum()) - nx * (nx + 1) / 2
        r = 2 * u / (nx * ny) - 1
        se = math.sqrt((nx + ny + 1) / (3 * nx * ny))
    if abs(r) >= 1:
        return empty_effect_size(
            "no interval at r = +/-1 (complete separation; Fisher z infinite)",
            name,
            effect_size=float(np.sign(r)),
        )
    z = stats.norm.ppf(0.5 + conf_level / 2)
    centre = math.atanh(r)
    return empty_effect_size(
        "",
        name,
        effect_size=r,
        effect_size_ci_low=math.tanh(centre - z * se),
        effect_size_ci_high=math.tanh(centre + z * se),
    )


def pooled_sd(values, groups) -> tuple[float, int]:
    """Pooled within-group SD: sqrt(sum_a (n_a - 1) s_a^2 / sum_a (n_a - 1)).

    Parameters
    ----------
    values : array_like
        One value per participant (e.g. the baseline of the participants in a model); NaN
        are dropped with their group label.
    groups : array_like
        The group (arm) of each value.

    Returns
    -------
    tuple
        ``(sd, df)`` with df = sum_a (n_a - 1); ``(nan, df)`` when df is 0.

    Examples
    --------
    >>> sd, df = pooled_sd([1, 3, 10, 14, 12], ["a", "a", "b", "b", "b"])
    >>> round(sd, 6), df  # sqrt((1 * 2 + 2 * 4) / 3)
    (1.825742, 3)
    """
    groups = groups.to_numpy() if isinstance(groups, pd.Series) else np.asarray(groups)
    frame = pd.DataFrame({"value": floats(values), "group": groups})
    frame = frame.loc[frame["value"].notna()]
    by_group = frame.groupby("group", sort=True)["value"]
    n = by_group.size()
    squares = by_group.var(ddof=1).fillna(0.0) * (n - 1)
    df = int((n - 1).sum())
    return (math.sqrt(float(squares.sum()) / df) if df > 0 else math.nan), df


def standardised_difference(
    estimate: float, ci_low: float, ci_high: float, baseline, arm
) -> dict[str, Any]:
    """A model-based difference and its interval on the SD scale of the baseline.

    standardised difference = estimate / s, limits = (ci_low / s, ci_high / s), with s the
    pooled within-arm SD of the baseline values of the participants in the model,
    s = sqrt(sum_a (n_a - 1) s_a^2 / sum_a (n_a - 1)) (:func:`pooled_sd`). The baseline SD
    is fixed by the design (unaffected by treatment), so every model-based row of an outcome
    uses one standardiser; the interval treats s as known.

    Parameters
    ----------
    estimate, ci_low, ci_high : float
        The adjusted difference (ANCOVA, MMRM) and its confidence limits.
    baseline, arm : array_like
        Baseline value and arm of each participant in the model (one entry per participant).

    Returns
    -------
    dict
        :data:`EFFECT_SIZE_COLUMNS` with ``effect_size_name = "standardised_difference"``;
        empty numbers with a note when the estimate is missing or the pooled SD is zero or
        undefined (fewer than two baseline values in every arm).

    Examples
    --------
    >>> row = standardised_difference(3.0, 1.0, 5.0, [8, 12, 9, 11], ["c", "c", "t", "t"])
    >>> round(row["effect_size"], 4), round(row["effect_size_ci_high"], 4)  # s = sqrt(5)
    (1.3416, 2.2361)
    """
    name = "standardised_difference"
    if not math.isfinite(estimate):
        return empty_effect_size("no estimate to standardise", name)
    sd, df = pooled_sd(baseline, arm)
    if not (math.isfinite(sd) and sd > 0):
        return empty_effect_size(
            "pooled baseline SD is zero or undefined (fewer than 2 baseline values per arm)",
            name,
        )
    return empty_effect_size(
        f"difference / pooled within-arm baseline SD ({sd:.4g}, df {df})",
        name,
        effect_size=estimate / sd,
        effect_size_ci_low=ci_low / sd,
        effect_size_ci_high=ci_high / sd,
    )
