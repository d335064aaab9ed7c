"""Imputation classes: participants whose missing values are imputed by the same linear map.

Given the imputation model, a participant's completed outcome vector is

    y_i* = A_h y_iO + D_h x_i (+ delta e_h)

where ``O`` are the visits kept as observed, the rows of ``A_h`` (T, m) are the identity at
``O`` and ``K = S_MO S_OO^-1`` at the missing visits ``M`` (``S`` the strategy's joint
covariance), the rows of ``D_h`` (T, p0) are ``L_M - K L_O`` at ``M`` and zero at ``O``
(``L`` the strategy's mean profile), and ``e_h`` marks the imputed post-ICE visits (the
tipping-point delta). ``A_h`` and ``D_h`` depend only on the class ``h`` = (arm, strategy,
ICE visit, kept visits), so the ANCOVA normal equations of the completed data are sums over
classes of per-class cross-products:

    Z'Y* = sum_h (Sxy_h A_h' + Sxx_h D_h' + delta sx_h e_h'),   Z'Z = sum_h Sxx_h

with ``Sxx_h = sum x x'``, ``Sxy_h = sum x y_O'`` and ``sx_h = sum x`` over the class. A
leave-one-out replicate subtracts the deleted participant's own term, so re-imputing and
re-analysing for one deletion costs the number of classes, not the number of participants.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import ImputationData
from .strategies import joint_covariance, profile

__all__ = ["Classes", "ClassMaps", "build_classes", "class_maps", "completed_estimates"]


@dataclass(frozen=True)
class Classes:
    """Participants grouped by (arm, strategy, ICE visit, kept visits)."""

    arm: tuple[int, ...]
    strategy: tuple[int, ...]
    ice: tuple[int, ...]
    kept: tuple[np.ndarray, ...]  # visit indices kept as observed
    missing: tuple[np.ndarray, ...]  # visit indices imputed
    post_ice: tuple[np.ndarray, ...]  # (T,) bool: imputed at or after the ICE
    members: tuple[np.ndarray, ...]
    class_of: np.ndarray
    sxx: tuple[np.ndarray, ...]
    sxy: tuple[np.ndarray, ...]
    sx: tuple[np.ndarray, ...]


def build_classes(data: ImputationData) -> Classes:
    """Group the participants and precompute each class's cross-products."""
    t = data.n_times
    bits = (data.kept * (1 << np.arange(t))).sum(axis=1)
    keys = np.column_stack([data.arm, data.strategy, data.ice, bits])
    unique, class_of = np.unique(keys, axis=0, return_inverse=True)
    class_of = class_of.reshape(-1)
    fields: dict[str, list] = {name: [] for name in Classes.__dataclass_fields__}
    imputed_after = data.imputed_post_ice()
    for h, (arm, strategy, ice, _) in enumerate(unique):
        idx = np.flatnonzero(class_of == h)
        kept = np.flatnonzero(data.kept[idx[0]])
        x, y = data.x[idx], data.y[idx][:, kept]
        fields["arm"].append(int(arm))
        fields["strategy"].append(int(strategy))
        fields["ice"].append(int(ice))
        fields["kept"].append(kept)
        fields["missing"].append(np.flatnonzero(~data.kept[idx[0]]))
        fields["post_ice"].append(imputed_after[idx[0]])
        fields["members"].append(idx)
        fields["sxx"].append(x.T @ x)
        fields["sxy"].append(x.T @ y)
        fields["sx"].append(x.sum(axis=0))
    fields["class_of"] = class_of
    return Classes(**{k: (v if k == "class_of" else tuple(v)) for k, v in fields.items()})


@dataclass(frozen=True)
class ClassMaps:
    """Per class and replicate: ``A`` (R, T, m), ``D`` (R, T, p0), and the Cholesky factor
    (R, |M|, |M|) of the conditional covariance of the missing values."""

    a: tuple[np.ndarray, ...]
    d: tuple[np.ndarray, ...]
    chol: tuple[np.ndarray, ...] | None


def class_maps(
    classes: Classes,
    data: ImputationData,
    coef: np.ndarray,
    sigmas: np.ndarray,
    covariance_group: np.ndarray,
    with_draws: bool = False,
) -> ClassMaps:
    """Conditional-mean maps of every class for replicates with ``coef`` (R, T, p0) and
    ``sigmas`` (R, G, T, T); ``covariance_group[a]`` is arm a's covariance group."""
    coef_ref = coef @ data.reference_map()
    ref_group = covariance_group[data.reference]
    t = data.n_times
    a_maps, d_maps, chols = [], [], []
    for h in range(len(classes.members)):
        own = sigmas[:, covariance_group[classes.arm[h]]]
        joint = joint_covariance(classes.strategy[h], classes.ice[h], own, sigmas[:, ref_group])
        mean = profile(classes.strategy[h], classes.ice[h], coef, coef_ref)
        o, m = classes.kept[h], classes.missing[h]
        n_rep = coef.shape[0]
        a = np.zeros((n_rep, t, len(o)))
        a[:, o, np.arange(len(o))] = 1.0
        d = np.zeros((n_rep, t, data.n_x))
        chol = None
        if len(m):
            s_oo = joint[:, o][:, :, o]
            s_om = joint[:, o][:, :, m]
            gain = np.linalg.solve(s_oo, s_om).transpose(0, 2, 1) if len(o) else s_om
            if len(o):
                a[:, m, :] = gain
                d[:, m, :] = mean[:, m] - gain @ mean[:, o]
            else:
                d[:, m, :] = mean[:, m]
            if with_draws:
                cond = joint[:, m][:, :, m]
                if len(o):
                    cond = cond - gain @ s_om
                chol = np.linalg.cholesky((cond + cond.transpose(0, 2, 1)) / 2)
        a_maps.append(a)
        d_maps.append(d)
        chols.append(chol)
    return ClassMaps(tuple(a_maps), tuple(d_maps), tuple(chols) if with_draws else None)


def completed_values(classes: Classes, data: ImputationData, maps: ClassMaps, r: int = 0):
    """Conditional-mean completed values (N, T) of replicate ``r`` (no delta)."""
    out = np.empty((data.n, data.n_times))
    for h, idx in enumerate(classes.members):
        y = data.y[idx][:, classes.kept[h]]
        out[idx] = y @ maps.a[h][r].T + data.x[idx] @ maps.d[h][r].T
    return out


def completed_estimates(
    classes: Classes,
    data: ImputationData,
    maps: ClassMaps,
    deleted: np.ndarray | None,
    delta_arm: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """ANCOVA arm coefficients of the completed data, from the class cross-products.

    Replicate ``r`` leaves out participant ``deleted[r]`` (None: one replicate, the full
    data). Returns ``estimate`` and ``slope`` (R, A - 1, T): at delta ``d`` added to the
    imputed post-ICE values of arm ``delta_arm`` the estimates are ``estimate + d * slope``.
    """
    n_rep = maps.a[0].shape[0]
    p0, t = data.n_x, data.n_times
    zty = np.zeros((n_rep, p0, t))
    zte = np.zeros((n_rep, p0, t))
    ztz = np.broadcast_to(data.x.T @ data.x, (n_rep, p0, p0)).copy()
    for h in range(len(classes.members)):
        zty += classes.sxy[h] @ maps.a[h].transpose(0, 2, 1)
        zty += classes.sxx[h] @ maps.d[h].transpose(0, 2, 1)
        if delta_arm is not None and classes.arm[h] == delta_arm:
            zte += np.outer(classes.sx[h], classes.post_ice[h])
    if deleted is not None:
        x = data.x[deleted]  # (R, p0)
        own = np.zeros((n_rep, t))
        mark = np.zeros((n_rep, t))
        which = classes.class_of[deleted]
        for h in np.unique(which):
            rows = np.flatnonzero(which == h)
            y = data.y[deleted[rows]][:, classes.kept[h]]
            own[rows] = np.einsum("rtm,rm->rt", maps.a[h][rows], y)
            own[rows] += np.einsum("rtp,rp->rt", maps.d[h][rows], x[rows])
            if delta_arm is not None and classes.arm[h] == delta_arm:
                mark[rows] = classes.post_ice[h]
        zty -= x[:, :, None] * own[:, None, :]
        zte -= x[:, :, None] * mark[:, None, :]
        ztz -= x[:, :, None] * x[:, None, :]
    columns = [data.arm_column(a) for a in range(1, len(data.arms))]
    solved = np.linalg.solve(ztz, np.concatenate([zty, zte], axis=2))
    return solved[:, columns, :t], solved[:, columns, t:]
