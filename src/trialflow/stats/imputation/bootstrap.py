"""Multiple imputation with bootstrapped REML fits (rbmi's "approximate Bayesian" method).

For m = 1..M: a bootstrap sample of the participants, stratified by arm, gives one REML
fit of the imputation model (an approximate draw from the parameters' posterior; von
Hippel and Bartlett 2021, rbmi's ``method_approxbayes``); with it each missing block of the
*original* data is drawn from its conditional normal distribution under the strategy; the
completed data are analysed by the ANCOVA at each visit; Rubin's rules with Barnard and
Rubin's df (complete-data df = the ANCOVA's residual df) pool the M analyses.

Reproducibility: imputation m uses its own generator, ``np.random.default_rng`` of the m-th
child of ``np.random.SeedSequence(seed)``: first the bootstrap draws (per arm, in arm
order, ``integers``), then the standard normals of the missing values (``(N, T)``, row i
used for participant i's missing visits in visit order). A sample whose design is not of
full rank at some visit is redrawn from the same stream. Results are byte-identical for a
fixed seed, whatever ``chunk_size``.

Rubin's variance is conservative ("information anchored") under reference-based
strategies: it does not shrink as the reference arm lends information, unlike the
frequentist variance the jackknife of conditional mean imputation estimates.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..ancova import ols_fit
from .classes import class_maps
from .model import fit_replicates
from .results import ImputationResult, RubinInference
from .setup import Setup, prepare

__all__ = ["bootstrap_mi", "bootstrap_weights"]

MAX_REDRAWS = 100


def bootstrap_mi(
    data: pd.DataFrame,
    visits: Sequence[str],
    arms: Sequence[str],
    n_imputations: int,
    seed: int,
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
    chunk_size: int = 64,
) -> ImputationResult:
    """Bootstrapped-REML multiple imputation + ANCOVA by visit, pooled by Rubin's rules.

    Parameters are those of :func:`.conditional_mean.conditional_mean`, plus
    ``n_imputations`` (M >= 2) and ``seed`` (a non-negative integer).

    Returns
    -------
    ImputationResult
        ``table``: pooled estimate, SE, Barnard-Rubin df, t statistic, p-value, CI and the
        Monte Carlo SE of the estimate (``sqrt(B / M)``) per visit and contrast.
    """
    if n_imputations < 2:
        raise ValueError("bootstrap_mi needs at least two imputations")
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
    children = np.random.SeedSequence(seed).spawn(n_imputations)
    columns = [d.arm_column(a) for a in range(1, len(d.arms))]
    mark = d.imputed_post_ice() & (d.arm == arm_index)[:, None]
    pieces_e = ols_fit(d.x, mark.astype(float))
    resid_e = mark - d.x @ pieces_e["coef"]
    estimates, rss, cross = [], [], []
    for start in range(0, n_imputations, chunk_size):
        gens = [np.random.default_rng(c) for c in children[start : start + chunk_size]]
        completed = _impute_chunk(setup, gens)  # (R, N, T)
        fit = ols_fit(d.x, completed)  # the ANCOVA of each completed data set
        estimates.append(fit["coef"][:, columns, :])
        rss.append(fit["rss"])
        resid = completed - np.matmul(d.x, fit["coef"])
        cross.append(np.einsum("rit,it->rt", resid, mark))
    inference = RubinInference(
        estimate=np.concatenate(estimates),
        slope=pieces_e["coef"][columns],
        rss=np.concatenate(rss),
        cross=np.concatenate(cross),
        ee=np.einsum("it,it->t", resid_e, resid_e),
        df=pieces_e["df"],
        xtx=np.diag(pieces_e["xtx_inv"])[columns],
    )
    return ImputationResult(
        method="bootstrap_mi",
        setup=setup,
        inference=inference,
        alpha=alpha,
        delta=float(delta),
        delta_arm=None if delta_arm is None else str(delta_arm),
        n_imputations=int(n_imputations),
        seed=int(seed),
        notes=d.notes,
    )


def bootstrap_weights(setup: Setup, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap counts (N,) of one sample stratified by arm; redrawn (same stream) until
    the imputation model's design is of full rank at every visit."""
    d = setup.data
    members = [np.flatnonzero(d.arm == a) for a in range(len(d.arms))]
    outer = (d.x[:, :, None] * d.x[:, None, :]).reshape(d.n, -1)
    for _ in range(MAX_REDRAWS):
        counts = np.zeros(d.n)
        for idx in members:
            counts[idx] = np.bincount(rng.integers(0, len(idx), len(idx)), minlength=len(idx))
        gram = ((counts[:, None] * d.fit_observed).T @ outer).reshape(d.n_times, d.n_x, d.n_x)
        low = np.linalg.eigvalsh(gram)
        if np.all(low[:, 0] > low[:, -1] * 1e-10):
            return counts
    raise ValueError(f"no bootstrap sample with a full-rank design in {MAX_REDRAWS} draws")


def _impute_chunk(setup: Setup, gens: list[np.random.Generator]) -> np.ndarray:
    """Completed data (R, N, T) of the imputations with generators ``gens``."""
    d = setup.data
    weights = np.stack([bootstrap_weights(setup, g) for g in gens])
    normals = np.stack([g.standard_normal((d.n, d.n_times)) for g in gens])
    batch = setup.cells.weighted(weights)
    coef, sigmas = fit_replicates(
        setup.cells, batch, setup.model, setup.reml, setup.tol, newton_first=True
    )
    classes = setup.classes
    maps = class_maps(classes, d, coef, sigmas, setup.covariance_group, with_draws=True)
    out = np.empty((len(gens), d.n, d.n_times))
    for h, idx in enumerate(classes.members):
        y = d.y[idx][:, classes.kept[h]]
        values = np.einsum("rtm,im->rit", maps.a[h], y)
        values += np.einsum("rtp,ip->rit", maps.d[h], d.x[idx])
        missing = classes.missing[h]
        if len(missing):
            noise = normals[:, idx, : len(missing)]
            values[:, :, missing] += np.einsum("rab,rib->ria", maps.chol[h], noise)
        out[:, idx] = values
    return out
