"""Conditional mean imputation with jackknife inference (Wolbers et al. 2022).

The missing values are imputed by their conditional expectation given the observed ones,
under the strategy's joint distribution and the REML estimates of the imputation model;
the completed data are analysed by the ANCOVA at each visit. Deterministic: no draws.

Jackknife: for each participant j, delete j, refit the imputation model, re-impute and
re-analyse, giving ``theta_(-j)``; ``SE = sqrt((n - 1) / n sum_j (theta_(-j) - mean)^2)``,
Wald CI and p-value from the normal distribution (as rbmi's ``method_condmean(type =
"jackknife")``). Nothing is redone from scratch: a deletion downdates one cell's
cross-products, the refit is a few Newton steps from the full-data optimum
(:func:`.reml.newton_batch`, vectorised over deletions) and the re-analysis works on the
per-class cross-products (:func:`.classes.completed_estimates`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..ancova import ols_fit
from .classes import class_maps, completed_estimates, completed_values
from .model import fit_replicates
from .results import ImputationResult, JackknifeInference
from .setup import Setup, prepare

__all__ = ["conditional_mean", "jackknife_replicates"]


def conditional_mean(
    data: pd.DataFrame,
    visits: Sequence[str],
    arms: Sequence[str],
    strategy: str = "mar",
    ice: pd.DataFrame | None = None,
    reference_arm: str | None = None,
    covariates: Sequence[str] = (),
    covariance: str = "shared",
    post_ice: str = "impute",
    alpha: float = 0.05,
    delta: float = 0.0,
    delta_arm: str | None = None,
    tol: float = 1e-12,
    chunk_size: int = 512,
) -> ImputationResult:
    """Conditional mean imputation + ANCOVA by visit, jackknife standard errors.

    Parameters
    ----------
    data : DataFrame
        Long: ``participant_id, arm, visit, value, baseline`` and the covariate columns
        (see :func:`.data.prepare_data`).
    visits, arms : sequence of str
        Post-baseline visits in order; arms in order (contrasts are ``<arm> - <arms[0]>``).
    strategy : {"mar", "j2r", "cr", "cir", "lmcf"}
        For ICEs derived from monotone dropout (``ice`` None) or ICE rows without a
        ``strategy`` column.
    ice : DataFrame, optional
        ``participant_id, ice_visit[, strategy]`` (:func:`.data.resolve_strategies` builds
        the strategy column from ICE types).
    reference_arm : str, optional
        The arm reference-based strategies borrow from (default: the first arm).
    covariates : sequence of str
        Adjust both the imputation model (interacting with visit) and the ANCOVA.
    covariance : {"shared", "by_arm"}
    post_ice : {"impute", "keep"}
    alpha : float
    delta, delta_arm : float, str
        Added to every imputed post-ICE value of ``delta_arm`` (tipping point).
    tol : float
        Newton-Raphson tolerance of every REML fit (relative Hessian criterion).
    chunk_size : int
        Deletions processed together (bounds memory, not results).

    Returns
    -------
    ImputationResult
        ``table``: estimate (difference of ANCOVA-adjusted means), jackknife SE, z
        statistic, p-value and CI per visit and contrast.
    """
    setup = prepare(
        data,
        visits,
        arms,
        strategy,
        ice,
        reference_arm,
        covariates,
        covariance,
        post_ice,
        tol=tol,
    )
    arm_index = setup.delta_arm(delta_arm)
    d = setup.data
    estimate, slope, completed = _point_estimate(setup, arm_index)
    replicates, replicate_slopes = jackknife_replicates(setup, arm_index, chunk_size)
    inference = JackknifeInference(estimate, slope, replicates, replicate_slopes)
    return ImputationResult(
        method="conditional_mean",
        setup=setup,
        inference=inference,
        alpha=alpha,
        delta=float(delta),
        delta_arm=None if delta_arm is None else str(delta_arm),
        completed=_long_completed(d, completed),
        notes=d.notes,
    )


def _point_estimate(setup: Setup, arm_index: int | None):
    """The ANCOVA of the completed data set (the complete-case code path), its delta slope
    and the completed values (N, T)."""
    d = setup.data
    model = setup.model
    maps = class_maps(
        setup.classes, d, model.coef[None], model.sigmas[None], setup.covariance_group
    )
    completed = completed_values(setup.classes, d, maps)
    fit = ols_fit(d.x, completed)
    columns = [d.arm_column(a) for a in range(1, len(d.arms))]
    _, slope = completed_estimates(setup.classes, d, maps, None, arm_index)
    return fit["coef"][columns, :], slope[0], completed


def jackknife_replicates(
    setup: Setup, delta_arm: int | None = None, chunk_size: int = 512
) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-participant-out estimates and delta slopes, (N, A - 1, T) each."""
    d, cells = setup.data, setup.cells
    estimates, slopes = [], []
    for start in range(0, d.n, chunk_size):
        deleted = np.arange(start, min(start + chunk_size, d.n))
        batch = cells.jackknife(deleted)
        active = cells.cell_of[deleted] >= 0  # others leave the likelihood unchanged
        coef, sigmas = fit_replicates(
            cells, batch, setup.model, setup.reml, setup.tol, active=active
        )
        maps = class_maps(setup.classes, d, coef, sigmas, setup.covariance_group)
        est, slope = completed_estimates(setup.classes, d, maps, deleted, delta_arm)
        estimates.append(est)
        slopes.append(slope)
    return np.concatenate(estimates), np.concatenate(slopes)


def _long_completed(d, completed: np.ndarray) -> pd.DataFrame:
    n, t = completed.shape
    return pd.DataFrame(
        {
            "participant_id": np.repeat(d.participant_ids, t),
            "arm": np.repeat(np.array(d.arms, dtype=object)[d.arm], t),
            "visit": np.tile(np.array(d.visits, dtype=object), n),
            "value": completed.reshape(-1),
            "imputed": (~d.kept).reshape(-1),
        }
    )
