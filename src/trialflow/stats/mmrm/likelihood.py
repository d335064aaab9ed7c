"""The (restricted) likelihood of the MMRM from per-missingness-pattern sufficient statistics.

For pattern P (the set of visits a subject has) with ``n_P`` subjects, the model only needs
``M_P = sum_i Z_i' Z_i`` where ``Z_i`` stacks the subject's design rows and response,
``[X_i | y_i]``, visit by visit (stored as ``(m*m, q*q)`` with ``m`` observed visits and
``q = p + 1`` columns). With ``W_P = Sigma_P^{-1}``:

    A = sum_P W_P . M_P = [[X'V^-1 X, X'V^-1 y], [y'V^-1 X, y'V^-1 y]]

and the -2 REML log-likelihood is ``sum_P n_P log|Sigma_P| + log|X'V^-1 X| + r'V^-1 r +
(N - p) log 2 pi``. Every quantity below is such a sum over patterns, so each optimisation
step costs the same whatever the number of subjects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .covariance import CovarianceStructure

__all__ = [
    "Evaluation",
    "PatternStats",
    "evaluate",
    "mivque0",
    "pattern_order",
    "pattern_statistics",
    "sorted_pattern_statistics",
]

LOG_2PI = float(np.log(2 * np.pi))


@dataclass(frozen=True)
class PatternStats:
    """Sufficient statistics of the data, one entry per missingness pattern."""

    observed: tuple[np.ndarray, ...]  # visit indices observed in each pattern
    counts: np.ndarray  # subjects per pattern
    cross: tuple[np.ndarray, ...]  # (m*m, q*q) visit-pair blocks of Z'Z
    n_times: int
    n_obs: int
    n_subjects: int
    n_params: int  # p, columns of X


def pattern_order(
    subject: np.ndarray, time: np.ndarray, n_times: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Order rows by (missingness pattern, subject, visit).

    Each pattern is then one contiguous block in which every subject has the same ``m``
    rows in the same visit order, so the block reshapes to ``(n_P, m * q)``.

    Parameters
    ----------
    subject : ndarray (N,) of int
        Subject code 0..n-1 of each row.
    time : ndarray (N,) of int
        Visit index 0..t-1 of each row.
    n_times : int
        Number of visits t.

    Returns
    -------
    order : ndarray (N,)
        Row permutation.
    keys : ndarray (N,)
        Pattern bit mask of each row, in the new order.
    n_subjects : int
        Subjects with at least one row.

    Raises
    ------
    ValueError
        If a subject has two rows at the same visit.
    """
    if n_times > 62:
        raise ValueError("at most 62 visits are supported")
    n_rows = len(subject)
    n_codes = int(subject.max()) + 1 if n_rows else 0
    bits = np.zeros(n_codes, dtype=np.int64)
    np.bitwise_or.at(bits, subject, np.left_shift(np.int64(1), time.astype(np.int64)))
    per_subject = np.bincount(subject, minlength=n_codes)
    if np.any(np.bitwise_count(bits) != per_subject):
        raise ValueError("a subject has more than one observation at the same visit")
    order = np.lexsort((time, subject, bits[subject]))
    return order, bits[subject[order]], int(np.count_nonzero(per_subject))


def sorted_pattern_statistics(
    z: np.ndarray, keys: np.ndarray, n_times: int, n_subjects: int
) -> PatternStats:
    """Per-pattern cross-products of ``z = [X | y]`` already in :func:`pattern_order`."""
    n_obs, q = z.shape
    patterns, first, counts = np.unique(keys, return_index=True, return_counts=True)
    observed, cross, n_per = [], [], []
    for key, start, rows in zip(patterns, first, counts, strict=True):
        visits = np.flatnonzero((int(key) >> np.arange(n_times)) & 1)
        m = len(visits)
        block = z[start : start + rows].reshape(rows // m, m * q)
        zz = _cross_product(block).reshape(m, q, m, q).transpose(0, 2, 1, 3)
        observed.append(visits)
        cross.append(zz.reshape(m * m, q * q))
        n_per.append(rows // m)
    return PatternStats(
        observed=tuple(observed),
        counts=np.array(n_per, dtype=float),
        cross=tuple(cross),
        n_times=n_times,
        n_obs=n_obs,
        n_subjects=n_subjects,
        n_params=q - 1,
    )


def pattern_statistics(
    x: np.ndarray, y: np.ndarray, subject: np.ndarray, time: np.ndarray, n_times: int
) -> PatternStats:
    """Build the per-pattern cross-products in one vectorised pass.

    Parameters
    ----------
    x : ndarray (N, p)
        Design rows of the observed (non-missing) responses.
    y : ndarray (N,)
        Responses.
    subject : ndarray (N,) of int
        Subject code 0..n-1 of each row.
    time : ndarray (N,) of int
        Visit index 0..t-1 of each row.
    n_times : int
        Number of visits t.

    Raises
    ------
    ValueError
        If a subject has two rows at the same visit.
    """
    order, keys, n_subjects = pattern_order(subject, time, n_times)
    z = np.column_stack([x, y])[order]
    return sorted_pattern_statistics(z, keys, n_times, n_subjects)


def _cross_product(block: np.ndarray) -> np.ndarray:
    """``block' block`` accumulated over row chunks small enough for single-threaded BLAS.

    On a tall, skinny matrix a multi-threaded BLAS call gains little and, when the cores
    are shared with other work, loses a lot to waiting threads (measured on the 2-core
    benchmark machine under load: 0.4-1.9 s against 0.13 s at 100k subjects). OpenBLAS runs
    a product on one thread when rows * cols**2 is at most 65536 * 4.
    """
    width = block.shape[1]
    rows = int(np.clip(262144 // max(width * width, 1), 16, 4096))
    out = np.zeros((width, width))
    for start in range(0, block.shape[0], rows):
        chunk = block[start : start + rows]
        out += chunk.T @ chunk
    return out


@dataclass
class Evaluation:
    """The objective and, on request, its gradient, Hessian and Kenward-Roger pieces."""

    objective: float  # -2 log-likelihood (REML or ML)
    beta: np.ndarray
    phi: np.ndarray  # (X' V^-1 X)^-1
    logdet_xvx: float
    gradient: np.ndarray | None = None
    hessian: np.ndarray | None = None
    p_mats: np.ndarray | None = None  # P_h = X' dV^-1/dtheta_h X, (k, p, p)
    q_mats: np.ndarray | None = None  # Q_hj = X' dV^-1_h V dV^-1_j X, (k, k, p, p)
    r_mats: np.ndarray | None = None  # R_hj = X' V^-1 d2V_hj V^-1 X, (k, k, p, p) or None


class NotPositiveDefinite(ArithmeticError):
    """Sigma or X'V^-1X is not positive definite at the parameters tried."""


def evaluate(
    stats: PatternStats,
    structure: CovarianceStructure,
    theta: np.ndarray,
    reml: bool = True,
    order: int = 0,
) -> Evaluation:
    """-2 log-likelihood at ``theta`` and, for ``order`` 1 or 2, derivatives.

    Parameters
    ----------
    stats : PatternStats
    structure : CovarianceStructure
    theta : ndarray
        Covariance parameters (SAS parameterisation).
    reml : bool
        REML (True) or ML with beta profiled out.
    order : int
        0: objective only; 1: plus gradient; 2: plus observed Hessian and the
        Kenward-Roger matrices P, Q, R.

    Raises
    ------
    NotPositiveDefinite
        If Sigma(theta) or X'V^-1X is not positive definite.
    """
    sigma, d1, d2 = structure.derivatives(theta, order=2 if order >= 2 else order)
    out, inverses = _objective(stats, sigma, reml)
    if order == 0:
        return out
    u = np.append(-out.beta, 1.0)  # Z u = y - X beta = r
    if order == 1:
        out.gradient = _gradient(stats, sigma, d1, inverses, out.phi, u, reml)
    else:
        _second_order(stats, d1, d2, inverses, out, u, reml)
    return out


def _objective(
    stats: PatternStats, sigma: np.ndarray, reml: bool
) -> tuple[Evaluation, list[np.ndarray]]:
    """The -2 log-likelihood, GLS beta and Phi, and each pattern's ``Sigma_P^-1``."""
    p = stats.n_params
    q = p + 1
    logdet_sigma = 0.0
    a = np.zeros(q * q)
    inverses = []
    for visits, n, cross in zip(stats.observed, stats.counts, stats.cross, strict=True):
        sub = sigma[np.ix_(visits, visits)]
        try:
            chol = np.linalg.cholesky(sub)
        except np.linalg.LinAlgError as err:
            raise NotPositiveDefinite("Sigma is not positive definite") from err
        inv = np.linalg.inv(sub)
        inverses.append(inv)
        logdet_sigma += n * 2.0 * np.log(np.diag(chol)).sum()
        a += inv.reshape(-1) @ cross
    a = a.reshape(q, q)
    xvx = (a[:p, :p] + a[:p, :p].T) / 2
    try:
        chol_x = np.linalg.cholesky(xvx)
    except np.linalg.LinAlgError as err:
        raise NotPositiveDefinite("X'V^-1X is singular: the design is not of full rank") from err
    phi = np.linalg.inv(xvx)
    beta = phi @ a[:p, p]
    rss = float(a[p, p] - a[p, :p] @ beta)  # r' V^-1 r at the GLS beta
    logdet_xvx = 2.0 * np.log(np.diag(chol_x)).sum()
    if reml:
        objective = logdet_sigma + logdet_xvx + rss + (stats.n_obs - p) * LOG_2PI
    else:
        objective = logdet_sigma + rss + stats.n_obs * LOG_2PI
    return Evaluation(float(objective), beta, phi, float(logdet_xvx)), inverses


def _gradient(stats, sigma, d1, inverses, phi, u, reml: bool) -> np.ndarray:
    """The gradient alone: w.r.t. the entries of Sigma first (one contraction per pattern),
    then chained through dSigma/dtheta: cheap whatever the number of parameters."""
    p = stats.n_params
    d = np.outer(u, u)
    if reml:
        d[:p, :p] += phi
    grad_sigma = np.zeros_like(sigma)
    for visits, n, cross, inv in zip(
        stats.observed, stats.counts, stats.cross, inverses, strict=True
    ):
        m = len(visits)
        e = (cross @ d.reshape(-1)).reshape(m, m)
        grad_sigma[np.ix_(visits, visits)] += n * inv - inv @ e @ inv
    return np.einsum("kab,ab->k", d1, grad_sigma)


def _pattern_sums(stats, d1, d2, inverses) -> dict[str, np.ndarray | None]:
    """Sums over patterns of the traces and the ``Z' ... Z`` products of second order."""
    k = d1.shape[0]
    q = stats.n_params + 1
    sums = {
        "trace1": np.zeros(k),  # sum_P n_P tr(W dSigma_h)
        "trace2": np.zeros((k, k)),  # sum_P n_P tr(W dSigma_h W dSigma_j)
        "trace_d2": np.zeros((k, k)),  # sum_P n_P tr(W d2Sigma_hj)
        "big_l": np.zeros((k, q * q)),  # Z' V^-1 dV_h V^-1 Z
        "big_k": np.zeros((k * k, q * q)),  # Z' V^-1 dV_h V^-1 dV_j V^-1 Z
        "big_r": np.zeros((k * k, q * q)) if d2 is not None else None,
    }
    for visits, n, cross, inv in zip(
        stats.observed, stats.counts, stats.cross, inverses, strict=True
    ):
        m = len(visits)
        ds = d1[:, visits][:, :, visits]  # (k, m, m)
        wd = inv[None] @ ds  # W dSigma_h
        sums["trace1"] += n * np.einsum("haa->h", wd)
        sums["trace2"] += n * np.einsum("hab,jba->hj", wd, wd)
        s = wd @ inv[None]  # W dSigma_h W
        sums["big_l"] += s.reshape(k, m * m) @ cross
        t = np.einsum("hab,jbc->hjac", wd, s)  # W dSigma_h W dSigma_j W
        sums["big_k"] += t.reshape(k * k, m * m) @ cross
        if d2 is not None:
            dd = d2[:, :, visits][:, :, :, visits]
            sums["trace_d2"] += n * np.einsum("ab,hjba->hj", inv, dd)
            sums["big_r"] += (inv[None, None] @ dd @ inv[None, None]).reshape(k * k, m * m) @ cross
    return sums


def _second_order(stats, d1, d2, inverses, out: Evaluation, u, reml: bool) -> None:
    """Fill the gradient, the observed Hessian and the Kenward-Roger matrices of ``out``."""
    p = stats.n_params
    q = p + 1
    k = d1.shape[0]
    phi = out.phi
    sums = _pattern_sums(stats, d1, d2, inverses)
    big_l = sums["big_l"].reshape(k, q, q)
    big_k = sums["big_k"].reshape(k, k, q, q)
    lxx = big_l[:, :p, :p]
    kxx = big_k[:, :, :p, :p]
    lu = big_l @ u  # (k, q): [X' V^-1 dV V^-1 r ; r' V^-1 dV V^-1 r]
    lxu = lu[:, :p]
    ulu = lu @ u
    phi_l = np.einsum("ab,hbc->hac", phi, lxx)  # Phi L_h
    grad = sums["trace1"] - ulu
    # K_hj applied to u on both sides: r' V^-1 dV_h V^-1 dV_j V^-1 r
    uku = np.einsum("a,hjab,b->hj", u, big_k, u)
    cross_r = lxu @ phi @ lxu.T
    hess = -sums["trace2"] + 2 * uku - 2 * cross_r
    if reml:
        grad -= np.einsum("hab,ba->h", lxx, phi)
        hess += 2 * np.einsum("ab,hjba->hj", phi, kxx) - np.einsum("hab,jba->hj", phi_l, phi_l)
    if d2 is not None:
        big_r = sums["big_r"].reshape(k, k, q, q)
        rxx = big_r[:, :, :p, :p]
        uru = np.einsum("a,hjab,b->hj", u, big_r, u)
        hess += sums["trace_d2"] - uru
        if reml:
            hess -= np.einsum("ab,hjba->hj", phi, rxx)
        out.r_mats = rxx
    out.gradient = grad
    out.hessian = (hess + hess.T) / 2
    out.p_mats = -lxx
    out.q_mats = kxx


def mivque0(stats: PatternStats, structure: CovarianceStructure) -> np.ndarray:
    """MIVQUE0 estimates of a linear structure's parameters (SAS's default starting values).

    Solves ``sum_j tr(M V_h M V_j) theta_j = y' M V_h M y`` with ``M = I - X (X'X)^-1 X'``
    and ``V_h = dV/dtheta_h``; every trace is a sum over missingness patterns.
    """
    p = stats.n_params
    q = p + 1
    k = structure.n_params
    _, d1, _ = structure.derivatives(np.ones(k), order=1)  # linear: constant derivatives
    xx = np.zeros(q * q)
    xvx = np.zeros((k, q * q))
    xvvx = np.zeros((k * k, q * q))
    tvv = np.zeros((k, k))
    for visits, n, cross in zip(stats.observed, stats.counts, stats.cross, strict=True):
        m = len(visits)
        ds = d1[:, visits][:, :, visits]
        xx += np.eye(m).reshape(-1) @ cross
        xvx += ds.reshape(k, m * m) @ cross
        xvvx += np.einsum("hab,jbc->hjac", ds, ds).reshape(k * k, m * m) @ cross
        tvv += n * np.einsum("hab,jba->hj", ds, ds)
    xx = xx.reshape(q, q)
    xvx = xvx.reshape(k, q, q)
    xvvx = xvvx.reshape(k, k, q, q)
    g = np.linalg.inv(xx[:p, :p])
    u = np.append(-(g @ xx[:p, p]), 1.0)
    gv = np.einsum("ab,hbc->hac", g, xvx[:, :p, :p])
    lhs = tvv - 2 * np.einsum("ab,hjba->hj", g, xvvx[:, :, :p, :p])
    lhs += np.einsum("hab,jba->hj", gv, gv)
    rhs = np.einsum("a,hab,b->h", u, xvx, u)
    return np.linalg.solve(lhs, rhs)
