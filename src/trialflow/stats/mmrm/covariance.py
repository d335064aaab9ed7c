"""Covariance structures of the within-subject residuals, in SAS PROC MIXED's parameterisation.

Every structure maps a parameter vector ``theta`` to the visit-indexed covariance matrix
``Sigma(theta)`` (t x t) and gives its first and second derivatives analytically. The
parameters are SAS's (``UN(i,j)``, ``CS`` + ``Residual``, ``AR(1)`` + ``Residual``,
``Var(i)`` + correlations for the heterogeneous types) because the full Kenward-Roger
adjustment depends on the parameterisation through the second derivatives: matching SAS's
numbers needs SAS's parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["STRUCTURES", "CovarianceStructure", "get_structure"]


@dataclass(frozen=True)
class CovarianceStructure:
    """A covariance structure over ``t`` ordered visits.

    Parameters
    ----------
    name : str
        Canonical name, one of :data:`STRUCTURES`.
    n_times : int
        Number of visits ``t``.
    """

    name: str
    n_times: int

    # ------------------------------------------------------------------ description
    @property
    def label(self) -> str:
        """Human-readable name with the SAS ``TYPE=`` in brackets."""
        return _LABELS[self.name]

    @property
    def linear(self) -> bool:
        """True when Sigma is linear in theta (second derivatives vanish)."""
        return self.name in ("unstructured", "compound_symmetry", "toeplitz")

    @property
    def n_params(self) -> int:
        """Number of covariance parameters."""
        t = self.n_times
        return {
            "unstructured": t * (t + 1) // 2,
            "compound_symmetry": 2,
            "heterogeneous_compound_symmetry": t + 1,
            "ar1": 2,
            "heterogeneous_ar1": t + 1,
            "toeplitz": t,
            "heterogeneous_toeplitz": 2 * t - 1,
            "ante_dependence": 2 * t - 1,
        }[self.name]

    def param_names(self) -> list[str]:
        """SAS's names for the parameters, in the order of ``theta``."""
        t = self.n_times
        var = [f"Var({i + 1})" for i in range(t)]
        if self.name == "unstructured":
            return [f"UN({i + 1},{j + 1})" for i in range(t) for j in range(i + 1)]
        if self.name == "compound_symmetry":
            return ["CS", "Residual"]
        if self.name == "heterogeneous_compound_symmetry":
            return [*var, "CSH"]
        if self.name == "ar1":
            return ["AR(1)", "Residual"]
        if self.name == "heterogeneous_ar1":
            return [*var, "ARH(1)"]
        if self.name == "toeplitz":
            return [f"TOEP({lag + 1})" for lag in range(1, t)] + ["Residual"]
        if self.name == "heterogeneous_toeplitz":
            return [*var, *(f"TOEPH({lag})" for lag in range(1, t))]
        return [*var, *(f"Rho({k + 1})" for k in range(t - 1))]  # ante_dependence

    # ------------------------------------------------------------------ Sigma and derivatives
    def sigma(self, theta: np.ndarray) -> np.ndarray:
        """The t x t covariance matrix at ``theta``."""
        return self.derivatives(theta, order=0)[0]

    def derivatives(
        self, theta: np.ndarray, order: int = 2
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Sigma, dSigma/dtheta (k, t, t) and d2Sigma/dtheta2 (k, k, t, t).

        Parameters
        ----------
        theta : ndarray
            Parameters in SAS's parameterisation.
        order : int
            Highest derivative wanted (0, 1 or 2); higher ones are returned as None.
            The second derivative is None for linear structures too.
        """
        theta = np.asarray(theta, dtype=float)
        t = self.n_times
        lag = np.abs(np.subtract.outer(np.arange(t), np.arange(t)))
        if self.name == "unstructured":
            return self._unstructured(theta, order)
        if self.name == "compound_symmetry":
            cs, resid = theta
            sigma = np.full((t, t), cs) + resid * np.eye(t)
            d1 = np.stack([np.ones((t, t)), np.eye(t)]) if order >= 1 else None
            return sigma, d1, None
        if self.name == "toeplitz":
            # theta = (TOEP(2), ..., TOEP(t), Residual): Sigma_ij = theta at lag |i-j|
            by_lag = np.concatenate([[theta[-1]], theta[:-1]])
            sigma = by_lag[lag]
            d1 = None
            if order >= 1:
                lags = np.concatenate([np.arange(1, t), [0]])
                d1 = (lag[None, :, :] == lags[:, None, None]).astype(float)
            return sigma, d1, None
        if self.name == "ar1":
            rho, s2 = theta
            corr, dcorr, d2corr = _ar1_corr(rho, lag)
            sigma = s2 * corr
            if order == 0:
                return sigma, None, None
            d1 = np.stack([s2 * dcorr, corr])
            d2 = None
            if order >= 2:
                d2 = np.zeros((2, 2, t, t))
                d2[0, 0] = s2 * d2corr
                d2[0, 1] = d2[1, 0] = dcorr
            return sigma, d1, d2
        # heterogeneous structures: Sigma = D C(rho) D with D = diag(sqrt(Var(i)))
        var, rho = theta[:t], theta[t:]
        corr, dcorr, d2corr = self._correlation(rho, lag)
        return _heterogeneous(var, corr, dcorr, d2corr, order)

    def _unstructured(self, theta, order):
        t = self.n_times
        rows, cols = _lower_indices(t)
        sigma = np.zeros((t, t))
        sigma[rows, cols] = theta
        sigma[cols, rows] = theta
        d1 = None
        if order >= 1:
            d1 = np.zeros((len(theta), t, t))
            k = np.arange(len(theta))
            d1[k, rows, cols] = 1.0
            d1[k, cols, rows] = 1.0
        return sigma, d1, None

    def _correlation(self, rho, lag):
        """Correlation matrix C, dC/drho (r, t, t), d2C/drho2 (r, r, t, t) or None."""
        t = self.n_times
        off = lag > 0
        if self.name == "heterogeneous_compound_symmetry":
            corr = np.where(off, rho[0], 1.0)
            return corr, off[None].astype(float), None
        if self.name == "heterogeneous_ar1":
            corr, dcorr, d2corr = _ar1_corr(rho[0], lag)
            return corr, dcorr[None], d2corr[None, None]
        if self.name == "heterogeneous_toeplitz":
            by_lag = np.concatenate([[1.0], rho])
            dcorr = (lag[None] == np.arange(1, t)[:, None, None]).astype(float)
            return by_lag[lag], dcorr, None
        # ante_dependence: C_ij = prod of rho_k for k between min(i,j) and max(i,j) - 1
        r = len(rho)
        i, j = np.meshgrid(np.arange(t), np.arange(t), indexing="ij")
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        inside = (np.arange(r)[:, None, None] >= lo) & (np.arange(r)[:, None, None] < hi)
        factors = np.where(inside, rho[:, None, None], 1.0)  # (r, t, t)
        corr = factors.prod(axis=0)
        dcorr = np.zeros((r, t, t))
        d2corr = np.zeros((r, r, t, t))
        for a in range(r):
            # product of the other factors, computed directly so rho = 0 is safe
            others = np.delete(factors, a, axis=0).prod(axis=0)
            dcorr[a] = np.where(inside[a], others, 0.0)
            for b in range(r):
                if b != a:
                    rest = np.delete(factors, [a, b], axis=0).prod(axis=0)
                    d2corr[a, b] = np.where(inside[a] & inside[b], rest, 0.0)
        return corr, dcorr, d2corr

    # ------------------------------------------------------------------ starting values
    def start(self, empirical: np.ndarray) -> np.ndarray:
        """Starting values projected from an empirical covariance matrix."""
        t = self.n_times
        s = _make_pd(empirical)
        var = np.diag(s).copy()
        sd = np.sqrt(var)
        corr = s / np.outer(sd, sd)
        lag = np.abs(np.subtract.outer(np.arange(t), np.arange(t)))
        mean_corr_lag = np.array([corr[lag == k].mean() for k in range(1, t)]) if t > 1 else []
        mean_off = corr[lag > 0].mean() if t > 1 else 0.0
        lag1 = float(np.clip(mean_corr_lag[0], -0.9, 0.95)) if t > 1 else 0.0
        off = float(np.clip(mean_off, -0.9 / max(t - 1, 1), 0.95))
        for shrink in (1.0, 0.5, 0.25, 0.0):
            if self.name == "unstructured":
                rows, cols = _lower_indices(t)
                theta = (np.outer(sd, sd) * np.where(lag > 0, corr * shrink, 1.0))[rows, cols]
            elif self.name == "compound_symmetry":
                v = var.mean()
                theta = np.array([v * off * shrink, v * (1 - off * shrink)])
            elif self.name == "heterogeneous_compound_symmetry":
                theta = np.array([*var, off * shrink])
            elif self.name == "ar1":
                theta = np.array([lag1 * shrink, var.mean()])
            elif self.name == "heterogeneous_ar1":
                theta = np.array([*var, lag1 * shrink])
            elif self.name == "toeplitz":
                v = var.mean()
                theta = np.array([*(v * np.clip(mean_corr_lag, -0.9, 0.95) * shrink), v])
            elif self.name == "heterogeneous_toeplitz":
                theta = np.array([*var, *(np.clip(mean_corr_lag, -0.9, 0.95) * shrink)])
            else:
                adj = np.array([corr[k, k + 1] for k in range(t - 1)])
                theta = np.array([*var, *(np.clip(adj, -0.9, 0.95) * shrink)])
            if self.is_valid(theta):
                return theta
        return theta

    def is_valid(self, theta: np.ndarray) -> bool:
        """True when Sigma(theta) is positive definite and correlations are in range."""
        theta = np.asarray(theta, dtype=float)
        if not np.all(np.isfinite(theta)):
            return False
        if self.name == "ar1" and abs(theta[0]) >= 1:
            return False
        if self.name in _HETEROGENEOUS:
            t = self.n_times
            if np.any(theta[:t] <= 0) or np.any(np.abs(theta[t:]) >= 1):
                return False
        try:
            np.linalg.cholesky(self.sigma(theta))
        except np.linalg.LinAlgError:
            return False
        return True


def _lower_indices(t: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of each lower-triangle element in SAS's UN(i,j) order."""
    rows = np.array([i for i in range(t) for _ in range(i + 1)])
    cols = np.array([j for i in range(t) for j in range(i + 1)])
    return rows, cols


def _ar1_corr(rho: float, lag: np.ndarray):
    """rho^|i-j| with its first and second derivatives in rho."""
    corr = np.power(rho, lag).astype(float)
    dcorr = np.where(lag >= 1, lag * np.power(rho, np.maximum(lag - 1, 0)), 0.0)
    d2corr = np.where(lag >= 2, lag * (lag - 1) * np.power(rho, np.maximum(lag - 2, 0)), 0.0)
    return corr, dcorr, d2corr


def _heterogeneous(var, corr, dcorr, d2corr, order):
    """Sigma = D C D, D = diag(sqrt(var)), with derivatives in (var, rho)."""
    t = len(var)
    sd = np.sqrt(var)
    scale = np.outer(sd, sd)
    sigma = scale * corr
    if order == 0:
        return sigma, None, None
    r = dcorr.shape[0]
    k = t + r
    eye = np.eye(t)
    # d sqrt(v_i v_j) / d v_a = sqrt(v_i v_j) (delta_ia + delta_ja) / (2 v_a)
    hit = eye[:, :, None] + eye[:, None, :]  # (a, i, j)
    dscale = scale[None] * hit / (2 * var[:, None, None])
    d1 = np.empty((k, t, t))
    d1[:t] = dscale * corr[None]
    d1[t:] = scale[None] * dcorr
    if order < 2:
        return sigma, d1, None
    d2 = np.zeros((k, k, t, t))
    # variance-variance: second derivative of sqrt(v_i v_j)
    for a in range(t):
        for b in range(t):
            if a == b:
                # only off-diagonal elements involving a are non-linear in v_a
                single = hit[a] == 1
                d2[a, a] = np.where(single, -scale / (4 * var[a] ** 2), 0.0) * corr
            else:
                pair = (eye[a][:, None] * eye[b][None, :]) + (eye[b][:, None] * eye[a][None, :])
                d2[a, b] = pair * scale / (4 * var[a] * var[b]) * corr
    for a in range(t):
        for c in range(r):
            d2[a, t + c] = d2[t + c, a] = dscale[a] * dcorr[c]
    if d2corr is not None:
        d2[t:, t:] = scale[None, None] * d2corr
    return sigma, d1, d2


#: Starting values only: eigenvalues are clipped to this fraction of the largest (itself at
#: least ``_START_SCALE_FLOOR``), a matrix comfortably inside the positive definite cone.
_START_EIGEN_FRACTION = 1e-3
_START_SCALE_FLOOR = 1e-8


def _make_pd(s: np.ndarray) -> np.ndarray:
    """Nearest-ish positive definite matrix by clipping eigenvalues."""
    s = (s + s.T) / 2
    w, v = np.linalg.eigh(s)
    floor = max(w.max(), _START_SCALE_FLOOR) * _START_EIGEN_FRACTION
    return (v * np.maximum(w, floor)) @ v.T


_HETEROGENEOUS = (
    "heterogeneous_compound_symmetry",
    "heterogeneous_ar1",
    "heterogeneous_toeplitz",
    "ante_dependence",
)

_LABELS = {
    "unstructured": "unstructured (UN)",
    "compound_symmetry": "compound symmetry (CS)",
    "heterogeneous_compound_symmetry": "heterogeneous compound symmetry (CSH)",
    "ar1": "first-order autoregressive (AR(1))",
    "heterogeneous_ar1": "heterogeneous first-order autoregressive (ARH(1))",
    "toeplitz": "Toeplitz (TOEP)",
    "heterogeneous_toeplitz": "heterogeneous Toeplitz (TOEPH)",
    "ante_dependence": "first-order ante-dependence (ANTE(1))",
}

#: Canonical names of the supported structures.
STRUCTURES = tuple(_LABELS)

_ALIASES = {
    "un": "unstructured",
    "us": "unstructured",
    "cs": "compound_symmetry",
    "csh": "heterogeneous_compound_symmetry",
    "ar1": "ar1",
    "ar(1)": "ar1",
    "arh1": "heterogeneous_ar1",
    "arh(1)": "heterogeneous_ar1",
    "ar1h": "heterogeneous_ar1",
    "toep": "toeplitz",
    "toeph": "heterogeneous_toeplitz",
    "ante1": "ante_dependence",
    "ante(1)": "ante_dependence",
    "adh": "ante_dependence",
}


def get_structure(name: str, n_times: int) -> CovarianceStructure:
    """The structure called ``name`` (canonical name or SAS/R short form) over ``n_times`` visits.

    Raises
    ------
    ValueError
        For an unknown name.
    """
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _LABELS:
        raise ValueError(f"unknown covariance structure {name!r}; choose from {STRUCTURES}")
    return CovarianceStructure(key, int(n_times))
