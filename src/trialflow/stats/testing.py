"""Testing strategy over the primary and key secondary hypotheses (the confirmatory family).

``analysis.testing`` of the analysis plan: ``fixed_sequence`` (hierarchical gatekeeping),
``holm`` or ``none``, applied to the hypotheses in their declared order (primary first, then
the key secondary ones). Every other comparison is exploratory and is adjusted elsewhere
(:mod:`trialflow.stats.multiplicity`).

A hypothesis is rejected when its adjusted p-value is at most ``alpha`` (``p <= alpha``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .multiplicity import p_adjust

TESTING_METHODS = ("fixed_sequence", "holm", "none")
TESTING_COLUMNS = ("position", "p_value", "p_adjusted", "rejected", "tested", "note")
NOT_TESTED_NOTE = "not formally tested"
NO_P_NOTE = "no p-value"


def fixed_sequence(p_values, alpha: float = 0.05) -> pd.DataFrame:
    """Fixed-sequence (hierarchical) testing: each hypothesis in order at full ``alpha``,
    stopping at the first one that is not rejected.

    The adjusted p-value of the k-th hypothesis is the running maximum
    ``max(p_1, ..., p_k)``; hypothesis k is rejected when that is <= ``alpha``, which is the
    same as every hypothesis up to k being rejected at ``alpha``. The first non-rejected
    hypothesis is still tested; those after it are not formally tested (``tested`` False,
    note "not formally tested"), whatever their own p-value. A missing p-value (NaN) stops
    the sequence there: that hypothesis and all after it are not tested and their adjusted
    p-values are NaN. The family-wise error rate is controlled at ``alpha`` in the strong
    sense (Maurer, Hothorn and Lehmacher 1995).

    Parameters
    ----------
    p_values : array_like
        Unadjusted two-sided p-values in the pre-specified order (primary first).
    alpha : float

    Returns
    -------
    DataFrame
        One row per hypothesis, in order, with :data:`TESTING_COLUMNS`: ``position``
        (1-based), ``p_value``, ``p_adjusted``, ``rejected`` (bool), ``tested`` (bool),
        ``note`` ("" , "not formally tested" or "no p-value").

    Examples
    --------
    Worked by hand for p = (0.001, 0.02, 0.04, 0.06, 0.01) at alpha = 0.05: the running
    maxima are 0.001, 0.02, 0.04, 0.06, 0.06; the first three are <= 0.05 and rejected; the
    fourth is tested and not rejected, so the sequence stops; the fifth (p = 0.01 on its
    own) is not formally tested.

    >>> table = fixed_sequence([0.001, 0.02, 0.04, 0.06, 0.01])
    >>> table["p_adjusted"].tolist()
    [0.001, 0.02, 0.04, 0.06, 0.06]
    >>> table["rejected"].tolist(), table["tested"].tolist()
    ([True, True, True, False, False], [True, True, True, True, False])
    """
    p = np.asarray(p_values, dtype=float).reshape(-1)
    missing = np.isnan(p)
    # everything from the first NaN on is outside the sequence
    after_missing = np.cumsum(missing) > 0
    adjusted = np.where(after_missing, np.nan, np.fmax.accumulate(np.where(missing, 0.0, p)))
    rejected = ~after_missing & (adjusted <= alpha)
    failed = ~rejected
    first_failure = int(np.argmax(failed)) if failed.any() else len(p)
    tested = (np.arange(len(p)) <= first_failure) & ~after_missing
    note = np.where(tested, "", np.where(missing, NO_P_NOTE, NOT_TESTED_NOTE))
    return _table(p, adjusted, rejected, tested, note)


def holm(p_values, alpha: float = 0.05) -> pd.DataFrame:
    """Holm's step-down procedure over the hypotheses (R's ``p.adjust(p, "holm")``).

    Parameters
    ----------
    p_values : array_like
        Unadjusted p-values in the pre-specified order; NaN are left out of the family.
    alpha : float

    Returns
    -------
    DataFrame
        :data:`TESTING_COLUMNS`; every hypothesis with a p-value is tested.

    Examples
    --------
    Holm multiplies the k-th smallest of m p-values by m - k + 1 and takes running maxima:
    for (0.01, 0.04, 0.03) that is 0.03, max(0.03, 2 x 0.03) = 0.06, max(0.06, 0.04) = 0.06.

    >>> holm([0.01, 0.04, 0.03])["p_adjusted"].round(10).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float).reshape(-1)
    adjusted = p_adjust(p, "holm")
    return _simultaneous(p, adjusted, alpha)


def no_adjustment(p_values, alpha: float = 0.05) -> pd.DataFrame:
    """Each hypothesis at ``alpha`` on its own p-value (``analysis.testing: none``).

    Parameters
    ----------
    p_values : array_like
    alpha : float

    Returns
    -------
    DataFrame
        :data:`TESTING_COLUMNS` with ``p_adjusted`` equal to ``p_value``.

    Examples
    --------
    >>> no_adjustment([0.01, 0.2])["rejected"].tolist()
    [True, False]
    """
    p = np.asarray(p_values, dtype=float).reshape(-1)
    return _simultaneous(p, p.copy(), alpha)


def apply_testing_strategy(
    p_values, method: str = "fixed_sequence", alpha: float = 0.05
) -> pd.DataFrame:
    """Apply the declared testing strategy (one of :data:`TESTING_METHODS`).

    Parameters
    ----------
    p_values : array_like
        Unadjusted p-values of the primary and key secondary hypotheses, in declared order.
    method : {"fixed_sequence", "holm", "none"}
    alpha : float

    Returns
    -------
    DataFrame
        :data:`TESTING_COLUMNS`, see :func:`fixed_sequence`, :func:`holm`,
        :func:`no_adjustment`.

    Raises
    ------
    ValueError
        For an unknown method.
    """
    functions = {"fixed_sequence": fixed_sequence, "holm": holm, "none": no_adjustment}
    if method not in functions:
        raise ValueError(f"unknown testing strategy {method!r}; expected one of {TESTING_METHODS}")
    return functions[method](p_values, alpha)


def _simultaneous(p: np.ndarray, adjusted: np.ndarray, alpha: float) -> pd.DataFrame:
    present = ~np.isnan(p)
    rejected = present & (np.nan_to_num(adjusted, nan=np.inf) <= alpha)
    note = np.where(present, "", NO_P_NOTE)
    return _table(p, adjusted, rejected, present, note)


def _table(p, adjusted, rejected, tested, note) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "position": np.arange(1, len(p) + 1),
            "p_value": p,
            "p_adjusted": adjusted,
            "rejected": np.asarray(rejected, dtype=bool),
            "tested": np.asarray(tested, dtype=bool),
            "note": np.asarray(note, dtype=object),
        },
        columns=list(TESTING_COLUMNS),
    )
