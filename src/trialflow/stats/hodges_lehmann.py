"""Hodges-Lehmann estimates, and other order statistics of pairwise sums, in O(n log n).

The one-sample Hodges-Lehmann estimate is the median of the n(n+1)/2 Walsh averages
``(x_i + x_j) / 2``, ``i <= j``; the two-sample shift is the median of the ``n_x n_y``
differences ``x_i - y_j``. Writing out all of them costs O(n^2) time and memory (40 GB at
100,000 participants). Both are order statistics of a matrix ``a_i + b_j`` with sorted ``a`` and
``b`` (``b = -y`` for the shift), whose rows are therefore sorted too, and selection in such a
matrix needs only O(n) memory and O(n log n) expected time (Johnson and Mizoguchi 1978, SIAM J
Comput 7:147-153; Monahan 1984, ACM TOMS 10:265-270, Algorithm 616).

The selection here keeps, per row, the window of columns still in play. Each round draws a
random sample of the entries in play, takes two sample order statistics that bracket the wanted
rank with near certainty (Floyd and Rivest 1975), finds in every row by vectorised bisection
where the entries cross them, and keeps only the entries between; once few enough remain (O(n))
they are written out and partitioned. Each round shrinks the entries in play about 30-fold, so
a few rounds do at any n.

Bit for bit as sorting all sums: the bisection compares the floating-point sums
``fl(a_i + b_j)`` themselves (never ``b_j`` with ``p - a_i``, which rounds differently), and
rounding is monotone, so each row of rounded sums is still sorted. A median of an even number
of entries is formed as ``numpy.median`` forms it.
"""

from __future__ import annotations

import math

import numpy as np

_SAMPLE = 1 << 14  # entries sampled per round: brackets ~1/32 of those in play
_SPREAD = 2.0  # bracket half-width in units of sqrt(sample): over 4 binomial SDs each side
_WRITE_OUT_PER_ROW = 8  # write out the entries in play once at most this many per row remain
_WRITE_OUT_MIN = 1 << 16


def hodges_lehmann_paired(differences: np.ndarray) -> float:
    """Hodges-Lehmann one-sample estimate: the median of the Walsh averages.

    Parameters
    ----------
    differences : array_like
        Paired differences; NaN are dropped (zeros are kept).

    Returns
    -------
    float
        NaN when no difference remains. Equal, bit for bit, to ``numpy.median`` of all
        ``(d_i + d_j) / 2``, ``i <= j``, computed in O(n log n) time and O(n) memory.
    """
    d = np.asarray(differences, dtype=float)
    d = np.sort(d[~np.isnan(d)])
    if not len(d) or (d[0] == -math.inf and d[-1] == math.inf):
        return math.nan  # inf + -inf is NaN, and so is numpy's median then
    low, high = _middle_sums(d, d, np.arange(len(d)))
    return _median_of(low / 2, high / 2)


def hodges_lehmann_shift(x: np.ndarray, y: np.ndarray) -> float:
    """Hodges-Lehmann two-sample shift ``x - y``: the median of all pairwise differences.

    Parameters
    ----------
    x, y : array_like
        The two samples; NaN are dropped.

    Returns
    -------
    float
        NaN when either sample is empty. Equal, bit for bit, to ``numpy.median`` of all
        ``x_i - y_j``, computed in O(n log n) time and O(n) memory.
    """
    a, b = _shift_matrix(x, y)
    if not len(a) or not len(b) or math.isnan(a[0] + b[-1]) or math.isnan(a[-1] + b[0]):
        return math.nan  # inf - inf is NaN, and so is numpy's median then
    low, high = _middle_sums(a, b, np.zeros(len(a), dtype=np.int64))
    return _median_of(low, high)


def nearest_walsh_average(x: np.ndarray, value: float) -> float:
    """The Walsh average ``(x_i + x_j) / 2`` (``i <= j``) nearest to ``value`` (the smaller of two
    equally near), without writing them all out.

    Parameters
    ----------
    x : array_like
        The sample (no NaN).
    value : float

    Returns
    -------
    float
    """
    x = np.sort(np.asarray(x, dtype=float))
    return _nearest(x, x, np.arange(len(x)), value, scale=0.5)


def nearest_pairwise_difference(x: np.ndarray, y: np.ndarray, value: float) -> float:
    """The difference ``x_i - y_j`` nearest to ``value`` (the smaller of two equally near).

    Parameters
    ----------
    x, y : array_like
        The two samples; NaN are dropped.
    value : float

    Returns
    -------
    float
    """
    a, b = _shift_matrix(x, y)
    return _nearest(a, b, np.zeros(len(a), dtype=np.int64), value, scale=1.0)


def _shift_matrix(x, y) -> tuple[np.ndarray, np.ndarray]:
    # x_i - y_j is x_i + (-y_j) exactly in IEEE arithmetic
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    return np.sort(x[~np.isnan(x)]), np.sort(-y[~np.isnan(y)])


def _median_of(low: float, high: float) -> float:
    # numpy.median of an even count is the mean of the two middle values: (low + high) / 2
    return float(low) if low == high else float((np.float64(low) + np.float64(high)) / 2)


def _middle_sums(a: np.ndarray, b: np.ndarray, first: np.ndarray) -> tuple[float, float]:
    """The two middle entries (the same one twice for an odd count) of ``a_i + b_j`` over
    ``j >= first[i]``; ``a`` and ``b`` ascending."""
    last = np.full(len(a), len(b), dtype=np.int64)
    total = int((last - first).sum())
    k = (total - 1) // 2
    low = kth_pair_sum(a, b, first, k)
    if total % 2:
        return low, low
    # the next entry is `low` again if it is repeated, else the smallest entry above it
    above = _crossings(a, b, first, last, low, strict=True)
    if int((above - first).sum()) > k + 1:
        return low, low
    rows = np.flatnonzero(above < last)
    return low, float((a[rows] + b[above[rows]]).min())


def kth_pair_sum(a: np.ndarray, b: np.ndarray, first: np.ndarray, k: int) -> float:
    """The ``k``-th smallest (from 0) of the sums ``a_i + b_j`` over ``j >= first[i]``.

    Parameters
    ----------
    a, b : ndarray
        Ascending, no NaN.
    first : ndarray of int
        First column of each row (``arange(n)`` for the Walsh triangle ``i <= j``).
    k : int
        Rank, ``0 <= k < sum(len(b) - first)``.

    Returns
    -------
    float
        The entry a full sort of all sums would put at position ``k``.
    """
    rng = np.random.default_rng(20240611)  # pivots only; the result does not depend on them
    lo = np.asarray(first, dtype=np.int64).copy()
    hi = np.full(len(a), len(b), dtype=np.int64)
    while True:
        keep = lo < hi  # rows with nothing left in play drop out of the bisections
        a, lo, hi = a[keep], lo[keep], hi[keep]
        remaining = int((hi - lo).sum())
        if remaining <= max(_WRITE_OUT_PER_ROW * len(a), _WRITE_OUT_MIN):
            return float(np.partition(_write_out(a, b, lo, hi), k)[k])
        low, high = _bracket(a, b, lo, hi, remaining, k, rng)
        for pivot in (low, high):
            below = _crossings(a, b, lo, hi, pivot, strict=False)
            n_below = int((below - lo).sum())
            if k < n_below:  # the wanted entry is below the pivot
                hi = below
                break
            upto = _crossings(a, b, below, hi, pivot, strict=True)
            n_upto = int((upto - lo).sum())
            if k < n_upto:  # it is the pivot
                return pivot
            k -= n_upto  # it is above: drop everything up to the pivot
            lo = upto


def _bracket(a, b, lo, hi, remaining: int, k: int, rng) -> tuple[float, float]:
    """Two entries in play, ``low <= high``, between which the ``k``-th lies almost surely."""
    size = min(_SAMPLE, remaining)
    picks = rng.integers(0, remaining, size=size)
    ends = np.cumsum(hi - lo)
    rows = np.searchsorted(ends, picks, side="right")
    columns = hi[rows] - (ends[rows] - picks)
    sample = np.sort(a[rows] + b[columns])
    centre = (k + 0.5) / remaining * size
    spread = _SPREAD * math.sqrt(size)
    low = min(max(int(centre - spread), 0), size - 1)
    high = min(max(int(math.ceil(centre + spread)), 0), size - 1)
    return float(sample[low]), float(sample[high])


def _crossings(a, b, lo, hi, pivot: float, strict: bool) -> np.ndarray:
    """Per row, the first column ``j`` in ``[lo, hi)`` with ``a_i + b_j >= pivot`` (``> pivot``
    if ``strict``), or ``hi`` if none: a bisection in all rows at once."""
    lo, hi = lo.copy(), hi.copy()
    last = len(b) - 1
    for _ in range(int((hi - lo).max(initial=0)).bit_length()):
        mid = (lo + hi) >> 1
        sums = a + b[np.minimum(mid, last)]
        before = sums <= pivot if strict else sums < pivot
        searching = lo < hi
        lo = np.where(searching & before, mid + 1, lo)
        hi = np.where(searching & ~before, mid, hi)
    return lo


def _write_out(a, b, lo, hi) -> np.ndarray:
    """All sums in play, row by row."""
    width = hi - lo
    rows = np.repeat(np.arange(len(a)), width)
    offsets = np.repeat(lo - (np.cumsum(width) - width), width)
    return a[rows] + b[offsets + np.arange(int(width.sum()))]


def _nearest(a, b, first, value: float, scale: float) -> float:
    """The point ``scale * (a_i + b_j)``, ``j >= first[i]``, nearest to ``value``."""
    last = np.full(len(a), len(b), dtype=np.int64)
    if not len(a) or not len(b):
        return math.nan
    # scale is 1 or 1/2, so scale * s >= value exactly when s >= value / scale
    crossing = _crossings(a, b, first, last, value / scale, strict=False)
    candidates = []
    for columns, valid in ((crossing - 1, crossing > first), (crossing, crossing < last)):
        rows = np.flatnonzero(valid)
        candidates.append((a[rows] + b[columns[rows]]) * scale)
    points = np.concatenate(candidates)
    distance = np.abs(points - value)
    return float(points[distance == distance.min()].min())
