"""The imputation model's REML likelihood for many weightings of the subjects at once.

The imputation model is an MMRM whose mean has every term interacting with visit:
``E[y_i(t)] = x_i' B_t`` with one subject-level row ``x_i`` (intercept, baseline, arms,
covariates) and a coefficient vector ``B_t`` per visit, and an unstructured covariance per
covariance group. The design row of visit ``t`` is ``e_t' (x) x_i'``, so the per-pattern
cross-products the MMRM engine uses (:mod:`trialflow.stats.mmrm.likelihood`) are Kronecker
products of a much smaller statistic: for a cell ``c`` of subjects sharing a covariance group
and a set ``O`` of ``m`` observed visits, ``S_c = sum_i w_i w_i'`` with ``w_i = [x_i ; y_iO]``.
With ``W = Sigma_O^-1``, ``X'V^-1X = sum_c (S_O' W S_O) (x) Sxx_c``,
``X'V^-1y = sum_c vec(S_O' W Sxy_c')`` and ``y'V^-1y = sum_c tr(W Syy_c)``.

Every formula below is the engine's (:func:`~trialflow.stats.mmrm.likelihood.evaluate`:
objective, gradient, observed Hessian) written with these statistics and vectorised over a
leading axis of "replicates": the leave-one-subject-out data sets of the jackknife or the
bootstrap samples, each its own weighting of the same subjects. Deleting a subject is a
downdate of its cell's ``S_c``, so one Newton step for all N deletions costs about N times
one small evaluation, whatever N is. The tests check objective, gradient and Hessian
against the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..mmrm.covariance import get_structure

__all__ = [
    "BatchFit",
    "CellBatch",
    "chord_batch",
    "evaluate_batch",
    "newton_batch",
    "sigmas_from_theta",
]

LOG_2PI = float(np.log(2 * np.pi))
MAX_HESSIAN_FLOATS = 2**24  # 128 MiB of float64 for the largest Hessian piece
_FIELDS = ("objective", "beta", "phi", "gradient", "hessian")


@dataclass(frozen=True)
class CellBatch:
    """One cell's statistics in every replicate.

    ``visits`` are the observed visit indices (0..T-1), ``group`` the covariance group,
    ``n`` (R,) the subjects (or bootstrap weights) and ``cross`` (R, p0+m, p0+m) the
    weighted ``sum w w'`` of each replicate.
    """

    group: int
    visits: np.ndarray
    n: np.ndarray
    cross: np.ndarray


@dataclass
class BatchEvaluation:
    objective: np.ndarray  # (R,)
    beta: np.ndarray  # (R, p) with p = T * p0, visit-major
    phi: np.ndarray  # (R, p, p)
    gradient: np.ndarray | None = None  # (R, K)
    hessian: np.ndarray | None = None  # (R, K, K)


def sigmas_from_theta(theta: np.ndarray, n_times: int, n_groups: int) -> np.ndarray:
    """Unstructured covariances (R, G, T, T) from SAS's ``UN(i,j)`` parameters (R, G * k)."""
    theta = np.atleast_2d(theta)
    rows, cols = np.tril_indices(n_times)
    order = np.lexsort((cols, rows))  # SAS: UN(1,1), UN(2,1), UN(2,2), ...
    rows, cols = rows[order], cols[order]
    k = len(rows)
    out = np.zeros((theta.shape[0], n_groups, n_times, n_times))
    for g in range(n_groups):
        part = theta[:, g * k : (g + 1) * k]
        out[:, g, rows, cols] = part
        out[:, g, cols, rows] = part
    return out


def theta_from_sigmas(sigmas: np.ndarray) -> np.ndarray:
    """Inverse of :func:`sigmas_from_theta`: (R, G, T, T) to (R, G * k)."""
    t = sigmas.shape[-1]
    rows, cols = np.tril_indices(t)
    order = np.lexsort((cols, rows))
    return sigmas[..., rows[order], cols[order]].reshape(sigmas.shape[0], -1)


def valid_theta(theta: np.ndarray, n_times: int, n_groups: int) -> np.ndarray:
    """(R,) True where every group's Sigma is positive definite."""
    sig = sigmas_from_theta(theta, n_times, n_groups)
    finite = np.all(np.isfinite(theta), axis=1)
    sig = np.where(finite[:, None, None, None], sig, np.eye(n_times))
    low = np.linalg.eigvalsh(sig)[..., 0]
    scale = np.abs(np.diagonal(sig, axis1=-2, axis2=-1)).max(axis=-1)
    return finite & np.all(low > scale * 1e-12, axis=1)


def _pad(block: np.ndarray, visits: np.ndarray, n_times: int) -> np.ndarray:
    """Embed (..., m, m) blocks at rows and columns ``visits`` of (..., T, T) zeros."""
    out = np.zeros((*block.shape[:-2], n_times, n_times))
    out[..., visits[:, None], visits[None, :]] = block
    return out


def evaluate_batch(
    cells: list[CellBatch],
    theta: np.ndarray,
    n_times: int,
    n_groups: int,
    n_x: int,
    reml: bool = True,
    order: int = 0,
) -> BatchEvaluation:
    """-2 (restricted) log-likelihood of every replicate at its ``theta`` (R, G * k).

    ``order`` 1 adds the gradient, 2 the gradient and the observed Hessian, as the engine's
    :func:`~trialflow.stats.mmrm.likelihood.evaluate` (same parameterisation and constants).
    ``theta`` must be valid (see :func:`valid_theta`).
    """
    t, p0 = n_times, n_x
    p = t * p0
    n_rep = theta.shape[0]
    big_k = n_groups * t * (t + 1) // 2
    if order >= 2 and n_rep > 1 and n_rep * big_k * p * p > MAX_HESSIAN_FLOATS:
        # bound the memory of the (R, K, p, p) Hessian pieces: evaluate in halves
        half = n_rep // 2
        parts = [
            evaluate_batch(
                [_take(c, idx) for c in cells], theta[idx], t, n_groups, p0, reml, order
            )
            for idx in (np.arange(half), np.arange(half, n_rep))
        ]
        return BatchEvaluation(
            *(np.concatenate([getattr(part, f) for part in parts]) for f in _FIELDS)
        )
    sig = sigmas_from_theta(theta, t, n_groups)
    logdet = np.zeros(n_rep)
    xvx = np.zeros((n_rep, t, p0, t, p0))
    xvy = np.zeros((n_rep, t, p0))
    yvy = np.zeros(n_rep)
    n_obs = np.zeros(n_rep)
    work = []
    for cell in cells:
        v = cell.visits
        sxx, sxy, syy = _split(cell.cross, p0)
        sub = sig[:, cell.group][:, v][:, :, v]
        chol = np.linalg.cholesky(sub)
        w = np.linalg.inv(sub)
        logdet += cell.n * 2 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
        xvx += _pad(w, v, t)[:, :, None, :, None] * sxx[:, None, :, None, :]
        xvy[:, v, :] += w @ sxy.transpose(0, 2, 1)
        yvy += np.einsum("rab,rab->r", w, syy)
        n_obs += cell.n * len(v)
        work.append((cell, w, sxx, sxy, syy))
    xvx = xvx.reshape(n_rep, p, p)
    xvx = (xvx + xvx.transpose(0, 2, 1)) / 2
    phi = np.linalg.inv(xvx)
    beta = np.einsum("rab,rb->ra", phi, xvy.reshape(n_rep, p))
    rss = yvy - np.einsum("ra,ra->r", xvy.reshape(n_rep, p), beta)
    logdet_x = np.linalg.slogdet(xvx)[1]
    if reml:
        objective = logdet + logdet_x + rss + (n_obs - p) * LOG_2PI
    else:
        objective = logdet + rss + n_obs * LOG_2PI
    out = BatchEvaluation(objective, beta, phi)
    if order >= 1:
        _derivatives(out, work, n_times, n_groups, p0, reml, order)
    return out


def _split(cross: np.ndarray, p0: int):
    return cross[:, :p0, :p0], cross[:, :p0, p0:], cross[:, p0:, p0:]


def _derivatives(out, work, n_times, n_groups, p0, reml, order):
    """Gradient and (order 2) observed Hessian, the engine's formulas per cell."""
    t = n_times
    p = t * p0
    n_rep = out.beta.shape[0]
    structure = get_structure("unstructured", t)
    _, d1, _ = structure.derivatives(np.ones(structure.n_params), order=1)
    k = structure.n_params
    big_k = k * n_groups
    coef = out.beta.reshape(n_rep, t, p0)
    phi5 = out.phi.reshape(n_rep, t, p0, t, p0)
    grad = np.zeros((n_rep, big_k))
    hess = np.zeros((n_rep, big_k, big_k)) if order >= 2 else None
    lxx = np.zeros((n_rep, big_k, t, p0, t, p0)) if order >= 2 and reml else None
    lxu = np.zeros((n_rep, big_k, t, p0)) if order >= 2 else None
    for cell, w, sxx, sxy, syy in work:
        v = cell.visits
        hs = slice(cell.group * k, (cell.group + 1) * k)
        b_o = coef[:, v, :]  # (R, m, p0)
        bs = b_o @ sxy  # (R, m, m): sum_i (B_O x_i) y_i'
        resid = syy - bs - bs.transpose(0, 2, 1) + b_o @ sxx @ b_o.transpose(0, 2, 1)
        if reml:  # + sum_i X_iO Phi X_iO': tr(Phi_ab Sxx) for visits a, b
            m = len(v)
            block = phi5[:, v][:, :, :, v].transpose(0, 1, 3, 2, 4).reshape(n_rep, m * m, -1)
            resid = resid + (block @ sxx.reshape(n_rep, -1, 1)).reshape(n_rep, m, m)
        ds = d1[:, v][:, :, v]  # (k, m, m)
        wd = w[:, None] @ ds[None]  # W dSigma_h
        s = wd @ w[:, None]  # W dSigma_h W
        n = cell.n
        grad[:, hs] += n[:, None] * np.einsum("rhaa->rh", wd) - np.einsum("rhab,rab->rh", s, resid)
        if order < 2:
            continue
        hess[:, hs, hs] -= n[:, None, None] * _trace_products(wd, wd)
        wrw = w @ resid @ w
        hess[:, hs, hs] += 2 * _trace_products(np.broadcast_to(ds, wd.shape), wd @ wrw[:, None])
        r_x = sxy.transpose(0, 2, 1) - b_o @ sxx  # sum_i r_i x_i' (R, m, p0)
        lxu[:, hs, v, :] += s @ r_x[:, None]  # X' W dSigma_h W r, (R, k, m, p0)
        if reml:
            padded = _pad(s, v, t)  # (R, k, T, T)
            lxx[:, hs] += padded[:, :, :, None, :, None] * sxx[:, None, None, :, None, :]
    out.gradient = grad
    if order < 2:
        return
    lxu = lxu.reshape(n_rep, big_k, p)
    hess -= 2 * (lxu @ out.phi) @ lxu.transpose(0, 2, 1)
    if reml:
        phi_l = out.phi[:, None] @ lxx.reshape(n_rep, big_k, p, p)
        hess -= _trace_products(phi_l, phi_l)
    out.hessian = (hess + hess.transpose(0, 2, 1)) / 2


def _trace_products(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``tr(a_h b_j)`` for stacks a, b (R, K, n, n): (R, K, K), as one batched product."""
    n_rep, k, n, _ = a.shape
    left = a.reshape(n_rep, k, n * n)
    right = b.transpose(0, 1, 3, 2).reshape(n_rep, b.shape[1], n * n)
    return left @ right.transpose(0, 2, 1)


@dataclass
class BatchFit:
    theta: np.ndarray  # (R, K)
    beta: np.ndarray  # (R, p)
    converged: np.ndarray  # (R,) bool
    iterations: np.ndarray  # (R,) int


def newton_batch(
    cells: list[CellBatch],
    start: np.ndarray,
    n_times: int,
    n_groups: int,
    n_x: int,
    reml: bool = True,
    tol: float = 1e-12,
    max_iter: int = 50,
    active: np.ndarray | None = None,
) -> BatchFit:
    """Newton-Raphson of every replicate from ``start`` (R, K), as the engine's ``optimise``.

    Each replicate stops when the relative Hessian criterion ``g' H^-1 g / |f|`` falls
    below ``tol`` (after its final Newton step is taken). Steps are halved per replicate
    until the objective does not increase and Sigma stays positive definite. Replicates
    marked False in ``active`` are left at their start (e.g. deletions of subjects without
    observed values, whose likelihood is the full data's). Those that fail are returned
    with ``converged`` False, for the caller to refit another way.
    """
    theta = np.array(start, dtype=float, copy=True)
    n_rep = theta.shape[0]
    todo = np.ones(n_rep, dtype=bool) if active is None else np.asarray(active, bool).copy()
    converged = ~todo
    iterations = np.zeros(n_rep, dtype=int)
    failed = np.zeros(n_rep, dtype=bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(todo)
        if not len(idx):
            break
        sub = [_take(cell, idx) for cell in cells]
        current = evaluate_batch(sub, theta[idx], n_times, n_groups, n_x, reml, order=2)
        step, criterion, positive = _newton_step(current)
        relative = criterion / np.maximum(np.abs(current.objective), 1.0)
        # like the engine: at least one step, and a positive definite Hessian at the optimum
        done = positive & (relative < tol) & (iterations[idx] > 0)
        finite = np.all(np.isfinite(step), axis=1)
        step[~finite] = 0.0
        new_theta, moved = _halve(
            sub, theta[idx], step, current.objective, n_times, n_groups, n_x, reml
        )
        theta[idx[moved]] = new_theta[moved]
        iterations[idx] += 1
        converged[idx[done]] = True
        failed[idx[~done & (~moved | ~finite)]] = True
        todo[idx[done]] = False
        todo &= ~failed
    beta = np.full((n_rep, n_times * n_x), np.nan)
    good = np.flatnonzero(~failed)
    if len(good):
        sub = [_take(cell, good) for cell in cells]
        beta[good] = evaluate_batch(sub, theta[good], n_times, n_groups, n_x, reml).beta
    return BatchFit(theta, beta, converged & ~failed, iterations)


def chord_batch(
    cells: list[CellBatch],
    start: np.ndarray,
    hessian: np.ndarray,
    n_times: int,
    n_groups: int,
    n_x: int,
    reml: bool = True,
    tol: float = 1e-12,
    max_iter: int = 40,
    active: np.ndarray | None = None,
) -> BatchFit:
    """Newton iterations with one fixed Hessian (the full data's) for every replicate.

    A leave-one-out replicate's optimum is O(1/N) from the full-data optimum and its Hessian
    O(1/N) from the full data's, so each iteration with the full-data Hessian shrinks the
    error by a factor O(1/N) while costing only a gradient (a fifth of a Hessian). Stops a
    replicate when ``g' H^-1 g / |f| < tol``, after taking that last step. Replicates that
    do not converge in ``max_iter`` iterations, or leave the parameter space, are returned
    with ``converged`` False (the caller goes on with :func:`newton_batch`).
    """
    theta = np.array(start, dtype=float, copy=True)
    n_rep = theta.shape[0]
    inverse = np.linalg.inv(hessian)
    todo = np.ones(n_rep, dtype=bool) if active is None else np.asarray(active, bool).copy()
    converged = ~todo
    iterations = np.zeros(n_rep, dtype=int)
    for _ in range(max_iter):
        idx = np.flatnonzero(todo)
        if not len(idx):
            break
        sub = [_take(cell, idx) for cell in cells]
        current = evaluate_batch(sub, theta[idx], n_times, n_groups, n_x, reml, order=1)
        step = -np.einsum("rk,kj->rj", current.gradient, inverse)  # row by row, no BLAS
        relative = -np.einsum("ra,ra->r", current.gradient, step)
        relative /= np.maximum(np.abs(current.objective), 1.0)
        trial = theta[idx] + step
        ok = valid_theta(trial, n_times, n_groups)
        theta[idx[ok]] = trial[ok]
        iterations[idx] += 1
        # linear convergence: the last step does not square the error as Newton's does, so
        # iterate to tol^2 (replicates that do not get there go on with Newton-Raphson)
        done = ok & (relative < tol**2) & (iterations[idx] > 1)
        converged[idx[done]] = True
        todo[idx[done | ~ok]] = False
    beta = np.full((n_rep, n_times * n_x), np.nan)
    if converged.any():
        good = np.flatnonzero(converged)
        sub = [_take(cell, good) for cell in cells]
        beta[good] = evaluate_batch(sub, theta[good], n_times, n_groups, n_x, reml).beta
    return BatchFit(theta, beta, converged, iterations)


def _take(cell: CellBatch, idx: np.ndarray) -> CellBatch:
    return CellBatch(cell.group, cell.visits, cell.n[idx], cell.cross[idx])


def _newton_step(current: BatchEvaluation):
    """Newton step with the eigenvalue-modulus Hessian (as the engine) and its criterion."""
    w, v = np.linalg.eigh(current.hessian)
    floor = np.maximum(np.abs(w).max(axis=1), 1.0) * 1e-10
    scaled = np.einsum("rka,rk->ra", v, current.gradient) / np.maximum(np.abs(w), floor[:, None])
    step = -np.einsum("rak,rk->ra", v, scaled)
    criterion = -np.einsum("ra,ra->r", current.gradient, step)
    positive = w[:, 0] > w[:, -1] * 1e-10
    return step, criterion, positive & np.all(np.isfinite(step), axis=1)


def _halve(cells, theta, step, objective, n_times, n_groups, n_x, reml, max_halvings=60):
    """Per-replicate step halving until the objective does not increase."""
    n_rep = theta.shape[0]
    scale = np.ones(n_rep)
    accepted = np.zeros(n_rep, dtype=bool)
    out = theta.copy()
    for _ in range(max_halvings):
        idx = np.flatnonzero(~accepted)
        if not len(idx):
            break
        trial = theta[idx] + scale[idx, None] * step[idx]
        ok = valid_theta(trial, n_times, n_groups)
        better = np.zeros(len(idx), dtype=bool)
        if ok.any():
            good = idx[ok]
            sub = [_take(cell, good) for cell in cells]
            value = evaluate_batch(sub, trial[ok], n_times, n_groups, n_x, reml).objective
            better[ok] = value <= objective[good] + 1e-9 + 1e-13 * np.abs(objective[good])
        out[idx[better]] = trial[better]
        accepted[idx[better]] = True
        scale[idx[~better]] /= 2
    return out, accepted
