"""The missing-data sensitivity analyses of the config: ``analysis.sensitivity`` and
``analysis.tipping_point`` as typed, immutable objects.

Each entry of ``analysis.sensitivity`` repeats the analysis of one or more outcomes (default:
the primary outcome) with the missing values imputed by :mod:`trialflow.stats.imputation`:
``method`` (``conditional_mean`` or ``bootstrap_mi``), ``strategy`` (one of
:data:`IMPUTATION_STRATEGIES`, or ``{<ice_type>: <strategy>}``), ``reference_arm`` (default
the first arm), and for ``bootstrap_mi`` the number of imputations and the seed. The
results rows are named ``cmi_<strategy>`` or ``bmi_<strategy>``; a mapping's name joins its
distinct strategies, sorted, with ``+`` (``{discontinued: j2r, rescue: cr}`` gives
``cmi_cr+j2r``). :func:`trialflow.plan_problems.plan_problems` checks the declarations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

__all__ = [
    "IMPUTATION_METHODS",
    "IMPUTATION_STRATEGIES",
    "SensitivityAnalysis",
    "TippingPointOptions",
    "analysis_name",
    "sensitivity_from_mapping",
    "strategy_label",
    "tipping_point_from_mapping",
    "with_defaults",
]

ImputationMethod = Literal["conditional_mean", "bootstrap_mi"]
#: ``analysis.sensitivity[].method``, in schema order.
IMPUTATION_METHODS = ("conditional_mean", "bootstrap_mi")
#: Strategies (Carpenter, Roger and Kenward 2013), in schema order; equal to
#: :data:`trialflow.stats.imputation.STRATEGIES` (``tests/test_config.py``).
IMPUTATION_STRATEGIES = ("mar", "j2r", "cr", "cir", "lmcf")
_PREFIX = {"conditional_mean": "cmi", "bootstrap_mi": "bmi"}


def strategy_label(strategy: str | Mapping[str, str]) -> str:
    """``j2r`` for one strategy; a mapping's distinct strategies, sorted, joined by ``+``."""
    if isinstance(strategy, str):
        return strategy
    return "+".join(sorted(set(strategy.values())))


def analysis_name(method: str, strategy: str | Mapping[str, str]) -> str:
    """The ``analysis`` value of the rows: ``cmi_j2r``, ``bmi_mar``, ``cmi_cr+j2r``."""
    return f"{_PREFIX[method]}_{strategy_label(strategy)}"


@dataclass(frozen=True)
class SensitivityAnalysis:
    """One entry of ``analysis.sensitivity`` (defaults filled in by :func:`with_defaults`).

    ``reference_arm`` empty and ``outcomes`` empty mean the defaults (the first arm, the
    primary outcome) until resolved; ``n_imputations`` and ``seed`` are None for the
    deterministic ``conditional_mean``.
    """

    method: ImputationMethod
    strategy: str | Mapping[str, str]
    reference_arm: str = ""
    n_imputations: int | None = None
    seed: int | None = None
    outcomes: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return analysis_name(self.method, self.strategy)

    @property
    def strategy_text(self) -> str:
        """The strategy as configured, for people: ``j2r`` or ``discontinued: j2r, ...``."""
        if isinstance(self.strategy, str):
            return self.strategy
        return ", ".join(f"{k}: {v}" for k, v in self.strategy.items())


@dataclass(frozen=True)
class TippingPointOptions:
    """``analysis.tipping_point``: the analysis repeated with ``delta`` added to every
    imputed post-ICE value of ``arm`` (default: the first non-reference arm), for each of
    ``deltas``; ``outcome`` defaults to the primary outcome."""

    method: ImputationMethod
    strategy: str | Mapping[str, str]
    deltas: tuple[float, ...]
    outcome: str = ""
    arm: str = ""
    reference_arm: str = ""
    n_imputations: int | None = None
    seed: int | None = None

    @property
    def analysis(self) -> SensitivityAnalysis:
        """The imputation analysis the deltas shift."""
        return SensitivityAnalysis(
            self.method,
            self.strategy,
            self.reference_arm,
            self.n_imputations,
            self.seed,
            (self.outcome,),
        )


def _strategy(raw: Any) -> str | dict[str, str]:
    return raw if isinstance(raw, str) else {str(k): str(v) for k, v in raw.items()}


def sensitivity_from_mapping(raw: Sequence[Mapping[str, Any]] | None) -> tuple:
    """:class:`SensitivityAnalysis` of each validated ``analysis.sensitivity`` entry."""
    return tuple(
        SensitivityAnalysis(
            method=entry["method"],
            strategy=_strategy(entry["strategy"]),
            reference_arm=entry.get("reference_arm") or "",
            n_imputations=entry.get("n_imputations"),
            seed=entry.get("seed"),
            outcomes=tuple(entry.get("outcomes") or ()),
        )
        for entry in raw or ()
    )


def tipping_point_from_mapping(raw: Mapping[str, Any] | None) -> TippingPointOptions | None:
    """:class:`TippingPointOptions` of a validated ``analysis.tipping_point`` (or None)."""
    if raw is None:
        return None
    return TippingPointOptions(
        method=raw["method"],
        strategy=_strategy(raw["strategy"]),
        deltas=tuple(float(d) for d in raw["deltas"]),
        outcome=raw.get("outcome") or "",
        arm=raw.get("arm") or "",
        reference_arm=raw.get("reference_arm") or "",
        n_imputations=raw.get("n_imputations"),
        seed=raw.get("seed"),
    )


@dataclass(frozen=True)
class _Defaults:
    first_arm: str
    second_arm: str
    primary_outcome: str


def with_defaults(
    sensitivity: tuple[SensitivityAnalysis, ...],
    tipping: TippingPointOptions | None,
    arms: Sequence[str],
    primary_outcome: str | None,
) -> tuple[tuple[SensitivityAnalysis, ...], TippingPointOptions | None]:
    """Fill in the defaults that depend on the study: the reference arm (first arm), the
    outcomes (the primary outcome) and the tipping arm (the first non-reference arm)."""
    d = _Defaults(
        first_arm=arms[0] if arms else "",
        second_arm=arms[1] if len(arms) > 1 else "",
        primary_outcome=primary_outcome or "",
    )
    filled = tuple(
        replace(
            s,
            reference_arm=s.reference_arm or d.first_arm,
            outcomes=s.outcomes or ((d.primary_outcome,) if d.primary_outcome else ()),
        )
        for s in sensitivity
    )
    if tipping is not None:
        tipping = replace(
            tipping,
            outcome=tipping.outcome or d.primary_outcome,
            arm=tipping.arm or d.second_arm,
            reference_arm=tipping.reference_arm or d.first_arm,
        )
    return filled, tipping
