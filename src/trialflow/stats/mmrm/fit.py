"""Fitting an MMRM: options, data preparation, Newton-Raphson on the (restricted)
likelihood, and the fallback over covariance structures."""

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

__all__ = [
    "DDF_METHODS",
    "SAS_CONVH",
    "ConvergenceError",
    "FitAttempt",
    "MMRMControl",
    "MMRMData",
    "fit_mmrm",
    "fit_prepared",
    "optimise",
    "prepare_mmrm",
]

DDF_METHODS = ("kenward-roger", "kenward-roger-linear", "satterthwaite")

#: SAS PROC MIXED's default convergence criterion (``CONVH``): the relative Hessian criterion
#: ``g' H^-1 g / |f|`` below which Newton-Raphson stops. With SAS's MIVQUE0 starting values it
#: makes the iterations stop where SAS stops; R's optimisers go further (use 1e-12 for that).
SAS_CONVH = 1e-8
#: Eigenvalues of the Hessian below this fraction of the largest count as zero: the step
#: uses their modulus floored here, and a Hessian with one at the optimum is not definite.
EIGEN_RELATIVE_FLOOR = 1e-10
#: A Newton step is accepted if the objective does not rise by more than this (rounding).
DESCENT_SLACK = 1e-9
#: Step halvings before the line search gives up (2^-60 is below double precision).
MAX_STEP_HALVINGS = 60
#: Iteration limit of the log-Cholesky L-BFGS rescue search.
RESCUE_MAX_ITER = 2000
#: Rescue start when the starting Sigma has no Cholesky factor: its standard deviations
#: plus this, on the diagonal (any positive definite start will do for L-BFGS).
RESCUE_DIAGONAL_JITTER = 1e-3
#: Added before the log of a Cholesky diagonal so that a zero gives a finite start.
LOG_GUARD = 1e-12


@dataclass(frozen=True)
class MMRMControl:
    """Options of an MMRM fit, in one object (as R mmrm's ``mmrm_control()``).

    Parameters
    ----------
    covariance : str or tuple of str
        A structure name (``unstructured``, ``compound_symmetry``, ``ar1``, ``toeplitz``, the
        ``heterogeneous_*`` variants, ``ante_dependence``; SAS short forms such as ``un``,
        ``csh``, ``arh1``, ``toeph`` work) or a fallback order tried until one converges.
    reml : bool
        REML (default) or ML.
    ddf : {"kenward-roger", "kenward-roger-linear", "satterthwaite"}
        Degrees-of-freedom method; the Kenward-Roger methods also adjust the covariance of
        the fixed effects. Kenward-Roger needs REML.
    tolerance : float
        Newton-Raphson stops when the relative Hessian criterion ``g' H^-1 g / |f|`` falls
        below it; the default is SAS's ``CONVH`` (:data:`SAS_CONVH`). Use a smaller value
        (e.g. 1e-12) for the exact optimum.
    max_iter : int
        Newton-Raphson iteration limit per structure.

    Raises
    ------
    ValueError
        For an unknown ``ddf`` or structure, Kenward-Roger with ML, no structure, or a
        non-positive tolerance.
    """

    covariance: str | tuple[str, ...] = ("unstructured",)
    reml: bool = True
    ddf: str = "kenward-roger"
    tolerance: float = SAS_CONVH
    max_iter: int = 100

    def __post_init__(self) -> None:
        covariance = self.covariance
        names = (covariance,) if isinstance(covariance, str) else tuple(covariance)
        object.__setattr__(self, "covariance", names)
        object.__setattr__(self, "ddf", self.ddf.lower())
        if self.ddf not in DDF_METHODS:
            raise ValueError(f"ddf must be one of {DDF_METHODS}, got {self.ddf!r}")
        if self.ddf.startswith("kenward") and not self.reml:
            raise ValueError("Kenward-Roger needs REML estimation")
        if not names:
            raise ValueError("no covariance structure given")
        for name in names:
            get_structure(name, 1)  # raises for an unknown name
        if not self.tolerance > 0:
            raise ValueError(f"tolerance must be positive, got {self.tolerance!r}")


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
    tol: float = SAS_CONVH,
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
        floor = max(np.abs(w).max(), 1.0) * EIGEN_RELATIVE_FLOOR
        step = -(v / np.maximum(np.abs(w), floor)) @ (v.T @ g)
        criterion = float(-(g @ step)) / max(abs(current.objective), 1.0)
        # like SAS, take at least one step before testing convergence
        if iteration > 1 and criterion < tol:
            if w.min() > w.max() * EIGEN_RELATIVE_FLOOR:
                return _Optimum(theta, iteration - 1, True, "converged")
            return _Optimum(
                theta,
                iteration - 1,
                False,
                "Hessian not positive definite at the optimum "
                "(covariance parameters not identifiable or on the boundary)",
            )
        scale = 1.0
        for _ in range(MAX_STEP_HALVINGS):
            trial = theta + scale * step
            if structure.is_valid(trial):
                try:
                    candidate = evaluate(stats, structure, trial, reml=reml, order=2)
                except NotPositiveDefinite:
                    candidate = None
                if (
                    candidate is not None
                    and candidate.objective <= current.objective + DESCENT_SLACK
                ):
                    break
            scale /= 2
        else:
            return _Optimum(theta, iteration, False, "line search failed (no decrease)")
        theta, current = trial, candidate
    g, h = current.gradient, current.hessian
    w = np.linalg.eigvalsh(h)
    if w.min() > w.max() * EIGEN_RELATIVE_FLOOR:
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
        chol0 = np.diag(np.sqrt(np.abs(np.diag(sigma0))) + RESCUE_DIAGONAL_JITTER)

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

    phi0 = np.where(on_diag, np.log(np.abs(chol0[rows, cols]) + LOG_GUARD), chol0[rows, cols])
    found = minimize(
        objective, phi0, jac=True, method="L-BFGS-B", options={"maxiter": RESCUE_MAX_ITER}
    )
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


@dataclass(frozen=True)
class MMRMData:
    """An MMRM's data ready for fitting: the design, the rows used and their pattern statistics.

    Made by :func:`prepare_mmrm`; :func:`fit_prepared` fits it. Callers that must know
    whether a model can be fitted at all (observations against parameters, say) look here
    before fitting.

    Attributes
    ----------
    design : Design
        The fixed-effects design (levels, reference levels, columns).
    stats : PatternStats
        Sufficient statistics per missingness pattern (``n_obs``, ``n_subjects``,
        ``n_params``).
    data : DataFrame
        The rows analysed (complete in every model variable).
    subject, time : str
        Subject and visit columns.
    time_levels : tuple of str
        Visit order, the rows and columns of Sigma.
    n_subjects_input : int
        Subjects read, also those without an analysed visit (SAS's count, used by BIC).
    """

    design: Design
    stats: PatternStats
    data: pd.DataFrame
    subject: str
    time: str
    time_levels: tuple[str, ...]
    n_subjects_input: int


def prepare_mmrm(
    data: pd.DataFrame,
    formula: str,
    *,
    subject: str,
    time: str,
    reference: Mapping[str, object] | None = None,
    factors: Iterable[str] = (),
    time_levels: Sequence[object] | None = None,
) -> MMRMData:
    """Build the design and the per-pattern statistics of an MMRM (no fitting).

    Rows whose response or any model variable is missing are dropped; the rest of the
    subject is kept (missing at random).

    Parameters
    ----------
    data, formula, subject, time, reference, factors, time_levels
        As for :func:`fit_mmrm`.

    Returns
    -------
    MMRMData

    Raises
    ------
    KeyError
        When a model variable is not a column of ``data``.
    ValueError
        For a reference level that is not in the data, visits outside ``time_levels`` or a
        subject with two rows at one visit.
    """
    if time_levels is not None:
        levels = list(time_levels)
    elif isinstance(data[time].dtype, pd.CategoricalDtype):
        levels = list(data[time].cat.categories)
    else:
        levels = sorted(data[time].dropna().unique())
    design = Design.from_formula(
        formula,
        data,
        reference=reference,
        factors=set(factors) | {time},
        levels={time: levels} if time in _formula_names(formula) else {},
    )
    time_values = tuple(str(v) for v in levels)
    keep = design.complete_rows(data) & data[[subject, time]].notna().all(axis=1).to_numpy()
    used = data if keep.all() else data.loc[keep]
    time_code = level_codes(used[time], time_values)
    if np.any(time_code < 0):
        raise ValueError(f"{time} has values outside time_levels")
    subject_code, _ = pd.factorize(used[subject])
    order, keys, n_subjects = pattern_order(subject_code, time_code, len(time_values))
    z = design.matrix(used, rows=order, response=True)  # [X | y], rows in pattern order
    stats = sorted_pattern_statistics(z, keys, len(time_values), n_subjects)
    return MMRMData(
        design=design,
        stats=stats,
        data=used,
        subject=subject,
        time=time,
        time_levels=time_values,
        n_subjects_input=int(data[subject].nunique()),
    )


def fit_prepared(prepared: MMRMData, control: MMRMControl = MMRMControl()) -> MMRMResults:
    """Fit prepared data with each structure of ``control.covariance`` until one converges.

    Parameters
    ----------
    prepared : MMRMData
        From :func:`prepare_mmrm`.
    control : MMRMControl

    Returns
    -------
    MMRMResults

    Raises
    ------
    ValueError
        When there are no more observations than fixed-effect parameters.
    ConvergenceError
        When no structure converges; its ``attempts`` say why each failed.
    """
    stats = prepared.stats
    if stats.n_obs <= stats.n_params:
        raise ValueError("fewer observations than fixed-effect parameters")
    start_cov = _start_covariance(stats)
    attempts = []
    for name in control.covariance:
        structure = get_structure(name, stats.n_times)
        attempt, theta = _fit_structure(stats, structure, start_cov, control)
        attempts.append(attempt)
        if not attempt.converged:
            continue
        return MMRMResults(
            design=prepared.design,
            structure=structure,
            theta=theta,
            evaluation=evaluate(stats, structure, theta, reml=control.reml, order=2),
            stats=stats,
            reml=control.reml,
            ddf=control.ddf,
            attempts=tuple(attempts),
            time=prepared.time,
            time_levels=prepared.time_levels,
            subject=prepared.subject,
            data=prepared.data,
            n_subjects_input=prepared.n_subjects_input,
        )
    raise ConvergenceError(attempts)


def _fit_structure(
    stats: PatternStats,
    structure: CovarianceStructure,
    start_cov: np.ndarray,
    control: MMRMControl,
) -> tuple[FitAttempt, np.ndarray]:
    """One structure: Newton-Raphson, and for UN the log-Cholesky rescue if that fails."""
    start = _start(stats, structure, start_cov)
    newton = {"reml": control.reml, "max_iter": control.max_iter, "tol": control.tolerance}
    try:
        opt = optimise(stats, structure, start, **newton)
        if not opt.converged and structure.name == "unstructured" and control.max_iter > 0:
            # rescue: a search that cannot leave the positive definite cone, then Newton
            found = log_cholesky_search(stats, structure, start, control.reml)
            rescue = optimise(stats, structure, found, **newton)
            if rescue.converged:
                rescue.message = "converged after a log-Cholesky L-BFGS search"
                opt = rescue
    except (np.linalg.LinAlgError, NotPositiveDefinite, FloatingPointError) as err:
        return FitAttempt(structure.name, False, f"numerical failure: {err}"), start
    if not opt.converged:
        return FitAttempt(structure.name, False, opt.message, opt.iterations), opt.theta
    final = evaluate(stats, structure, opt.theta, reml=control.reml, order=2)
    attempt = FitAttempt(structure.name, True, opt.message, opt.iterations, final.objective)
    return attempt, opt.theta


def fit_mmrm(
    data: pd.DataFrame,
    formula: str,
    *,
    subject: str,
    time: str,
    control: MMRMControl = MMRMControl(),
    reference: Mapping[str, object] | None = None,
    factors: Iterable[str] = (),
    time_levels: Sequence[object] | None = None,
) -> MMRMResults:
    """Fit a mixed model for repeated measures (linear model with correlated residuals).

    Subjects contribute the visits they have (missing at random): rows whose response or
    any model variable is missing are dropped, the rest of the subject is kept.

    Estimation is Newton-Raphson with the analytic observed Hessian in SAS's
    parameterisation, from SAS's MIVQUE0 starting values, so that iterations and results
    follow PROC MIXED; for the unstructured type a failed Newton-Raphson is retried from a
    quasi-Newton search over the log-Cholesky factor (always positive definite). A
    structure that still fails (or whose Hessian is singular at the optimum) is recorded in
    ``results.attempts`` and the next structure of ``control.covariance`` is tried.

    This is :func:`prepare_mmrm` followed by :func:`fit_prepared`.

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
    control : MMRMControl
        Covariance structures in order of preference, REML or ML, degrees-of-freedom
        method and the Newton-Raphson limits.
    reference : mapping, optional
        Reference level per factor (default: first level).
    factors : iterable of str
        Numeric columns to treat as factors.
    time_levels : sequence, optional
        Visit order (default: categorical order, else sorted).

    Returns
    -------
    MMRMResults

    Raises
    ------
    ConvergenceError
        When no structure in the fallback order converges.

    Examples
    --------
    >>> from trialflow.stats.mmrm import MMRMControl, fit_mmrm
    >>> control = MMRMControl(covariance=("unstructured", "ar1"), ddf="satterthwaite")
    >>> fit = fit_mmrm(fev, "FEV1 ~ ARMCD * AVISIT", subject="USUBJID", time="AVISIT",
    ...                control=control, reference={"ARMCD": "PBO"})  # doctest: +SKIP
    >>> fit.lsmean_diffs("ARMCD", by="AVISIT")  # doctest: +SKIP
    """
    prepared = prepare_mmrm(
        data,
        formula,
        subject=subject,
        time=time,
        reference=reference,
        factors=factors,
        time_levels=time_levels,
    )
    return fit_prepared(prepared, control)


def _formula_names(formula: str) -> set[str]:
    rhs = formula.split("~", 1)[-1]
    for sep in "+*:":
        rhs = rhs.replace(sep, " ")
    return set(rhs.split())
