"""Degrees of freedom and adjusted covariance: Satterthwaite and Kenward-Roger.

Notation (as in Kenward & Roger 1997 and the R package mmrm's documentation): ``Phi`` the
model-based covariance of the fixed effects, ``W`` the asymptotic covariance of the
covariance parameters (inverse observed information of the REML likelihood),
``P_h = X' dV^-1/dtheta_h X``, ``Q_hj = X' dV^-1/dtheta_h V dV^-1/dtheta_j X`` and
``R_hj = X' V^-1 d2V/dtheta_h dtheta_j V^-1 X``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "kenward_roger_covariance",
    "kenward_roger_df",
    "satterthwaite_df",
    "satterthwaite_f_df",
]


#: Eigenvalues of ``L Phi L'`` below this fraction of the largest count as zero (rank).
RANK_TOLERANCE = 1e-10


def kenward_roger_covariance(
    phi: np.ndarray,
    w: np.ndarray,
    p_mats: np.ndarray,
    q_mats: np.ndarray,
    r_mats: np.ndarray | None,
    linear: bool = False,
) -> np.ndarray:
    """Kenward-Roger adjusted covariance of the fixed effects.

    ``Phi_A = Phi + 2 Phi [sum_hj W_hj (Q_hj - P_h Phi P_j - R_hj / 4)] Phi``; the "linear"
    variant drops R (SAS's default for the unstructured type, where R vanishes anyway in
    SAS's parameterisation).
    """
    pp = np.einsum("hab,bc,jcd->hjad", p_mats, phi, p_mats)
    inner = q_mats - pp
    if r_mats is not None and not linear:
        inner = inner - r_mats / 4
    total = np.einsum("hj,hjab->ab", w, inner)
    adjusted = phi + 2 * phi @ total @ phi
    return (adjusted + adjusted.T) / 2


def satterthwaite_df(lc: np.ndarray, phi: np.ndarray, w: np.ndarray, p_mats: np.ndarray) -> float:
    """Satterthwaite df of the single contrast ``lc``: ``2 (lc' Phi lc)^2 / (g' W g)``.

    ``g_h = d(lc' Phi lc)/dtheta_h = -lc' Phi P_h Phi lc``. For one-row contrasts this is also
    the Kenward-Roger df (which uses the unadjusted variance here).
    """
    lc = np.asarray(lc, dtype=float).ravel()
    a = phi @ lc
    var = float(lc @ a)
    g = -np.einsum("a,hab,b->h", a, p_mats, a)
    denom = float(g @ w @ g)
    return float(2 * var**2 / denom) if denom > 0 else float("inf")


def satterthwaite_f_df(
    lc: np.ndarray, phi: np.ndarray, w: np.ndarray, p_mats: np.ndarray
) -> float:
    """Denominator df of the F test of a multi-row contrast, as SAS computes it.

    The rows are rotated to the eigenvectors of ``L Phi L'``; each gets a Satterthwaite df
    ``nu_m``; with ``E = sum nu_m / (nu_m - 2)`` the df is ``2E / (E - rank)``.
    """
    lc = np.atleast_2d(np.asarray(lc, dtype=float))
    vals, vecs = np.linalg.eigh(lc @ phi @ lc.T)
    keep = vals > vals.max() * RANK_TOLERANCE  # rows beyond the contrast's rank carry no df
    rotated = vecs[:, keep].T @ lc
    nus = np.array([satterthwaite_df(row, phi, w, p_mats) for row in rotated])
    rank = int(keep.sum())
    big = nus > 2
    e = float(np.sum(nus[big] / (nus[big] - 2)))
    if e > rank:
        return 2 * e / (e - rank)
    return float("nan")


def kenward_roger_df(
    lc: np.ndarray, phi: np.ndarray, w: np.ndarray, p_mats: np.ndarray
) -> tuple[float, float]:
    """Kenward-Roger denominator df ``m`` and F scale ``lambda`` for contrast rows ``lc``.

    Returns
    -------
    df : float
    scale : float
        ``lambda``: the F statistic computed with the adjusted covariance is multiplied by it.
    """
    lc = np.atleast_2d(np.asarray(lc, dtype=float))
    c = lc.shape[0]
    if c == 1:
        return satterthwaite_df(lc[0], phi, w, p_mats), 1.0
    theta = lc.T @ np.linalg.solve(lc @ phi @ lc.T, lc)  # M = L'(L Phi L')^-1 L
    mpp = np.einsum("ab,bc,hcd,de->hae", theta, phi, p_mats, phi)  # M Phi P_h Phi
    traces = np.einsum("haa->h", mpp)
    a1 = float(traces @ w @ traces)
    a2 = float(np.einsum("hj,hab,jba->", w, mpp, mpp))
    b = (a1 + 6 * a2) / (2 * c)
    g = ((c + 1) * a1 - (c + 4) * a2) / ((c + 2) * a2)
    denom = 3 * c + 2 * (1 - g)
    c1, c2, c3 = g / denom, (c - g) / denom, (c + 2 - g) / denom
    e_star = 1 / (1 - a2 / c)
    v_star = (2 / c) * (1 + c1 * b) / ((1 - c2 * b) ** 2 * (1 - c3 * b))
    rho = v_star / (2 * e_star**2)
    m = 4 + (c + 2) / (c * rho - 1)
    lam = m / (e_star * (m - 2))
    return float(m), float(lam)
