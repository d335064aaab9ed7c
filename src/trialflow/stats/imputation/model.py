"""The imputation model: an MMRM with every mean term interacting with visit, fitted by REML.

Mean ``E[y_i(t)] = x_i' B_t`` (``x_i``: intercept, baseline, arm dummies, covariates; the
formula ``value ~ (baseline + covariates) * visit + arm * visit`` in another
parameterisation), unstructured covariance shared by all arms or one per arm, fitted to the
values in ``ImputationData.fit_observed``. Subjects are grouped in cells (covariance group,
observed visits); the full-data fit runs the MMRM engine (:func:`trialflow.stats.mmrm.fit.
optimise`, with :mod:`trialflow.stats.mmrm.grouped` for per-arm covariances) on per-pattern
statistics built from the cells, the replicate fits (jackknife, bootstrap) run
:func:`.reml.newton_batch` warm-started at the full-data optimum, falling back to the engine
for any replicate that does not converge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..mmrm.covariance import get_structure
from ..mmrm.fit import optimise
from ..mmrm.grouped import grouped_structure
from ..mmrm.likelihood import NotPositiveDefinite, PatternStats, evaluate, mivque0
from .data import ImputationData
from .reml import (
    CellBatch,
    chord_batch,
    evaluate_batch,
    newton_batch,
    sigmas_from_theta,
    theta_from_sigmas,
)

__all__ = ["COVARIANCE", "Cells", "ImputationModel", "build_cells", "fit_model", "fit_replicates"]

#: Covariance options: one unstructured matrix for all arms, or one per arm.
COVARIANCE = ("shared", "by_arm")


@dataclass(frozen=True)
class Cells:
    """Subjects grouped by covariance group and observed (fitted) visits.

    ``rows[c]`` (n_c, p0 + m) stacks ``w_i = [x_i ; y_iO]`` of the cell's ``members``;
    ``cell_of[i]`` is subject i's cell (-1: no value in the fit).
    """

    group: tuple[int, ...]
    visits: tuple[np.ndarray, ...]
    members: tuple[np.ndarray, ...]
    rows: tuple[np.ndarray, ...]
    cell_of: np.ndarray
    n_groups: int
    n_times: int
    n_x: int

    def full(self) -> list[CellBatch]:
        """The cells of the full data (one replicate)."""
        return [
            CellBatch(g, v, np.array([float(len(r))]), (r.T @ r)[None])
            for g, v, r in zip(self.group, self.visits, self.rows, strict=True)
        ]

    def jackknife(self, deleted: np.ndarray) -> list[CellBatch]:
        """Replicate ``r`` leaves out subject ``deleted[r]``: a downdate of its cell."""
        out = []
        for c, (g, v, r) in enumerate(zip(self.group, self.visits, self.rows, strict=True)):
            total = r.T @ r
            hit = self.cell_of[deleted] == c
            own = np.zeros((len(deleted), r.shape[1]))
            position = np.full(len(self.cell_of), -1)
            position[self.members[c]] = np.arange(len(self.members[c]))
            own[hit] = r[position[deleted[hit]]]
            cross = total[None] - own[:, :, None] * own[:, None, :]
            out.append(CellBatch(g, v, len(r) - hit.astype(float), cross))
        return out

    def weighted(self, weights: np.ndarray) -> list[CellBatch]:
        """Replicate ``r`` weights subject ``i`` by ``weights[r, i]`` (bootstrap counts)."""
        out = []
        for g, v, members, r in zip(self.group, self.visits, self.members, self.rows, strict=True):
            w = weights[:, members]
            # einsum, not BLAS: each replicate's sums do not depend on the batch they are in
            cross = np.einsum("ri,ia,ib->rab", w, r, r)
            out.append(CellBatch(g, v, w.sum(axis=1).astype(float), cross))
        return out


def build_cells(data: ImputationData, covariance: str = "shared") -> Cells:
    """Group the subjects in cells (covariance group x set of fitted visits)."""
    if covariance not in COVARIANCE:
        raise ValueError(f"covariance must be one of {COVARIANCE}, got {covariance!r}")
    group = data.arm if covariance == "by_arm" else np.zeros(data.n, dtype=int)
    n_groups = len(data.arms) if covariance == "by_arm" else 1
    bits = (data.fit_observed * (1 << np.arange(data.n_times))).sum(axis=1)
    key = group * (1 << data.n_times) + bits
    cell_of = np.full(data.n, -1)
    groups, visits, members, rows = [], [], [], []
    for value in np.unique(key[bits > 0]):
        idx = np.flatnonzero(key == value)
        v = np.flatnonzero(data.fit_observed[idx[0]])
        cell_of[idx] = len(groups)
        groups.append(int(group[idx[0]]))
        visits.append(v)
        members.append(idx)
        rows.append(np.column_stack([data.x[idx], data.y[idx][:, v]]))
    return Cells(
        tuple(groups),
        tuple(visits),
        tuple(members),
        tuple(rows),
        cell_of,
        n_groups,
        data.n_times,
        data.n_x,
    )


def engine_statistics(cells: Cells, batch: list[CellBatch], replicate: int = 0) -> PatternStats:
    """The MMRM engine's per-pattern statistics of one replicate (see :mod:`.reml`).

    Visit ``t`` of covariance group ``g`` is the engine's visit ``g * T + t``
    (:mod:`trialflow.stats.mmrm.grouped`); the design row of visit t is ``e_t' (x) x_i'``.
    """
    t, p0 = cells.n_times, cells.n_x
    q = t * p0 + 1
    observed, counts, cross = [], [], []
    for cell in batch:
        v = cell.visits
        m = len(v)
        s = cell.cross[replicate]
        sxx, sxy, syy = s[:p0, :p0], s[:p0, p0:], s[p0:, p0:]
        blocks = np.zeros((m, m, q, q))
        for a in range(m):
            for b in range(m):
                rows = slice(v[a] * p0, (v[a] + 1) * p0)
                cols = slice(v[b] * p0, (v[b] + 1) * p0)
                blocks[a, b, rows, cols] = sxx
                blocks[a, b, rows, q - 1] = sxy[:, b]
                blocks[a, b, q - 1, cols] = sxy[:, a]
                blocks[a, b, q - 1, q - 1] = syy[a, b]
        observed.append(cell.group * t + v)
        counts.append(cell.n[replicate])
        cross.append(blocks.reshape(m * m, q * q))
    n_subjects = int(round(sum(counts)))
    return PatternStats(
        observed=tuple(observed),
        counts=np.array(counts, dtype=float),
        cross=tuple(cross),
        n_times=t * cells.n_groups,
        n_obs=int(round(sum(n * len(o) for n, o in zip(counts, observed, strict=True)))),
        n_subjects=n_subjects,
        n_params=t * p0,
    )


@dataclass(frozen=True)
class ImputationModel:
    """A fitted imputation model: coefficients ``coef`` (T, p0), covariances (G, T, T)."""

    theta: np.ndarray
    coef: np.ndarray
    sigmas: np.ndarray
    objective: float
    iterations: int
    message: str

    @property
    def n_groups(self) -> int:
        return self.sigmas.shape[0]


class ImputationFitError(RuntimeError):
    """The imputation model could not be fitted."""


def fit_model(
    cells: Cells,
    batch: list[CellBatch] | None = None,
    replicate: int = 0,
    start: np.ndarray | None = None,
    reml: bool = True,
    tol: float = 1e-12,
    max_iter: int = 100,
) -> ImputationModel:
    """REML fit with the MMRM engine (Newton-Raphson, SAS's MIVQUE0 start).

    Raises
    ------
    ImputationFitError
        When Newton-Raphson does not converge.
    """
    batch = cells.full() if batch is None else batch
    stats = engine_statistics(cells, batch, replicate)
    t, groups = cells.n_times, cells.n_groups
    if groups == 1:
        structure = get_structure("unstructured", t)
    else:
        structure = grouped_structure("unstructured", t, groups)
    if start is None:
        start = _start(stats, structure, cells, batch, replicate)
    try:
        opt = optimise(stats, structure, start, reml, max_iter, tol)
    except (np.linalg.LinAlgError, NotPositiveDefinite) as err:
        raise ImputationFitError(f"imputation model: numerical failure ({err})") from err
    if not opt.converged:
        raise ImputationFitError(f"imputation model did not converge: {opt.message}")
    # the engine returns the iterate at which the criterion is met; restarting it takes one
    # more Newton step, to the optimum at machine precision (replicates are compared to it)
    polished = optimise(stats, structure, opt.theta, reml, max_iter, tol)
    if polished.converged:
        opt = polished
    final = evaluate(stats, structure, opt.theta, reml=reml)
    sigmas = sigmas_from_theta(opt.theta[None], t, groups)[0]
    return ImputationModel(
        theta=np.asarray(opt.theta, dtype=float),
        coef=final.beta.reshape(t, cells.n_x),
        sigmas=sigmas,
        objective=final.objective,
        iterations=opt.iterations,
        message=opt.message,
    )


def _start(stats, structure, cells, batch, replicate) -> np.ndarray:
    """MIVQUE0 (SAS's start); if not positive definite, per-group OLS residual covariances."""
    try:
        theta = mivque0(stats, structure)
        if structure.is_valid(theta):
            return theta
    except np.linalg.LinAlgError:
        pass
    p0, t = cells.n_x, cells.n_times
    sigmas = np.zeros((cells.n_groups, t, t))
    for g in range(cells.n_groups):
        sums, counts = np.zeros((t, t)), np.zeros((t, t))
        for cell in batch:
            if cell.group != g:
                continue
            s = cell.cross[replicate]
            coef = np.linalg.lstsq(s[:p0, :p0], s[:p0, p0:], rcond=None)[0]
            resid = s[p0:, p0:] - s[p0:, :p0] @ coef
            v = cell.visits
            sums[np.ix_(v, v)] += resid
            counts[np.ix_(v, v)] += cell.n[replicate]
        var = np.where(
            counts.diagonal() > 0, sums.diagonal() / np.maximum(counts.diagonal(), 1), 1
        )
        sigmas[g] = np.diag(np.maximum(var, 1e-8))
    return theta_from_sigmas(sigmas[None])[0]


def fit_replicates(
    cells: Cells,
    batch: list[CellBatch],
    model: ImputationModel,
    reml: bool = True,
    tol: float = 1e-12,
    active: np.ndarray | None = None,
    newton_first: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """REML fits of every replicate, warm-started at the full-data fit ``model``.

    Fixed-Hessian iterations (:func:`.reml.chord_batch`, right for leave-one-out
    replicates) unless ``newton_first``; then Newton-Raphson (:func:`.reml.newton_batch`)
    for the replicates not yet converged; the MMRM engine for any still left.

    Returns
    -------
    coef : ndarray (R, T, p0)
    sigmas : ndarray (R, G, T, T)
    """
    n_rep = len(batch[0].n) if batch else 0
    t, groups, p0 = cells.n_times, cells.n_groups, cells.n_x
    todo = np.ones(n_rep, dtype=bool) if active is None else np.asarray(active, bool)
    theta = np.repeat(model.theta[None], n_rep, axis=0)
    beta = np.repeat(model.coef.reshape(1, -1), n_rep, axis=0)
    if not newton_first and todo.any():
        full = evaluate_batch(cells.full(), model.theta[None], t, groups, p0, reml, order=2)
        fit = chord_batch(batch, theta, full.hessian[0], t, groups, p0, reml, tol, active=todo)
        theta[fit.converged], beta[fit.converged] = (
            fit.theta[fit.converged],
            fit.beta[fit.converged],
        )
        todo = todo & ~fit.converged
    if todo.any():
        idx = np.flatnonzero(todo)
        sub = [CellBatch(c.group, c.visits, c.n[idx], c.cross[idx]) for c in batch]
        fit = newton_batch(sub, theta[idx], t, groups, p0, reml, tol)
        theta[idx[fit.converged]] = fit.theta[fit.converged]
        beta[idx[fit.converged]] = fit.beta[fit.converged]
        for r in idx[~fit.converged]:
            refit = fit_model(cells, batch, int(r), start=model.theta, reml=reml, tol=tol)
            theta[r], beta[r] = refit.theta, refit.coef.reshape(-1)
    return beta.reshape(n_rep, t, p0), sigmas_from_theta(theta, t, groups)
