"""Each strategy's joint distribution of a participant's outcomes (Carpenter et al. 2013).

For a participant of arm ``a`` with ICE at visit index ``k`` (values at ``t >= k`` are
post-ICE; ``k = T`` means no ICE) the mean of visit ``t`` is ``L[t] @ x_i`` for a profile
matrix ``L`` (T, p0) built from the arm's coefficients ``B`` (``m_a(t) = B[t] @ x_i``) and
the reference coefficients ``B R`` (``m_r(t) = B[t] @ R x_i``: the same participant with the
arm switched to the reference arm). As in rbmi (and its "statistical specifications"):

=====  ===============================================  =================================
       mean profile                                     covariance
=====  ===============================================  =================================
mar    ``m_a(t)``                                        ``Sigma_a``
j2r    ``m_a(t)``, t < k; ``m_r(t)``, t >= k             Carpenter's section 4.3 matrix
cr     ``m_r(t)``                                        ``Sigma_r``
cir    ``m_a(t)``, t < k; ``m_a(k-1) + m_r(t) -          as J2R
       m_r(k-1)``, t >= k
lmcf   ``m_a(t)``, t < k; ``m_a(k-1)``, t >= k           ``Sigma_a``
=====  ===============================================  =================================

Carpenter's J2R/CIR covariance keeps ``Sigma_a`` for the pre-ICE block and the reference
arm's conditional structure after it: ``S11 = Sigma_a,11``,
``S21 = Sigma_r,21 Sigma_r,11^-1 Sigma_a,11``,
``S22 = Sigma_r,22 - Sigma_r,21 Sigma_r,11^-1 (Sigma_r,11 - Sigma_a,11) Sigma_r,11^-1
Sigma_r,12``. With one covariance shared by the arms every strategy uses it.

ICE at the first visit (k = 0): J2R and CIR have no pre-ICE visit and become CR (mean
``m_r``, covariance ``Sigma_r``), as in rbmi; LMCF has no last mean to carry and is refused
(rbmi stops too). For participants of the reference arm ``m_r = m_a`` and ``Sigma_r =
Sigma_a``, so J2R, CR and CIR impute them under MAR.
"""

from __future__ import annotations

import numpy as np

from .data import STRATEGIES

__all__ = ["carpenter_covariance", "joint_covariance", "profile"]

_MAR, _J2R, _CR, _CIR, _LMCF = (STRATEGIES.index(s) for s in STRATEGIES)


def profile(strategy: int, k: int, coef: np.ndarray, coef_ref: np.ndarray) -> np.ndarray:
    """Profile matrix ``L`` (R, T, p0) of the mean ``L[t] @ x_i``.

    Parameters
    ----------
    strategy : int
        Index into :data:`STRATEGIES`.
    k : int
        ICE visit index (T: none).
    coef, coef_ref : ndarray (R, T, p0)
        ``B`` and ``B R`` of each replicate.
    """
    n_times = coef.shape[1]
    if strategy == _MAR or k >= n_times:
        return coef
    if strategy == _CR or (k == 0 and strategy in (_J2R, _CIR)):
        return coef_ref
    out = coef.copy()
    if strategy == _J2R:
        out[:, k:] = coef_ref[:, k:]
    elif strategy == _CIR:
        out[:, k:] = coef[:, k - 1 : k] + coef_ref[:, k:] - coef_ref[:, k - 1 : k]
    elif strategy == _LMCF:
        if k == 0:
            raise ValueError("LMCF needs a visit before the ICE")
        out[:, k:] = coef[:, k - 1 : k]
    else:
        raise ValueError(f"unknown strategy index {strategy}")
    return out


def carpenter_covariance(sigma_own: np.ndarray, sigma_ref: np.ndarray, k: int) -> np.ndarray:
    """Carpenter et al. (2013, section 4.3) joint covariance (R, T, T) for J2R and CIR."""
    n_times = sigma_own.shape[-1]
    if k >= n_times:
        return sigma_own
    if k == 0:
        return sigma_ref
    pre, post = slice(0, k), slice(k, n_times)
    a11 = sigma_own[:, pre, pre]
    r11, r12 = sigma_ref[:, pre, pre], sigma_ref[:, pre, post]
    r22 = sigma_ref[:, post, post]
    # G = Sigma_r,21 Sigma_r,11^-1, from a solve with the symmetric r11
    g = np.linalg.solve(r11, r12).transpose(0, 2, 1)
    out = np.empty_like(sigma_own)
    out[:, pre, pre] = a11
    s21 = g @ a11
    out[:, post, pre] = s21
    out[:, pre, post] = s21.transpose(0, 2, 1)
    s22 = r22 - g @ (r11 - a11) @ g.transpose(0, 2, 1)
    out[:, post, post] = (s22 + s22.transpose(0, 2, 1)) / 2
    return out


def joint_covariance(
    strategy: int, k: int, sigma_own: np.ndarray, sigma_ref: np.ndarray
) -> np.ndarray:
    """Joint covariance (R, T, T) of the strategy (see the module docstring)."""
    n_times = sigma_own.shape[-1]
    if strategy in (_MAR, _LMCF) or k >= n_times:
        return sigma_own
    if strategy == _CR:
        return sigma_ref
    if strategy in (_J2R, _CIR):
        return carpenter_covariance(sigma_own, sigma_ref, k)
    raise ValueError(f"unknown strategy index {strategy}")
