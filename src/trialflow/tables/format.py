"""Numbers as the tables print them: rounded for reading, never negative zero.

``results.csv`` keeps full precision; these helpers are for people.
"""

from __future__ import annotations

import math
import re

import numpy as np

__all__ = [
    "MISSING",
    "decimals_for",
    "format_ci",
    "format_mean_sd",
    "format_number",
    "format_p",
]

MISSING = ""  # what an empty cell shows


def format_number(value: float, decimals: int) -> str:
    """A number rounded to ``decimals`` places; empty for missing.

    Parameters
    ----------
    value : float
        The number; NaN or None gives an empty string.
    decimals : int
        Places after the decimal point.

    Returns
    -------
    str
        E.g. ``format_number(-0.04, 1) == "0.0"`` (no negative zero).

    Examples
    --------
    >>> format_number(2.345, 2), format_number(-0.04, 1), format_number(float("nan"), 1)
    ('2.35', '0.0', '')
    """
    if value is None or not np.isfinite(value):
        return MISSING
    text = f"{float(value):.{decimals}f}"
    # "-0.0" reads as a change in a direction that the data do not show
    if re.fullmatch(r"-0\.?0*", text):
        text = text[1:]
    return text


def format_p(p: float, *, prefix: bool = False) -> str:
    """A p-value for reading: three decimals, ``< 0.001`` below that, ``> 0.999`` above.

    Parameters
    ----------
    p : float
        The p-value; NaN gives an empty string.
    prefix : bool
        Write ``"p = 0.023"`` / ``"p < 0.001"`` instead of ``"0.023"`` / ``"< 0.001"``.

    Returns
    -------
    str

    Examples
    --------
    >>> format_p(0.0234), format_p(0.00002, prefix=True)
    ('0.023', 'p < 0.001')
    """
    if p is None or not np.isfinite(p):
        return MISSING
    if p < 0.001:
        text, sign = "0.001", "<"
    elif p > 0.999:
        text, sign = "0.999", ">"
    else:
        text, sign = f"{p:.3f}", "="
    if prefix:
        return f"p {sign} {text}"
    return text if sign == "=" else f"{sign} {text}"


def format_mean_sd(mean: float, sd: float, decimals: int, *, style: str = "paren") -> str:
    """``"45.2 (15.1)"`` (``style="paren"``) or ``"45.2 ± 15.1"`` (``style="pm"``)."""
    if mean is None or not np.isfinite(mean):
        return MISSING
    m = format_number(mean, decimals)
    if sd is None or not np.isfinite(sd):
        return m
    s = format_number(sd, decimals)
    return f"{m} ± {s}" if style == "pm" else f"{m} ({s})"


def format_ci(estimate: float, low: float, high: float, decimals: int) -> str:
    """``"2.1 (0.5 to 3.7)"``; the interval is left out when it is missing."""
    if estimate is None or not np.isfinite(estimate):
        return MISSING
    est = format_number(estimate, decimals)
    if low is None or high is None or not (np.isfinite(low) and np.isfinite(high)):
        return est
    return f"{est} ({format_number(low, decimals)} to {format_number(high, decimals)})"


def decimals_for(sd: float) -> int:
    """Decimal places that show a spread of ``sd`` to about three significant figures.

    One place for an SD of 10-99 (e.g. SF-36 scales), two for 1-9.9, three below 1; never
    fewer than one.

    Examples
    --------
    >>> decimals_for(15.0), decimals_for(2.5), decimals_for(0.05)
    (1, 2, 3)
    """
    if sd is None or not np.isfinite(sd) or sd <= 0:
        return 1
    return int(min(3, max(1, 2 - math.floor(math.log10(sd)))))
