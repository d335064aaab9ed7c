"""Wilcoxon signed-rank and rank-sum tests with Hodges-Lehmann estimates, as R computes them.

scipy's ``wilcoxon``/``mannwhitneyu`` give neither the Hodges-Lehmann estimate nor its
confidence interval, and with zeros or ties they differ from R's ``wilcox.test`` (scipy
defaults to no continuity correction and treats zeros differently). This module follows
``stats:::wilcox.test.default`` (R 4.2) step by step:

* exact null distribution (signed-rank / Mann-Whitney counts) when every sample has fewer than
  50 observations and there are no ties (and, for the signed-rank test, no zero differences);
  the confidence interval is then read off the sorted Walsh averages / pairwise differences;
* otherwise the normal approximation with tie-corrected variance and continuity correction,
  and the interval by inverting the standardised statistic with R's ``uniroot`` (Brent's
  ``zeroin``, ``tol = 1e-4``, ported in :mod:`trialflow.stats._uniroot`) so the numbers agree
  with R's to rounding error.

Cost: the exact case (n < 50) reads its interval off the O(n^2) Walsh averages / differences,
as R does. The normal case needs none of them: each evaluation of the statistic at a shift
``d`` ranks ``x - d`` (two sorted runs merged in linear time after one O(n log n) sort), so a
test at 100,000 participants takes O(n) memory and well under a second. The Hodges-Lehmann
estimates come from :mod:`trialflow.stats.hodges_lehmann` (O(n log n) selection).

The point estimate reported (``estimate``) is R's, so that a whole row matches
``wilcox.test``: in the exact case the median of the Walsh averages / pairwise differences
(the Hodges-Lehmann estimate); in the normal case the ``uniroot`` root of the standardised
statistic *without* continuity correction (only accurate to ``tol.root``; zero differences
are dropped, as for the test). The Hodges-Lehmann estimator proper (median of the Walsh
averages with zero differences included, or of all pairwise differences) is kept as ``hodges_lehmann``; it differs from R's estimate mainly when there are zero
differences or heavy ties.

Heavily tied data on a coarse lattice (e.g. scores in steps of 5) make the statistic a step
function with a few huge jumps. When one jump carries it past both critical values, R's
interval collapses: both limits are ``uniroot`` roots at the same discontinuity, each located
only to ``tol.root = 1e-4`` on whichever side Brent's method stopped, so the "interval" has
(near) zero width and its limits may even come out in reverse order (lower > upper), and R's
estimate may land just outside it. R itself returns these numbers, so they are reproduced;
``interval_issue`` describes the problem so that callers can say so in the row's note.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy import stats

from ._uniroot import DBL_EPSILON, TOL_ROOT, qnorm, root
from .contract import empty_numbers
from .hodges_lehmann import (
    hodges_lehmann_paired,
    hodges_lehmann_shift,
    nearest_pairwise_difference,
    nearest_walsh_average,
)

_EXACT_LIMIT = 50  # R: exact <- n < 50


@dataclass(frozen=True)
class WilcoxonResult:
    """The numbers of one Wilcoxon test (fields as in R's ``htest`` object).

    Attributes
    ----------
    n : int
        Observations used (pairs, including zero differences; or ``n_x + n_y``).
    statistic : float
        R's ``V`` (sum of positive ranks) or ``W`` (Mann-Whitney U of the first sample).
    p_value : float
        Two-sided p-value.
    estimate : float
        The estimate R prints: the Hodges-Lehmann estimate in the exact case, the ``uniroot``
        root of the uncorrected standardised statistic in the normal case (the midrange when
        R gives no interval; ``hodges_lehmann`` where R stops with an error).
    hodges_lehmann : float
        Hodges-Lehmann estimate proper: median of the Walsh averages of all differences (zero
        differences included) or of all pairwise differences ``x - y``.
    ci_low, ci_high : float
        Confidence limits as R computes them (NaN where R gives none).
    conf_level : float
        Confidence level achieved (R lowers it when the requested level is not achievable).
    exact : bool
        Whether the exact distribution was used.
    rank_biserial : float
        Matched-pairs rank-biserial ``(T+ - T-) / (T+ + T-)`` or the two-sample
        ``2 U / (n_x n_y) - 1``; positive when the first sample tends to be larger.
    interval_issue : str
        Empty, or why R's normal-approximation interval is no proper interval (zero width or
        lower > upper within ``tol.root``, or not containing the estimate): see the module
        docstring.
    """

    n: int
    statistic: float
    p_value: float
    estimate: float
    hodges_lehmann: float
    ci_low: float
    ci_high: float
    conf_level: float
    exact: bool
    rank_biserial: float
    interval_issue: str = ""


def signed_rank_test(differences: np.ndarray, conf_level: float = 0.95) -> WilcoxonResult:
    """Wilcoxon signed-rank test of paired differences, as R's ``wilcox.test(x, y, paired=TRUE,
    conf.int=TRUE)`` with ``x - y = differences``.

    Parameters
    ----------
    differences : array_like
        Paired differences; NaN are dropped.
    conf_level : float
        Requested confidence level of the interval.

    Returns
    -------
    WilcoxonResult

    Raises
    ------
    ValueError
        When no non-zero difference remains (R stops or gives NaN there).
    """
    d_all = np.asarray(differences, dtype=float)
    d_all = d_all[~np.isnan(d_all)]
    x = d_all[d_all != 0]
    n = len(x)
    if n == 0:
        raise ValueError("all differences are zero")
    zeroes = len(x) != len(d_all)
    ranks = stats.rankdata(np.abs(x))
    v = float(ranks[x > 0].sum())
    ties = len(np.unique(ranks)) != len(ranks)
    positive, negative = v, float(ranks[x < 0].sum())
    common = {
        "n": len(d_all),
        "statistic": v,
        "hodges_lehmann": hodges_lehmann_paired(d_all),
        "rank_biserial": (positive - negative) / (positive + negative),
    }
    if n < _EXACT_LIMIT and not ties and not zeroes:
        return WilcoxonResult(**common, **_signed_rank_exact(x, v, conf_level))
    z = v - n * (n + 1) / 4
    sigma = math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - _tie_sum(ranks) / 48)
    interval = _signed_rank_interval(np.sort(x), conf_level)
    return WilcoxonResult(**common, p_value=_normal_p(z, sigma), **interval)


def _signed_rank_exact(x: np.ndarray, v: float, conf_level: float) -> dict:
    """p-value, estimate and interval from the exact null distribution (n < 50, no ties)."""
    n = len(x)
    alpha = 1 - conf_level
    counts = _signrank_counts(n)
    total = n * (n + 1) // 2
    if v > n * (n + 1) / 4:
        p = _tail(counts, int(v), upper=True) / 2**n
    else:
        p = _tail(counts, int(v), upper=False) / 2**n
    diffs = _walsh_averages(x)  # n < 50: at most 1,225 of them
    qu = _quantile(counts, alpha / 2, 2**n)
    qu = max(qu, 1)
    ql = total - qu
    achieved = 2 * _tail(counts, qu - 1, upper=False) / 2**n
    level = 1 - float(f"{achieved:.2g}") if achieved - alpha > alpha / 2 else conf_level
    return {
        "p_value": min(2 * p, 1.0),
        "estimate": float(np.median(diffs)),
        "ci_low": float(diffs[qu - 1]),
        "ci_high": float(diffs[ql]),
        "conf_level": level,
        "exact": True,
    }


def _signed_rank_interval(x: np.ndarray, conf_level: float) -> dict:
    """R's normal-approximation estimate and interval: roots of the standardised statistic of
    ``x - d`` as a function of the shift ``d``. ``x``: the non-zero differences, ascending."""

    def w(d: float, correct: bool = True) -> float:
        xd = x - d  # ascending, so |xd| is two ascending runs: the negatives and the positives
        positive, negative = xd[xd > 0], -xd[xd < 0][::-1]
        nx = len(positive) + len(negative)
        rank_sum, tie_sum = _rank_sum_and_ties(positive, negative)
        zd = rank_sum - nx * (nx + 1) / 4
        sigma_ci = math.sqrt(nx * (nx + 1) * (2 * nx + 1) / 24 - tie_sum / 48)
        return _ratio(zd - np.sign(zd) * 0.5 * correct, sigma_ci)

    alpha = 1 - conf_level
    mumin, mumax = float(x[0]), float(x[-1])
    w_min = w(mumin)
    w_max = w(mumax) if math.isfinite(w_min) else math.nan
    if not math.isfinite(w_max):
        return {
            "estimate": (mumin + mumax) / 2,
            "ci_low": math.nan,
            "ci_high": math.nan,
            "conf_level": 0.0,
            "exact": False,
        }
    level = conf_level
    # R widens the interval (doubles alpha) until the search range brackets both limits
    while alpha < 2 and (
        w_min - qnorm(alpha / 2, lower_tail=False) < 0 or w_max - qnorm(alpha / 2) > 0
    ):
        alpha *= 2
    if alpha >= 1 or 1 - conf_level < alpha * 0.75:
        level = 1 - min(1.0, alpha)
    estimate = _r_estimate(w, mumin, mumax)
    if alpha < 1:
        low = root(w, mumin, mumax, w_min, w_max, qnorm(alpha / 2, lower_tail=False))
        high = root(w, mumin, mumax, w_min, w_max, qnorm(alpha / 2))
        # W jumps only at the Walsh averages of the non-zero differences
        issue = _interval_issue(estimate, low, high, lambda v: nearest_walsh_average(x, v))
    else:  # no confidence at all: R reports the median of the non-zero differences twice
        low = high = float(np.median(x))
        issue = ""
    return {
        "estimate": estimate,
        "ci_low": low,
        "ci_high": high,
        "conf_level": level,
        "exact": False,
        "interval_issue": issue,
    }


def rank_sum_test(x: np.ndarray, y: np.ndarray, conf_level: float = 0.95) -> WilcoxonResult:
    """Wilcoxon rank-sum (Mann-Whitney) test, as R's ``wilcox.test(x, y, conf.int=TRUE)``.

    Parameters
    ----------
    x, y : array_like
        The two samples; NaN are dropped. The shift estimated is ``x - y``.
    conf_level : float
        Requested confidence level of the interval.

    Returns
    -------
    WilcoxonResult
        ``statistic`` is R's ``W``, the Mann-Whitney U of ``x``.

    Raises
    ------
    ValueError
        When either sample is empty.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    nx, ny = len(x), len(y)
    if nx == 0 or ny == 0:
        raise ValueError("an empty sample")
    ranks = stats.rankdata(np.concatenate([x, y]))
    u = float(ranks[:nx].sum()) - nx * (nx + 1) / 2
    ties = len(np.unique(ranks)) != len(ranks)
    hodges_lehmann = hodges_lehmann_shift(x, y)
    common = {
        "n": nx + ny,
        "statistic": u,
        "hodges_lehmann": hodges_lehmann,
        "rank_biserial": 2 * u / (nx * ny) - 1,
    }
    if nx < _EXACT_LIMIT and ny < _EXACT_LIMIT and not ties:
        return WilcoxonResult(**common, **_rank_sum_exact(x, y, u, conf_level))
    z = u - nx * ny / 2
    n = nx + ny
    sigma = math.sqrt((nx * ny / 12) * ((n + 1) - _tie_sum(ranks) / (n * (n - 1))))
    interval = _rank_sum_interval(np.sort(x), np.sort(y), conf_level, hodges_lehmann)
    return WilcoxonResult(**common, p_value=_normal_p(z, sigma), **interval)


def _rank_sum_exact(x: np.ndarray, y: np.ndarray, u: float, conf_level: float) -> dict:
    """p-value, estimate and interval from the exact null distribution (both samples under 50,
    no ties)."""
    nx, ny = len(x), len(y)
    alpha = 1 - conf_level
    counts = _wilcox_counts(nx, ny)
    total = math.comb(nx + ny, nx)
    if u > nx * ny / 2:
        p = _tail(counts, int(u), upper=True) / total
    else:
        p = _tail(counts, int(u), upper=False) / total
    diffs = np.sort(np.subtract.outer(x, y).ravel())  # both under 50: at most 2,401 of them
    qu = max(_quantile(counts, alpha / 2, total), 1)
    ql = nx * ny - qu
    achieved = 2 * _tail(counts, qu - 1, upper=False) / total
    return {
        "p_value": min(2 * p, 1.0),
        "estimate": float(np.median(diffs)),
        "ci_low": float(diffs[qu - 1]),
        "ci_high": float(diffs[ql]),
        "conf_level": 1 - achieved if achieved - alpha > alpha / 2 else conf_level,
        "exact": True,
    }


def _rank_sum_interval(
    x: np.ndarray, y: np.ndarray, conf_level: float, hodges_lehmann: float
) -> dict:
    """R's normal-approximation estimate and interval: roots of the standardised statistic of
    ``x - d`` against ``y`` as a function of the shift ``d``. ``x``, ``y`` ascending."""
    nx, ny = len(x), len(y)
    n = nx + ny

    def w(d: float, correct: bool = True) -> float:
        rank_sum, tie_sum = _rank_sum_and_ties(x - d, y)
        dz = rank_sum - nx * (nx + 1) / 2 - nx * ny / 2
        sigma_ci = math.sqrt((nx * ny / 12) * ((n + 1) - tie_sum / (n * (n - 1))))
        return _ratio(dz - np.sign(dz) * 0.5 * correct, sigma_ci)

    alpha = 1 - conf_level
    mumin, mumax = float(x[0] - y[-1]), float(x[-1] - y[0])
    w_min, w_max = w(mumin), w(mumax)
    if not (math.isfinite(w_min) and math.isfinite(w_max)):
        # R stops with an error here (each sample constant); report the Hodges-Lehmann shift
        return {
            "estimate": hodges_lehmann,
            "ci_low": math.nan,
            "ci_high": math.nan,
            "conf_level": 0.0,
            "exact": False,
        }

    def limit(zq: float) -> float:
        # R's two-sample root() clamps to the search range instead of failing
        if w_min - zq <= 0:
            return mumin
        if w_max - zq >= 0:
            return mumax
        return root(w, mumin, mumax, w_min, w_max, zq)

    low = limit(qnorm(alpha / 2, lower_tail=False))
    high = limit(qnorm(alpha / 2))
    estimate = _r_estimate(w, mumin, mumax)
    # W jumps only at the pairwise differences
    issue = _interval_issue(estimate, low, high, lambda v: nearest_pairwise_difference(x, y, v))
    return {
        "estimate": estimate,
        "ci_low": low,
        "ci_high": high,
        "conf_level": conf_level,
        "exact": False,
        "interval_issue": issue,
    }


def _walsh_averages(x: np.ndarray) -> np.ndarray:
    # only for the exact case, n < 50
    i, j = np.triu_indices(len(x))
    return np.sort(x[i] + x[j]) / 2


def _rank_sum_and_ties(first: np.ndarray, second: np.ndarray) -> tuple[float, float]:
    """Sum of the mid-ranks of ``first`` in the pooled sample, and the tie term
    ``sum(t^3 - t)`` over groups of ``t`` equal values, as R's ``rank`` and ``table`` give them.

    Both samples ascending: the stable sort (timsort) then only merges two runs, in linear time.
    Ranks are integers or halves, so both sums are exact whatever the order of addition.
    """
    pooled = np.concatenate([first, second])
    if not len(pooled):
        return 0.0, 0.0
    order = np.argsort(pooled, kind="stable")
    merged = pooled[order]
    starts = np.flatnonzero(np.concatenate(([True], merged[1:] != merged[:-1])))
    sizes = np.diff(np.append(starts, len(merged)))
    midranks = starts + (sizes + 1) / 2
    from_first = np.add.reduceat((order < len(first)).astype(np.int64), starts)
    rank_sum = float(np.sum(from_first * midranks))
    return rank_sum, float(np.sum(sizes.astype(float) ** 3 - sizes))


def _tie_sum(ranks: np.ndarray) -> float:
    _, counts = np.unique(ranks, return_counts=True)
    return float(np.sum(counts.astype(float) ** 3 - counts))


def _ratio(numerator: float, denominator: float) -> float:
    # R divides by a zero SIGMA and gets +-Inf or NaN; numpy would warn
    if denominator == 0:
        return math.nan if numerator == 0 else math.copysign(math.inf, numerator)
    return numerator / denominator


def _normal_p(z: float, sigma: float) -> float:
    z = _ratio(z - np.sign(z) * 0.5, sigma)
    if math.isnan(z):
        return math.nan
    return float(2 * min(stats.norm.cdf(z), stats.norm.sf(z)))


@cache
def _signrank_counts(n: int) -> tuple[int, ...]:
    """Number of subsets of {1..n} with each sum: coefficients of prod (1 + q^i)."""
    counts = [1]
    for i in range(1, n + 1):
        new = counts + [0] * i
        for k, c in enumerate(counts):
            new[k + i] += c
        counts = new
    return tuple(counts)


@cache
def _wilcox_counts(m: int, n: int) -> tuple[int, ...]:
    """Counts of the Mann-Whitney U: the Gaussian binomial coefficient [m+n choose m]_q."""
    counts = [1]
    for i in range(1, m + 1):
        shift = n + i
        grown = counts + [0] * shift  # multiply by (1 - q^(n+i))
        for k, c in enumerate(counts):
            grown[k + shift] -= c
        for k in range(i, len(grown)):  # divide by (1 - q^i)
            grown[k] += grown[k - i]
        counts = grown[: i * n + 1]
    return tuple(counts[: m * n + 1])


def _tail(counts: tuple[int, ...], q: int, upper: bool) -> int:
    """Count of outcomes ``<= q`` (lower) or ``>= q`` (upper)."""
    if upper:
        return sum(counts[max(q, 0) :])
    return sum(counts[: q + 1]) if q >= 0 else 0


def _quantile(counts: tuple[int, ...], prob: float, total: int) -> int:
    """R's qsignrank/qwilcox for ``prob <= 0.5``: smallest q with P(X <= q) >= prob."""
    target = prob - 10 * DBL_EPSILON
    cumulative = 0.0
    for q, c in enumerate(counts):
        cumulative += c / total
        if cumulative >= target:
            return q
    return len(counts) - 1


def _r_estimate(w: Callable[..., float], lower: float, upper: float) -> float:
    """R's point estimate in the normal case: the root of the statistic *without* continuity
    correction (R sets ``correct <- FALSE`` before this ``uniroot`` call)."""

    def uncorrected(d: float) -> float:
        return w(d, correct=False)

    return root(uncorrected, lower, upper, uncorrected(lower), uncorrected(upper), 0.0)


def _interval_issue(
    estimate: float, low: float, high: float, nearest_jump: Callable[[float], float]
) -> str:
    """Why R's normal-approximation interval is no proper interval, or ``""``.

    The standardised statistic is a step function of the shift ``d`` with its jumps at
    the Walsh averages / pairwise differences (``nearest_jump(d)`` finds the one nearest ``d``
    without writing them all out); every ``uniroot`` root lies within
    ``tol.root`` (plus rounding) of a jump. Two roots closer than twice that locate the same
    jump, so the interval is really the single point there (or empty), whatever order the
    roots came out in. An estimate outside the limits shares a jump with one of them.
    """
    if not (math.isfinite(low) and math.isfinite(high) and math.isfinite(estimate)):
        return ""

    def at(value: float) -> str:
        point = np.float64(nearest_jump(value))  # numpy's round, as before
        return f"{round(point, 8) + 0.0:.6g}"  # no -7.1e-15 for a jump at 0

    if high - low <= _root_slack(low, high):
        shape = "lower limit above upper limit" if low > high else "zero width"
        return (
            "normal-approximation interval degenerate with heavily tied data (R wilcox.test "
            f"algorithm: the statistic jumps past both critical values at {at((low + high) / 2)}"
            f", both limits are that point to within tol.root; {shape})"
        )
    if not low <= estimate <= high:
        return (
            "estimate outside the normal-approximation interval with heavily tied data (R "
            f"wilcox.test algorithm: estimate and a limit are the same jump at {at(estimate)}, "
            "their order decided within tol.root)"
        )
    return ""


def _root_slack(*values: float) -> float:
    """Largest distance between two ``uniroot`` roots that locate the same jump: each is within
    Brent's final bracket ``2 tol_act = tol + 4 eps |b|`` of it."""
    return 2 * (TOL_ROOT + 4 * DBL_EPSILON * max(abs(v) for v in values))


def interval_notes(result: WilcoxonResult, alternative: str, hodges_lehmann_is: str) -> list[str]:
    """Notes that keep a row with R's odd normal-approximation numbers from being silent.

    Parameters
    ----------
    result : WilcoxonResult
    alternative : str
        The analysis to interpret instead when the interval is degenerate, e.g.
        ``"paired t interval"``.
    hodges_lehmann_is : str
        What the Hodges-Lehmann estimate is the median of, for the note.

    Returns
    -------
    list of str
        Empty for a proper interval. Otherwise the interval problem with the advice, and the
        Hodges-Lehmann estimate proper when it differs from R's estimate by more than
        ``uniroot``'s tolerance (on other rows it stays in ``WilcoxonResult.hodges_lehmann``,
        to keep notes short).
    """
    if not result.interval_issue:
        return []
    notes = [f"{result.interval_issue}; interpret with the {alternative}"]
    hl, estimate = result.hodges_lehmann, result.estimate
    if (
        math.isfinite(hl)
        and math.isfinite(estimate)
        and abs(hl - estimate) > _root_slack(hl, estimate)
    ):
        notes.append(f"Hodges-Lehmann estimate {hl:.6g} ({hodges_lehmann_is})")
    return notes


def rank_test_numbers(result: WilcoxonResult, n: int, notes: list[str]) -> dict:
    """A signed-rank or rank-sum result as a dict of the contract's number columns.

    Parameters
    ----------
    result : WilcoxonResult
    n : int
        The row's ``n``.
    notes : list of str
        Joined with ``"; "`` into the row's note.

    Returns
    -------
    dict
        R's ``estimate``, interval, statistic and p, and the rank-biserial effect size.
    """
    return empty_numbers(
        "; ".join(notes),
        n=n,
        estimate=result.estimate,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
        statistic=result.statistic,
        p_value=result.p_value,
        effect_size=result.rank_biserial,
        effect_size_name="rank_biserial",
    )
