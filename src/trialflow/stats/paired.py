"""Within-arm change: paired t-test and Wilcoxon signed-rank test with effect sizes."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from ..config import Study
from ._tidy import wide_tables
from .contract import empty_numbers, keyed_rows, numbers_frame, within_contrast
from .effect_sizes import cohens_dz_numbers, rank_biserial_numbers, with_effect_size
from .flags import rank_interval_flags
from .normality import MIN_N, change_pairs
from .wilcoxon import interval_notes, rank_test_numbers, signed_rank_test

UNCONTROLLED_NOTE = "uncontrolled pre/post change; not a treatment effect"


def paired_t(after: np.ndarray, before: np.ndarray, conf_level: float = 0.95) -> pd.DataFrame:
    """Paired t-test of ``after - before`` (R's ``t.test(after, before, paired = TRUE)``).

    Parameters
    ----------
    after, before : array_like
        Aligned measurements of the same participants; pairs with a NaN are dropped.
    conf_level : float
        Confidence level of the interval for the mean change.

    Returns
    -------
    DataFrame
        One row: ``n`` (complete pairs), ``estimate`` (mean change), ``se``, ``df``,
        ``ci_low``, ``ci_high``, ``statistic`` (t), ``p_value``, ``effect_size`` (Cohen's
        d_z = mean change / SD of changes) with its noncentral-t interval
        (``effect_size_ci_low``, ``effect_size_ci_high``; :mod:`trialflow.stats.effect_sizes`);
        a ``note`` instead when fewer than 3 pairs or the changes have zero variance.
    """
    return numbers_frame(paired_t_numbers(after, before, conf_level))


def wilcoxon_signed_rank(
    after: np.ndarray, before: np.ndarray, conf_level: float = 0.95
) -> pd.DataFrame:
    """Wilcoxon signed-rank test of ``after - before`` with R's (pseudo)median change.

    Follows R's ``wilcox.test(after, before, paired = TRUE, conf.int = TRUE)``; see
    :mod:`trialflow.stats.wilcoxon`.

    Parameters
    ----------
    after, before : array_like
        Aligned measurements; pairs with a NaN are dropped.
    conf_level : float
        Requested confidence level.

    Returns
    -------
    DataFrame
        One row: ``n`` (complete pairs, zeros included), ``estimate``, ``ci_low``, ``ci_high``,
        ``statistic`` (V), ``p_value`` exactly as R's ``wilcox.test`` reports them,
        ``effect_size`` (matched-pairs rank-biserial r, with its Fisher-z interval); ``note``
        says exact or normal approximation, and why numbers are missing for degenerate data.

    Notes
    -----
    ``estimate`` is R's: in the exact case the Hodges-Lehmann estimate (median of the Walsh
    averages), in the normal case (ties, zero changes or n >= 50) the ``uniroot`` root of the
    uncorrected statistic with zero changes dropped (the Hodges-Lehmann estimate proper, the
    median of all Walsh averages with zero changes included, is
    ``signed_rank_test(...).hodges_lehmann``). With heavily tied changes on a coarse scale
    R's interval can collapse to a point at one jump of the statistic, with its limits in
    either order, or miss its estimate by ``tol.root``; R's numbers are kept and the note says
    so, advises the paired t interval and gives the Hodges-Lehmann estimate where it differs
    (see :func:`trialflow.stats.wilcoxon.interval_notes`).
    """
    return numbers_frame(signed_rank_numbers(after, before, conf_level))


def _differences(after: np.ndarray, before: np.ndarray) -> np.ndarray:
    diff = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)
    return diff[~np.isnan(diff)]


def paired_t_numbers(after, before, conf_level: float = 0.95) -> dict:
    """:func:`paired_t` as a dict of the contract's number columns."""
    d = _differences(after, before)
    n = len(d)
    if n < MIN_N:
        return empty_numbers(f"fewer than {MIN_N} complete pairs", n=n)
    mean = float(d.mean())
    sd = float(d.std(ddof=1))
    if sd == 0:
        return empty_numbers("zero variance of the changes", n=n, estimate=mean)
    se = sd / math.sqrt(n)
    df = n - 1
    t = mean / se
    half = stats.t.ppf(0.5 + conf_level / 2, df) * se
    numbers = empty_numbers(
        n=n,
        estimate=mean,
        se=se,
        df=df,
        ci_low=mean - half,
        ci_high=mean + half,
        statistic=t,
        p_value=float(2 * stats.t.sf(abs(t), df)),
    )
    return with_effect_size(numbers, cohens_dz_numbers(d, None, conf_level))


def signed_rank_numbers(after, before, conf_level: float = 0.95) -> dict:
    """:func:`wilcoxon_signed_rank` as a dict of the contract's number columns."""
    d = _differences(after, before)
    n = len(d)
    if n < MIN_N:
        return empty_numbers(f"fewer than {MIN_N} complete pairs", n=n)
    if np.all(d == 0):
        return empty_numbers("all changes are zero", n=n, estimate=0.0)
    result = signed_rank_test(d, conf_level)
    notes = ["exact" if result.exact else "normal approximation with continuity correction"]
    if math.isnan(result.ci_low):
        notes.append("confidence interval not computable (all non-zero changes tied)")
    elif result.conf_level != conf_level:
        notes.append(f"requested confidence level not achievable; achieved {result.conf_level:g}")
        if result.conf_level == 0:
            notes.append("both limits are R's placeholder, the median of the non-zero changes")
    notes += interval_notes(
        result, "paired t interval", "median of all Walsh averages, zero changes included"
    )
    numbers = rank_test_numbers(result, n, notes) | {"flags": rank_interval_flags(result)}
    return with_effect_size(numbers, rank_biserial_numbers(d, None, True, conf_level))


def within_group(
    analysis: pd.DataFrame,
    study: Study,
    conf_level: float = 0.95,
    tables: Mapping[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Within-arm changes of a study: paired t and Wilcoxon rows for each arm and change.

    The changes are every post-baseline visit minus baseline, plus follow-up minus end of
    treatment when the study has both (see :func:`trialflow.stats.normality.change_pairs`).

    Parameters
    ----------
    analysis : DataFrame
        Long analysis data: ``participant_id, arm, visit, outcome, value``.
    study : Study
    conf_level : float
    tables : mapping of str to DataFrame, optional
        Each outcome's wide table as :func:`trialflow.stats._tidy.wide_tables` makes them,
        when the caller already has them (:func:`trialflow.stats.analyse_study` reshapes once
        for all analyses); made here otherwise.

    Returns
    -------
    DataFrame
        Contract rows (``analysis`` ``paired_t`` and ``wilcoxon_signed_rank``; ``visit`` the
        later visit; ``contrast`` e.g. ``week8 - baseline``; ``group`` the arm). In single-arm
        designs the note says that an uncontrolled change is not a treatment effect.
    """
    rows = []
    for outcome, wide in (wide_tables(analysis, study) if tables is None else tables).items():
        for arm in study.arm_ids:
            cells = wide.loc[wide["arm"] == arm]
            for later, earlier in change_pairs(study):
                keys = {
                    "study": study.id,
                    "outcome": outcome,
                    "visit": later,
                    "contrast": within_contrast(later, earlier),
                    "group": arm,
                }
                after, before = cells[later].to_numpy(), cells[earlier].to_numpy()
                for name, numbers in (
                    ("paired_t", paired_t_numbers(after, before, conf_level)),
                    ("wilcoxon_signed_rank", signed_rank_numbers(after, before, conf_level)),
                ):
                    if study.design == "single_arm":
                        numbers["note"] = "; ".join(
                            filter(None, [numbers["note"], UNCONTROLLED_NOTE])
                        )
                    rows.append(keys | {"analysis": name} | numbers)
    return keyed_rows(rows)
