"""Results of an imputation analysis: inference as a function of delta, and the tidy table.

Every estimate is linear in the tipping-point delta (the delta moves imputed values, and
the ANCOVA is linear in the outcomes), so each method keeps the pieces that give its
inference at any delta in closed form: the jackknife replicates' intercepts and slopes, or
per imputation the estimate, and the residual sum of squares as a quadratic in delta.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .pooling import jackknife_se, normal_inference, rubin_pool, t_inference
from .setup import Setup

__all__ = ["ImputationResult", "JackknifeInference", "RubinInference", "TABLE_COLUMNS"]

#: Columns of :attr:`ImputationResult.table`, one row per post-baseline visit and contrast.
TABLE_COLUMNS = (
    "visit",
    "contrast",
    "arm",
    "method",
    "strategy",
    "delta",
    "n",
    "estimate",
    "se",
    "df",
    "ci_low",
    "ci_high",
    "statistic",
    "p_value",
    "distribution",
    "n_imputations",
    "seed",
    "mc_se",
    "n_imputed",
    "n_ice",
    "reference_arm",
    "covariance",
    "post_ice",
)


@dataclass(frozen=True)
class JackknifeInference:
    """Conditional mean imputation: ``estimate + delta * slope`` (A - 1, T) and the
    leave-one-out replicates (N, A - 1, T) with theirs; normal-approximation inference."""

    estimate: np.ndarray
    slope: np.ndarray
    replicates: np.ndarray
    replicate_slopes: np.ndarray
    distribution: str = "normal"

    def at(self, delta: float, alpha: float) -> dict[str, np.ndarray]:
        est = self.estimate + delta * self.slope
        se = jackknife_se(self.replicates + delta * self.replicate_slopes)
        out = {"estimate": est, "se": se, "df": np.full(est.shape, np.nan)}
        out.update(normal_inference(est, se, alpha))
        out["mc_se"] = np.full(est.shape, np.nan)
        return out


@dataclass(frozen=True)
class RubinInference:
    """Multiple imputation: per imputation the estimates ``estimate + delta * slope``
    (M, A - 1, T), and the residual sums of squares ``rss + 2 delta cross + delta^2 ee``
    (M, T) of the ANCOVA with residual df ``df`` and ``(Z'Z)^-1`` diagonal ``xtx`` (A - 1,)."""

    estimate: np.ndarray
    slope: np.ndarray
    rss: np.ndarray
    cross: np.ndarray
    ee: np.ndarray
    df: float
    xtx: np.ndarray
    distribution: str = "t"

    def at(self, delta: float, alpha: float) -> dict[str, np.ndarray]:
        est = self.estimate + delta * self.slope[None]
        rss = self.rss + 2 * delta * self.cross + delta**2 * self.ee[None]
        variance = rss[:, None, :] / self.df * self.xtx[None, :, None]
        pooled = rubin_pool(est, variance, self.df)
        out = {key: pooled[key] for key in ("estimate", "se", "df", "mc_se")}
        out.update(t_inference(pooled["estimate"], pooled["se"], pooled["df"], alpha))
        return out


@dataclass(frozen=True)
class ImputationResult:
    """An imputation analysis: :attr:`table` at ``delta`` (tidy, one row per visit and
    contrast ``<arm> - <first arm>``), the fitted model and the pieces behind the inference.

    ``completed`` (conditional mean only) is the completed data set, long:
    ``participant_id, arm, visit, value, imputed``.
    """

    method: str
    setup: Setup
    inference: JackknifeInference | RubinInference
    alpha: float
    delta: float = 0.0
    delta_arm: str | None = None
    n_imputations: int | None = None
    seed: int | None = None
    completed: pd.DataFrame | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def table(self) -> pd.DataFrame:
        return self.table_at(self.delta)

    def table_at(self, delta: float, alpha: float | None = None) -> pd.DataFrame:
        """The result table with ``delta`` added to the imputed post-ICE values of
        :attr:`delta_arm`."""
        if delta != 0 and self.delta_arm is None:
            raise ValueError("a delta needs the arm it applies to (delta_arm)")
        numbers = self.inference.at(delta, self.alpha if alpha is None else alpha)
        data = self.setup.data
        imputed = ~data.kept
        after = data.ice < data.n_times
        first = data.arms[0]
        rows = []
        for j, visit in enumerate(data.visits):
            for a in range(1, len(data.arms)):
                row = {
                    "visit": visit,
                    "contrast": f"{data.arms[a]} - {first}",
                    "arm": data.arms[a],
                    "method": self.method,
                    "strategy": self.setup.strategy_label,
                    "delta": float(delta),
                    "n": data.n,
                }
                row.update({key: float(value[a - 1, j]) for key, value in numbers.items()})
                row.update(
                    distribution=self.inference.distribution,
                    n_imputations=self.n_imputations,
                    seed=self.seed,
                    n_imputed=int(imputed[:, j].sum()),
                    n_ice=int(after.sum()),
                    reference_arm=data.arms[data.reference],
                    covariance=self.setup.covariance,
                    post_ice=self.setup.post_ice,
                )
                rows.append(row)
        return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
