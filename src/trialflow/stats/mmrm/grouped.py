"""Separate covariance matrices per group (e.g. per arm) with fixed effects shared by all.

The likelihood code handles a group-specific covariance without change when the visits are
indexed per group: visit ``t`` of a subject in group ``g`` becomes index ``g * T + t`` of an
expanded ``(G T) x (G T)`` block-diagonal covariance whose ``g``-th diagonal block is the
group's own ``Sigma_g``. A subject's visits then all fall in its group's block, its
missingness pattern records the group, and the per-pattern sufficient statistics of
:mod:`.likelihood` sum over groups with one shared ``beta`` (REML or ML), exactly as a model
``V_i = Sigma_{g(i)}`` restricted to the subject's visits. This is the model of SAS's
``REPEATED / GROUP=`` and of ``us(visit | group / subject)`` in the R package mmrm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .covariance import CovarianceStructure, get_structure

__all__ = ["GroupedStructure", "expand_time", "grouped_structure"]


@dataclass(frozen=True)
class GroupedStructure:
    """One covariance structure with its own parameters in each of ``n_groups`` groups.

    Duck-types :class:`~.covariance.CovarianceStructure` over ``n_groups * base.n_times``
    expanded visits: ``theta`` is the groups' parameter vectors one after the other and
    ``Sigma(theta)`` is block diagonal.
    """

    base: CovarianceStructure
    n_groups: int

    @property
    def name(self) -> str:
        return f"{self.base.name}_by_group"

    @property
    def label(self) -> str:
        return f"{self.base.label}, one per group"

    @property
    def n_times(self) -> int:
        return self.base.n_times * self.n_groups

    @property
    def linear(self) -> bool:
        return self.base.linear

    @property
    def n_params(self) -> int:
        return self.base.n_params * self.n_groups

    def param_names(self) -> list[str]:
        return [
            f"group{g + 1}:{name}"
            for g in range(self.n_groups)
            for name in self.base.param_names()
        ]

    def split(self, theta: np.ndarray) -> list[np.ndarray]:
        """The parameter vector of each group."""
        return list(np.asarray(theta, dtype=float).reshape(self.n_groups, self.base.n_params))

    def sigmas(self, theta: np.ndarray) -> np.ndarray:
        """Each group's ``T x T`` covariance matrix, shape ``(G, T, T)``."""
        return np.stack([self.base.sigma(part) for part in self.split(theta)])

    def sigma(self, theta: np.ndarray) -> np.ndarray:
        return self.derivatives(theta, order=0)[0]

    def derivatives(
        self, theta: np.ndarray, order: int = 2
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Block-diagonal Sigma and its derivatives, as :meth:`CovarianceStructure.derivatives`."""
        t, k, groups = self.base.n_times, self.base.n_params, self.n_groups
        size = t * groups
        sigma = np.zeros((size, size))
        d1 = np.zeros((k * groups, size, size)) if order >= 1 else None
        d2 = None
        for g, part in enumerate(self.split(theta)):
            block = slice(g * t, (g + 1) * t)
            s, ds, dds = self.base.derivatives(part, order=order)
            sigma[block, block] = s
            if d1 is not None:
                d1[g * k : (g + 1) * k, block, block] = ds
            if dds is not None:
                if d2 is None:
                    d2 = np.zeros((k * groups, k * groups, size, size))
                d2[g * k : (g + 1) * k, g * k : (g + 1) * k, block, block] = dds
        return sigma, d1, d2

    def start(self, empirical: np.ndarray) -> np.ndarray:
        """Starting values: the base structure's, from each group's diagonal block."""
        t = self.base.n_times
        parts = []
        for g in range(self.n_groups):
            block = empirical[g * t : (g + 1) * t, g * t : (g + 1) * t]
            parts.append(self.base.start(block))
        return np.concatenate(parts)

    def is_valid(self, theta: np.ndarray) -> bool:
        return all(self.base.is_valid(part) for part in self.split(theta))


def grouped_structure(name: str, n_times: int, n_groups: int) -> GroupedStructure:
    """The structure ``name`` over ``n_times`` visits, with its own parameters per group."""
    if n_groups < 1:
        raise ValueError("at least one group is needed")
    if n_times * n_groups > 62:
        raise ValueError("at most 62 visits times groups are supported")
    return GroupedStructure(get_structure(name, n_times), int(n_groups))


def expand_time(time: np.ndarray, group: np.ndarray, n_times: int) -> np.ndarray:
    """Expanded visit index ``group * n_times + time`` of each row (see the module docstring)."""
    return np.asarray(group, dtype=np.int64) * int(n_times) + np.asarray(time, dtype=np.int64)
