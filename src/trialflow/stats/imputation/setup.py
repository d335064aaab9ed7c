"""The shared first step of every method: the data, the fitted imputation model, the classes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .classes import Classes, build_classes
from .data import STRATEGIES, ImputationData, prepare_data
from .model import Cells, ImputationModel, build_cells, fit_model

__all__ = ["Setup", "prepare"]


@dataclass(frozen=True)
class Setup:
    """Everything the methods share. ``covariance_group[a]`` is arm a's covariance group."""

    data: ImputationData
    cells: Cells
    classes: Classes
    model: ImputationModel
    covariance: str
    covariance_group: np.ndarray
    post_ice: str
    reml: bool
    tol: float

    @property
    def strategy_label(self) -> str:
        """The strategies of the participants with an ICE, e.g. ``j2r`` or ``cr+j2r``."""
        used = sorted(
            {STRATEGIES[s] for s in self.data.strategy[self.data.ice < self.data.n_times]}
        )
        return "+".join(used) if used else "mar"

    def delta_arm(self, arm: str | None) -> int | None:
        if arm is None:
            return None
        if str(arm) not in self.data.arms:
            raise ValueError(f"delta arm {arm!r} is not one of the arms {self.data.arms}")
        return self.data.arms.index(str(arm))


def prepare(
    data: pd.DataFrame,
    visits: Sequence[str],
    arms: Sequence[str],
    strategy: str = "mar",
    ice: pd.DataFrame | None = None,
    reference_arm: str | None = None,
    covariates: Sequence[str] = (),
    covariance: str = "shared",
    post_ice: str = "impute",
    reml: bool = True,
    tol: float = 1e-12,
) -> Setup:
    """Check the inputs, fit the imputation model to the full data and group the classes."""
    prepared = prepare_data(
        data,
        visits=visits,
        arms=arms,
        strategy=strategy,
        ice=ice,
        reference_arm=reference_arm,
        covariates=covariates,
        post_ice=post_ice,
    )
    cells = build_cells(prepared, covariance)
    model = fit_model(cells, reml=reml, tol=tol)
    n_arms = len(prepared.arms)
    group = np.arange(n_arms) if covariance == "by_arm" else np.zeros(n_arms, dtype=int)
    return Setup(
        data=prepared,
        cells=cells,
        classes=build_classes(prepared),
        model=model,
        covariance=covariance,
        covariance_group=group,
        post_ice=post_ice,
        reml=reml,
        tol=tol,
    )
