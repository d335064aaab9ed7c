"""Responder analysis: the share of participants whose change reaches the minimal important
difference (MID), per arm, and the risk difference between arms."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from ..config import Study
from ._tidy import outcome_ids, wide_by_visit
from .between import fisher_exact_p
from .contract import RESPONDER_CONTRAST, between_contrast, empty_numbers, keyed_rows


def wilson_interval(successes: int, n: int, conf_level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (R's ``prop.test(correct = FALSE)$conf.int``).

    Parameters
    ----------
    successes, n : int
    conf_level : float

    Returns
    -------
    tuple of float
        ``(low, high)``; NaN when ``n == 0``.
    """
    if n == 0:
        return math.nan, math.nan
    z = stats.norm.ppf(0.5 + conf_level / 2)
    p = successes / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denominator = 1 + z * z / n
    low = 0.0 if p <= 0 else (centre - half) / denominator
    high = 1.0 if p >= 1 else (centre + half) / denominator
    return low, high


def newcombe_interval(
    k1: int, n1: int, k2: int, n2: int, conf_level: float = 0.95
) -> tuple[float, float]:
    """Newcombe's hybrid score interval (his method 10) for ``k1/n1 - k2/n2``.

    Combines the two Wilson intervals (l1, u1), (l2, u2) without continuity correction:
    ``d - sqrt((p1 - l1)^2 + (u2 - p2)^2)``, ``d + sqrt((u1 - p1)^2 + (p2 - l2)^2)``.

    Parameters
    ----------
    k1, n1, k2, n2 : int
    conf_level : float

    Returns
    -------
    tuple of float
    """
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1, conf_level)
    l2, u2 = wilson_interval(k2, n2, conf_level)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt(
        (u1 - p1) ** 2 + (p2 - l2) ** 2
    )


def is_responder(change: np.ndarray, mid: float, higher_is_better: bool) -> np.ndarray:
    """Whether each change reaches the MID in the better direction (NaN stays NaN).

    Parameters
    ----------
    change : array_like
        Change from baseline in the outcome's units.
    mid : float
        Minimal important difference, positive, in the outcome's units.
    higher_is_better : bool

    Returns
    -------
    ndarray of float
        1.0 responder, 0.0 not, NaN missing.
    """
    change = np.asarray(change, dtype=float)
    reached = change >= mid if higher_is_better else change <= -mid
    return np.where(np.isnan(change), np.nan, reached.astype(float))


def responders(
    analysis: pd.DataFrame, outcomes: pd.DataFrame, study: Study, conf_level: float = 0.95
) -> pd.DataFrame:
    """Responder rows for the outcomes with a MID in ``study.analysis``, at each
    post-baseline visit (change from baseline).

    Parameters
    ----------
    analysis : DataFrame
        Long analysis data: ``participant_id, arm, visit, outcome, value``.
    outcomes : DataFrame
        Outcome metadata with ``outcome`` and ``higher_is_better``.
    study : Study
    conf_level : float

    Returns
    -------
    DataFrame
        Contract rows with ``analysis = "responder"``: per arm (``contrast = "responders"``,
        ``group`` the arm) the proportion with its Wilson interval and ``statistic`` the
        number of responders; per non-reference arm the risk difference against the reference
        arm with Newcombe's hybrid score interval and Fisher's exact p.
    """
    mids = dict(study.analysis.minimal_important_difference)
    direction = dict(
        zip(
            outcomes["outcome"].astype(str), outcomes["higher_is_better"].astype(bool), strict=True
        )
    )
    reference = study.reference_arm.id
    rows = []
    for outcome in outcome_ids(analysis):
        if outcome not in mids:
            continue
        mid, better = float(mids[outcome]), direction.get(outcome, True)
        rule = f"change {'>=' if better else '<='} {'' if better else '-'}{mid:g}"
        wide = wide_by_visit(analysis, outcome, study)  # only the outcomes with a MID
        for visit in study.post_baseline:
            keys = {
                "study": study.id,
                "outcome": outcome,
                "visit": visit.id,
                "analysis": "responder",
            }
            counts = {}
            for arm in study.arm_ids:
                cells = wide.loc[wide["arm"] == arm]
                flags = is_responder(cells[visit.id] - cells[study.baseline.id], mid, better)
                flags = flags[~np.isnan(flags)]
                k, n = int(flags.sum()), len(flags)
                counts[arm] = (k, n)
                if n == 0:
                    numbers = empty_numbers(f"no participant with both visits; {rule}", n=0)
                else:
                    low, high = wilson_interval(k, n, conf_level)
                    numbers = empty_numbers(
                        f"{k}/{n} responders ({rule}); Wilson interval",
                        n=n,
                        estimate=k / n,
                        ci_low=low,
                        ci_high=high,
                        statistic=k,
                    )
                rows.append(keys | {"contrast": RESPONDER_CONTRAST, "group": arm} | numbers)
            for arm in study.arm_ids[1:]:
                (k1, n1), (k2, n2) = counts[arm], counts[reference]
                contrast = between_contrast(arm, reference)
                if n1 == 0 or n2 == 0:
                    numbers = empty_numbers(
                        "an arm has no participant with both visits", n=n1 + n2
                    )
                else:
                    low, high = newcombe_interval(k1, n1, k2, n2, conf_level)
                    table = np.array([[k1, n1 - k1], [k2, n2 - k2]])
                    numbers = empty_numbers(
                        f"risk difference ({rule}); Newcombe hybrid score interval; Fisher exact p",
                        n=n1 + n2,
                        estimate=k1 / n1 - k2 / n2,
                        ci_low=low,
                        ci_high=high,
                        p_value=fisher_exact_p(table),
                    )
                rows.append(keys | {"contrast": contrast, "group": ""} | numbers)
    return keyed_rows(rows)
