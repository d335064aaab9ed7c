"""Fitting an MMRM: data preparation, Newton-Raphson on the (restricted) likelihood, fallbacks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .covariance import CovarianceStructure, get_structure
from .design import Design, level_codes
from .likelihood import (
    NotPositiveDefinite,
    PatternStats,
    evaluate,
    mivque0,
    pattern_order,
    sorted_pattern_statistics,
)
from .results import MMRMResults

__all__ = ["ConvergenceError", "FitAttempt", "fit_mmrm", "optimise"]

DDF_METHODS = ("kenward-roger", "kenward-roger-linear", "satterthwaite")


class ConvergenceError(RuntimeError):
    """No covariance structure in the fallback order gave a converged fit."""

    def __init__(self, attempts: Sequence[FitAttempt]):
        self.attempts = list(attempts)
        detail = "; ".join(f"{a.structure}: {a.message}" for a in self.attempts)
        super().__init__(f"MMRM did not converge with any covariance structure ({detail})")


@dataclass(frozen=True)
class FitAttempt:
    """One structure tried: whether it converged and why not."""

    structure: str
    converged: bool
    message: str
    iterations: int = 0
    objective: float = float("nan")


@dataclass
class _Optimum:
    theta: np.ndarray
    iterations: int
    converged: bool
    message: str


def optimise(
    stats: PatternStats,
    structure: CovarianceStructure,
    start: np.ndarray,
    reml: bool = True,
    max_iter: int = 100,
    tol: float = 1e-8,
) -> _Optimum:
    """Newton-Raphson with the observed Hessian, step-halving and a positive-definite guard.

    Like SAS PROC MIXED, the iterations stop when the relative Hessian criterion
    ``g' H^-1 g / |f|`` falls below ``tol``. A step is halved until the objective decreases
    and Sigma stays positive definite; a Hessian that is not positive definite is replaced by
    its eigenvalue-modulus version so the step still goes downhill.
    """
    theta = np.asarray(start, dtype=float).copy()
    try:
        current = evaluate(stats, structure, theta, reml=reml, order=2)
    except NotPositiveDefinite as err:
        return _Optimum(theta, 0, False, f"invalid starting values: {err}")
    for iteration in range(1, max_iter + 1):
        g, h = current.gradient, current.hessian
        w, v = np.linalg.eigh(h)
        floor = max(np.abs(w).max(), 1.0) * 1e-10
        step = -(v / np.maximum(np.abs(w), floor)) @ (v.T @ g)
        criterion = float(-(g @ step)) / max(abs(current.objective), 1.0)
        # like SAS, take at least one step before testing convergence
        if iteration > 1 and criterion < tol:
            if w.min() > w.max() * 1e-10:
                return _Optimum(theta, iteration - 1, True, "converged")
            return _Optimum(
                theta,
                iteration - 1,
                False,
                "Hessian not positive definite at the optimum "
                "(covariance parameters not identifiable or on the boundary)",
            )
        scale = 1.0
        for _ in range(60):
            trial = theta + scale * step
            if structure.is_valid(trial):
                try:
                    candidate = evaluate(stats, structure, trial, reml=reml, order=2)
                except NotPositiveDefinite:
                    candidate = None
                if candidate is not None and candidate.objective <= current.objective + 1e-9:
                    break
            scale /= 2
        else:
            return _Optimum(theta, iteration, False, "line search failed (no decrease)")
        theta, current = trial, candidate
    g, h = current.gradient, current.hessian
    w = np.linalg.eigvalsh(h)
    if w.min() > w.max() * 1e-10:
        criterion = float(g @ np.linalg.solve(h, g)) / max(abs(current.objective), 1.0)
        if criterion < tol:
            return _Optimum(theta, max_iter, True, "converged")
    return _Optimum(theta, max_iter, False, f"no convergence in {max_iter} iterations")


def log_cholesky_search(
    stats: PatternStats, structure: CovarianceStructure, start: np.ndarray, reml: bool = True
) -> np.ndarray:
    """Quasi-Newton (L-BFGS) search for an unstructured Sigma over its log-Cholesky factor.

    The rescue when Newton-Raphson in SAS's parameterisation fails: every point of the
    log-Cholesky space is a positive definite Sigma, so the search cannot leave the
    parameter space (as in the R package mmrm). The analytic gradient w.r.t. the UN
    elements is chained through ``dSigma = dL L' + L dL'``. Returns SAS's UN parameters
    at the end of the search.
    """
    from scipy.optimize import minimize

    t = structure.n_times
    rows, cols = np.tril_indices(t)
    sas_rows = np.array([i for i in range(t) for _ in range(i + 1)])
    sas_cols = np.array([j for i in range(t) for j in range(i + 1)])
    on_diag = rows == cols
    sigma0 = structure.sigma(start)
    try:
        chol0 = np.linalg.cholesky(sigma0)
    except np.linalg.LinAlgError:
        chol0 = np.diag(np.sqrt(np.abs(np.diag(sigma0))) + 1e-3)

    def unpack(phi):
        chol = np.zeros((t, t))
        chol[rows, cols] = np.where(on_diag, np.exp(phi), phi)
        return chol

    def to_theta(chol):
        return (chol @ chol.T)[sas_rows, sas_cols]

    def objective(phi):
        chol = unpack(phi)
        try:
            ev = evaluate(stats, structure, to_theta(chol), reml=reml, order=1)
        except NotPositiveDefinite:
            return np.inf, np.zeros_like(phi)
        # symmetric G with df = sum G_ab dSigma_ab: UN(i,j), i != j, moves two entries
        grad_sigma = np.zeros((t, t))
        grad_sigma[sas_rows, sas_cols] = ev.gradient
        grad_sigma = (grad_sigma + grad_sigma.T) / 2
        grad_chol = 2 * grad_sigma @ chol  # df/dL for Sigma = L L'
        return ev.objective, grad_chol[rows, cols] * np.where(on_diag, chol[rows, cols], 1.0)

    phi0 = np.where(on_diag, np.log(np.abs(chol0[rows, cols]) + 1e-12), chol0[rows, cols])
    found = minimize(objective, phi0, jac=True, method="L-BFGS-B", options={"maxiter": 2000})
    return to_theta(unpack(found.x))


def _start(stats: PatternStats, structure: CovarianceStructure, cov: np.ndarray) -> np.ndarray:
    """Starting values: MIVQUE0 for linear structures (as SAS), else projected from ``cov``."""
    if structure.linear:
        try:
            theta = mivque0(stats, structure)
        except np.linalg.LinAlgError:
            theta = None
        if theta is not None and structure.is_valid(theta):
            return theta
    return structure.start(cov)


def _start_covariance(stats: PatternStats) -> np.ndarray:
    """Unstructured MIVQUE0 covariance, or the pairwise OLS residual covariance if not PD."""
    structure = get_structure("unstructured", stats.n_times)
    try:
        theta = mivque0(stats, structure)
        if structure.is_valid(theta):
            return structure.sigma(theta)
    except np.linalg.LinAlgError:
        pass
    return _empirical_covariance(stats)


def _empirical_covariance(stats: PatternStats) -> np.ndarray:
    """Pairwise-available residual covariance of the OLS fit (starting values)."""
    t, p = stats.n_times, stats.n_params
    q = p + 1
    zz = np.zeros((q, q))
    for visits, cross in zip(stats.observed, stats.cross, strict=True):
        m = len(visits)
        diag = cross.reshape(m, m, q, q)[np.arange(m), np.arange(m)]
        zz += diag.sum(axis=0)
    beta = np.linalg.lstsq(zz[:p, :p], zz[:p, p], rcond=None)[0]
    u = np.append(-beta, 1.0)
    sums = np.zeros((t, t))
    counts = np.zeros((t, t))
    for visits, n, cross in zip(stats.observed, stats.counts, stats.cross, strict=True):
        m = len(visits)
        e = (cross @ np.outer(u, u).reshape(-1)).reshape(m, m)
        sums[np.ix_(visits, visits)] += e
        counts[np.ix_(visits, visits)] += n
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sums / counts
    var = np.nanmean(np.diag(cov)) if np.isfinite(np.diag(cov)).any() else 1.0
    cov = np.where(np.isfinite(cov), cov, 0.0)
    diag = np.diag(cov).copy()
    diag[diag <= 0] = var if var > 0 else 1.0
    np.fill_diagonal(cov, diag)
    return cov


def fit_mmrm(
    data: pd.DataFrame,
    formula: str,
    subject: str,
    time: str,
    covariance: str | Iterable[str] = "unstructured",
    reml: bool = True,
    ddf: str = "kenward-roger",
    reference: Mapping[str, object] | None = None,
    factors: Iterable[str] = (),
    time_levels: Sequence[object] | None = None,
    max_iter: int = 100,
    tol: float = 1e-8,
) -> MMRMResults:
    """Fit a mixed model for repeated measures (linear model with correlated residuals).

    Subjects contribute the visits they have (missing at random): rows whose response or
    any model variable is missing are dropped, the rest of the subject is kept.

    Estimation is Newton-Raphson with the analytic observed Hessian in SAS's
    parameterisation, from SAS's MIVQUE0 starting values, so that iterations and results
    follow PROC MIXED; for the unstructured type a failed Newton-Raphson is retried from a
    quasi-Newton search over the log-Cholesky factor (always positive definite). A
    structure that still fails (or whose Hessian is singular at the optimum) is recorded in
    ``results.attempts`` and the next structure of ``covariance`` is tried.

    Parameters
    ----------
    data : DataFrame
        Long data, one row per subject and visit.
    formula : str
        Fixed effects, e.g. ``"FEV1 ~ ARMCD * AVISIT + RACE + SEX"`` (see
        :mod:`trialflow.stats.mmrm.design`).
    subject : str
        Column identifying subjects.
    time : str
        Column identifying the visit; indexes the rows and columns of Sigma. In the
        formula it is always a factor (with ``time_levels`` as its level order).
    covariance : str or iterable of str
        A structure name (``unstructured``, ``compound_symmetry``, ``ar1``, ``toeplitz``,
        the ``heterogeneous_*`` variants, ``ante_dependence``; SAS short forms such as
        ``un``, ``csh``, ``arh1``, ``toeph`` work) or a fallback order tried until one
        converges. ``results.structure`` says which was used.
    reml : bool
        REML (default) or ML.
    ddf : {"kenward-roger", "kenward-roger-linear", "satterthwaite"}
        Degrees-of-freedom method; the Kenward-Roger methods also adjust the covariance of
        the fixed effects. Kenward-Roger needs REML.
    reference : mapping, optional
        Reference level per factor (default: first level).
    factors : iterable of str
        Numeric columns to treat as factors.
    time_levels : sequence, optional
        Visit order (default: categorical order, else sorted).
    max_iter, tol : int, float
        Newton-Raphson limits. ``tol`` bounds the relative Hessian criterion
        ``g' H^-1 g / |f|``; the default 1e-8 is SAS's ``CONVH``, and together with SAS's
        MIVQUE0 starting values it makes the iterations stop where SAS stops. Use a
        smaller value (e.g. 1e-12) for the exact optimum.

    Returns
    -------
    MMRMResults

    Raises
    ------
    ConvergenceError
        When no structure in the fallback order converges.
    """
    ddf = ddf.lower()
    if ddf not in DDF_METHODS:
        raise ValueError(f"ddf must be one of {DDF_METHODS}, got {ddf!r}")
    if ddf.startswith("kenward") and not reml:
        raise ValueError("Kenward-Roger needs REML estimation")
    structures = [covariance] if isinstance(covariance, str) else list(covariance)
    if not structures:
        raise ValueError("no covariance structure given")

    levels = {}
    if time_levels is not None:
        levels[time] = list(time_levels)
    elif isinstance(data[time].dtype, pd.CategoricalDtype):
        levels[time] = list(data[time].cat.categories)
    else:
        levels[time] = sorted(data[time].dropna().unique())
    design = Design.from_formula(
        formula,
        data,
        reference=reference,
        factors=set(factors) | {time},
        levels={k: v for k, v in levels.items() if k in _formula_names(formula)},
    )
    time_values = [str(v) for v in levels[time]]
    keep = design.complete_rows(data) & data[[subject, time]].notna().all(axis=1).to_numpy()
    used = data if keep.all() else data.loc[keep]
    time_code = level_codes(used[time], time_values)
    if np.any(time_code < 0):
        raise ValueError(f"{time} has values outside time_levels")
    subject_code, _ = pd.factorize(used[subject])
    order, keys, n_subjects = pattern_order(subject_code, time_code, len(time_values))
    z = design.matrix(used, rows=order, response=True)  # [X | y], rows in pattern order
    stats = sorted_pattern_statistics(z, keys, len(time_values), n_subjects)
    del z
    n_subjects_input = int(data[subject].nunique())
    if stats.n_obs <= stats.n_params:
        raise ValueError("fewer observations than fixed-effect parameters")

    start_cov = _start_covariance(stats)
    attempts = []
    for name in structures:
        structure = get_structure(name, len(time_values))
        start = _start(stats, structure, start_cov)
        try:
            opt = optimise(stats, structure, start, reml, max_iter, tol)
            if not opt.converged and structure.name == "unstructured" and max_iter > 0:
                # rescue: a search that cannot leave the positive definite cone, then Newton
                found = log_cholesky_search(stats, structure, start, reml)
                rescue = optimise(stats, structure, found, reml, max_iter, tol)
                if rescue.converged:
                    rescue.message = "converged after a log-Cholesky L-BFGS search"
                    opt = rescue
        except (np.linalg.LinAlgError, NotPositiveDefinite, FloatingPointError) as err:
            attempts.append(FitAttempt(structure.name, False, f"numerical failure: {err}"))
            continue
        if not opt.converged:
            attempts.append(FitAttempt(structure.name, False, opt.message, opt.iterations))
            continue
        final = evaluate(stats, structure, opt.theta, reml=reml, order=2)
        attempts.append(
            FitAttempt(structure.name, True, opt.message, opt.iterations, final.objective)
        )
        return MMRMResults(
            design=design,
            structure=structure,
            theta=opt.theta,
            evaluation=final,
            stats=stats,
            reml=reml,
            ddf=ddf,
            attempts=tuple(attempts),
            time=time,
            time_levels=tuple(time_values),
            subject=subject,
            data=used,
            n_subjects_input=n_subjects_input,
        )
    raise ConvergenceError(attempts)


def _formula_names(formula: str) -> set[str]:
    rhs = formula.split("~", 1)[-1]
    for sep in "+*:":
        rhs = rhs.replace(sep, " ")
    return set(rhs.split())
