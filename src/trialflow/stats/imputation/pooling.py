"""Inference from replicates: Rubin's rules with Barnard-Rubin df, and the jackknife."""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["jackknife_se", "normal_inference", "rubin_pool", "t_inference"]


def rubin_pool(
    estimates: np.ndarray, variances: np.ndarray, df_complete: float
) -> dict[str, np.ndarray]:
    """Rubin's rules over the first axis (the M imputations), elementwise over the rest.

    ``Q = mean(q_m)``, ``U = mean(u_m)``, ``B = var(q_m)`` (denominator M - 1),
    ``T = U + (1 + 1/M) B``. Barnard and Rubin's (1999) df, as rbmi's ``rubin_df``:
    ``lambda = (1 + 1/M) B / T``, ``nu_old = (M - 1) / lambda^2``,
    ``nu_obs = (nu_com + 1) / (nu_com + 3) * nu_com * (1 - lambda)`` and
    ``nu = nu_old nu_obs / (nu_old + nu_obs)``; ``nu = nu_obs`` when ``B = 0``. The Monte
    Carlo SE of ``Q`` is ``sqrt(B / M)`` (Royston, Carlin and White 2009).

    Returns
    -------
    dict
        ``estimate``, ``se`` (sqrt T), ``df``, ``within`` (U), ``between`` (B), ``total``
        (T), ``fmi`` (lambda), ``mc_se``.
    """
    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    m = q.shape[0]
    if m < 2:
        raise ValueError("Rubin's rules need at least two imputations")
    qbar = q.mean(axis=0)
    within = u.mean(axis=0)
    between = q.var(axis=0, ddof=1)
    total = within + (1 + 1 / m) * between
    lam = (1 + 1 / m) * between / total
    nu_obs = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - lam)
    with np.errstate(divide="ignore", invalid="ignore"):
        nu_old = (m - 1) / lam**2
        df = np.where(lam > 0, nu_old * nu_obs / (nu_old + nu_obs), nu_obs)
    return {
        "estimate": qbar,
        "se": np.sqrt(total),
        "df": df,
        "within": within,
        "between": between,
        "total": total,
        "fmi": lam,
        "mc_se": np.sqrt(between / m),
    }


def jackknife_se(replicates: np.ndarray) -> np.ndarray:
    """``sqrt((n - 1) / n * sum_j (theta_(-j) - mean)^2)`` over the first axis."""
    n = replicates.shape[0]
    centred = replicates - replicates.mean(axis=0)
    return np.sqrt((n - 1) / n * (centred**2).sum(axis=0))


def normal_inference(estimate, se, alpha: float) -> dict[str, np.ndarray]:
    """Wald z statistic, two-sided p-value and ``1 - alpha`` interval."""
    estimate, se = np.asarray(estimate, float), np.asarray(se, float)
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = estimate / se
    return {
        "statistic": statistic,
        "p_value": 2 * stats.norm.sf(np.abs(statistic)),
        "ci_low": estimate - z * se,
        "ci_high": estimate + z * se,
    }


def t_inference(estimate, se, df, alpha: float) -> dict[str, np.ndarray]:
    """t statistic with ``df`` degrees of freedom, two-sided p-value and interval."""
    estimate, se, df = (np.asarray(v, float) for v in (estimate, se, df))
    q = stats.t.ppf(1 - alpha / 2, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = estimate / se
    return {
        "statistic": statistic,
        "p_value": 2 * stats.t.sf(np.abs(statistic), df),
        "ci_low": estimate - q * se,
        "ci_high": estimate + q * se,
    }
