"""R's ``uniroot`` (Brent's ``zeroin``) and ``qnorm``, ported so that the Wilcoxon intervals
found by root-finding on a step function agree with R's to rounding error."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable

from scipy import stats

DBL_EPSILON = sys.float_info.epsilon
TOL_ROOT = 1e-4  # R's default tol.root


def qnorm(p: float, lower_tail: bool = True) -> float:
    """R's ``qnorm(p, lower.tail = lower_tail)`` (Wichura's AS 241 as in R's qnorm.c).

    scipy's ``ndtri`` differs from R in the last bits; the step-function root search of the
    Wilcoxon interval can amplify that into a different (equally valid, within ``tol``) root,
    so the interval uses R's arithmetic. Tails beyond 1e-11 (never a confidence level) fall
    back to scipy.
    """
    if not 0 < p < 1:  # R's boundaries: 0 and 1 map to -Inf/Inf, outside is NaN
        if p in (0, 1):
            return -math.inf if (p == 0) == lower_tail else math.inf
        return math.nan
    p_lower = p if lower_tail else 0.5 - p + 0.5
    q = p_lower - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        return (
            q
            * (((((((r * 2509.0809287301226727 + 33430.575583588128105) * r
            + 67265.770927008700853) * r + 45921.953931549871457) * r
            + 13731.693765509461125) * r + 1971.5909503065514427) * r
            + 133.14166789178437745) * r + 3.387132872796366608)
            / (((((((r * 5226.495278852854561 + 28729.085735721942674) * r
            + 39307.89580009271061) * r + 21213.794301586595867) * r
            + 5394.1960214247511077) * r + 687.1870074920579083) * r
            + 42.313330701600911252) * r + 1.0)
        )  # fmt: skip
    # the smaller tail probability, taken from the argument without rounding as R does
    r = (p if not lower_tail else 0.5 - p + 0.5) if q > 0 else p_lower
    r = math.sqrt(-math.log(r))
    if r > 5.0:
        return float(stats.norm.ppf(p) if lower_tail else stats.norm.isf(p))
    r -= 1.6
    value = (
        (((((((r * 7.7454501427834140764e-4 + 0.0227238449892691845833) * r
        + 0.24178072517745061177) * r + 1.27045825245236838258) * r
        + 3.64784832476320460504) * r + 5.7694972214606914055) * r
        + 4.6303378461565452959) * r + 1.42343711074968357734)
        / (((((((r * 1.05075007164441684324e-9 + 5.475938084995344946e-4) * r
        + 0.0151986665636164571966) * r + 0.14810397642748007459) * r
        + 0.68976733498510000455) * r + 1.6763848301838038494) * r
        + 2.05319162663775882187) * r + 1.0)
    )  # fmt: skip
    return -value if q < 0 else value


def root(
    f: Callable[[float], float],
    lower: float,
    upper: float,
    f_lower: float,
    f_upper: float,
    target: float,
) -> float:
    """R's ``uniroot(function(d) f(d) - target, c(lower, upper), tol = 1e-4)$root``."""
    if f_lower == f_lower and f_upper == f_upper and (f_lower - target) * (f_upper - target) > 0:
        return math.nan  # R stops: end points not of opposite sign
    root = _zeroin(
        lambda d: f(d) - target, lower, upper, f_lower - target, f_upper - target, TOL_ROOT
    )
    return float(root)


def _zeroin(
    f: Callable[[float], float],
    ax: float,
    bx: float,
    fa: float,
    fb: float,
    tol: float,
    maxit: int = 1000,
) -> float:
    """Port of R's ``R_zeroin2`` (src/library/stats/src/zeroin.c), Brent's root finder."""

    def call(x: float) -> float:
        # R's uniroot wrapper replaces infinite values by the largest finite double
        value = f(x)
        if math.isinf(value):
            return math.copysign(sys.float_info.max, value)
        return value

    fa, fb = (math.copysign(sys.float_info.max, v) if math.isinf(v) else v for v in (fa, fb))
    a, b = ax, bx
    c, fc = a, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxit + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * DBL_EPSILON * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = call(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b
