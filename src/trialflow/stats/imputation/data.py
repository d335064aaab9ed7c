"""From tidy inputs to the arrays of the imputation: outcomes, design rows, ICEs, strategies.

Inputs are the long analysis frame (``participant_id, arm, visit, value`` with a
per-participant ``baseline`` column and covariate columns) and an optional per-participant
table of intercurrent events (``participant_id, ice_visit, strategy``). Conventions, after
Carpenter, Roger and Kenward (2013) and rbmi:

- The ICE visit ``k`` is the first post-baseline visit whose value is affected; values at
  visits ``>= k`` are post-ICE.
- A participant with a non-MAR strategy has its observed post-ICE values left out of the
  imputation-model fit (rbmi's rule; also in the reference arm, so an ICE has the same
  effect in every arm). ``post_ice="impute"`` (hypothetical estimand) sets them aside and
  imputes them; ``post_ice="keep"`` (treatment-policy estimand) conditions on them and
  analyses them as observed. Under ``mar`` post-ICE values are kept and used everywhere.
- Without an ICE table, the first visit of a participant's trailing run of missing visits
  (a monotone dropout) is the ICE, handled with the ``strategy`` given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...errors import InputError, InputProblem
from ...membership import is_in
from ..ancova import ancova_design, single_level_factors

__all__ = [
    "POST_ICE",
    "REFERENCE_BASED",
    "STRATEGIES",
    "ImputationData",
    "derive_monotone_ice",
    "prepare_data",
    "resolve_strategies",
]

#: Imputation strategies (Carpenter et al. 2013): missing at random, jump to reference,
#: copy reference, copy increments in reference, last mean carried forward.
STRATEGIES = ("mar", "j2r", "cr", "cir", "lmcf")
#: Strategies that borrow the reference arm's mean.
REFERENCE_BASED = ("j2r", "cr", "cir")
#: What happens to values observed after an ICE handled by a non-MAR strategy.
POST_ICE = ("impute", "keep")


@dataclass(frozen=True)
class ImputationData:
    """The analysis population as arrays; row ``i`` is ``participant_ids[i]``.

    ``x`` (N, p0) is the ANCOVA design row of each participant (intercept, baseline, arm
    dummies, covariates; :func:`trialflow.stats.ancova.ancova_design`), which is also the
    per-visit design row of the imputation model. ``y`` (N, T) holds the values at the
    post-baseline ``visits`` (NaN: missing). ``ice`` is the ICE visit index (T: none),
    ``strategy`` the index into :data:`STRATEGIES`. ``fit_observed`` marks the values the
    imputation model is fitted to, ``kept`` those conditioned on and analysed as observed;
    every other visit is imputed.
    """

    participant_ids: np.ndarray
    arms: tuple[str, ...]
    visits: tuple[str, ...]
    reference: int
    arm: np.ndarray
    x: np.ndarray
    x_names: tuple[str, ...]
    y: np.ndarray
    ice: np.ndarray
    strategy: np.ndarray
    fit_observed: np.ndarray
    kept: np.ndarray
    covariates: tuple[str, ...]
    n_excluded: int
    notes: tuple[str, ...]

    @property
    def n(self) -> int:
        return len(self.participant_ids)

    @property
    def n_times(self) -> int:
        return len(self.visits)

    @property
    def n_x(self) -> int:
        return self.x.shape[1]

    def arm_column(self, arm: int) -> int:
        """Column of ``x`` holding the dummy of arm ``arm`` (not the first arm)."""
        return self.x_names.index(f"arm:{self.arms[arm]}")

    def reference_map(self) -> np.ndarray:
        """``R`` (p0, p0) with ``R @ x_i`` the design row of participant i in the reference arm."""
        out = np.eye(self.n_x)
        for a in range(1, len(self.arms)):
            out[self.arm_column(a)] = 0.0
        if self.reference > 0:
            out[self.arm_column(self.reference), self.x_names.index("(Intercept)")] = 1.0
        return out

    def imputed_post_ice(self) -> np.ndarray:
        """(N, T) True for imputed values at or after the participant's ICE."""
        after = np.arange(self.n_times)[None, :] >= self.ice[:, None]
        return after & ~self.kept


def resolve_strategies(
    ice: pd.DataFrame, strategy: str | Mapping[str, str], source: str = "ICE table"
) -> pd.DataFrame:
    """Add a ``strategy`` column to an ICE table from one strategy or ``{ice_type: strategy}``.

    Parameters
    ----------
    ice : DataFrame
        ``participant_id, ice_visit`` and, when ``strategy`` is a mapping, ``ice_type``.
    strategy : str or mapping
        One of :data:`STRATEGIES` for every ICE, or one per ICE type.

    Raises
    ------
    InputError
        Naming each row whose ICE type has no strategy, or an unknown strategy.
    """
    out = ice.copy()
    if isinstance(strategy, str):
        _check_strategy(strategy, source)
        out["strategy"] = strategy
        return out
    for name in strategy.values():
        _check_strategy(name, source)
    if "ice_type" not in out.columns:
        raise InputError([InputProblem(source, None, "ice_type", None, "an ice_type column")])
    has_ice = out["ice_visit"].notna()
    types = out["ice_type"].astype("string")
    problems = [
        InputProblem(source, int(i) + 2, "ice_type", value, f"one of {sorted(strategy)}")
        for i, (value, used) in enumerate(zip(types, has_ice, strict=True))
        if used and value not in strategy
    ]
    if problems:
        raise InputError(problems)
    out["strategy"] = types.map(dict(strategy)).astype(object)
    return out


def _check_strategy(name: str, source: str) -> None:
    if name not in STRATEGIES:
        raise InputError([InputProblem(source, None, "strategy", name, f"one of {STRATEGIES}")])


def derive_monotone_ice(y: np.ndarray) -> np.ndarray:
    """ICE visit index of each row of ``y`` (N, T): the first visit of its trailing run of
    missing values (T when the last visit is observed; 0 when nothing is observed)."""
    observed = ~np.isnan(y)
    t = y.shape[1]
    last = np.where(observed.any(axis=1), t - 1 - np.argmax(observed[:, ::-1], axis=1), -1)
    return last + 1


# Over 80 lines only through its numpydoc docstring; the code itself is shorter.
def prepare_data(
    data: pd.DataFrame,
    visits: Sequence[str],
    arms: Sequence[str],
    strategy: str = "mar",
    ice: pd.DataFrame | None = None,
    reference_arm: str | None = None,
    covariates: Sequence[str] = (),
    post_ice: str = "impute",
    source: str = "analysis data",
) -> ImputationData:
    """Check the tidy inputs and build :class:`ImputationData`.

    Parameters
    ----------
    data : DataFrame
        ``participant_id, arm, visit, value, baseline`` and the ``covariates`` columns.
        Rows at visits not in ``visits`` (e.g. baseline) are ignored; ``arm``, ``baseline``
        and the covariates must be constant within a participant.
    visits : sequence of str
        Post-baseline visits in time order.
    arms : sequence of str
        Arms in order; the first is the comparator of every contrast.
    strategy : str
        Strategy of ICEs derived from monotone dropout (``ice`` None), and of ICE rows
        without a ``strategy`` column.
    ice : DataFrame, optional
        ``participant_id, ice_visit`` (NaN: no ICE) and optionally ``strategy``.
    reference_arm : str, optional
        Arm whose mean the reference-based strategies borrow (default: the first arm).
    covariates : sequence of str
    post_ice : {"impute", "keep"}

    Raises
    ------
    InputError
        Naming the participant and column of every inconsistent or unknown value.
    """
    visits, arms = [str(v) for v in visits], [str(a) for a in arms]
    _check_options(visits, arms, strategy, reference_arm, post_ice, source)
    per, y = _per_participant(data, visits, arms, list(covariates), source)
    notes = []
    complete = per[["baseline", *covariates]].notna().all(axis=1).to_numpy()
    n_excluded = int((~complete).sum())
    if n_excluded:
        notes.append(f"{n_excluded} participant(s) without baseline or covariates left out")
    per, y = per.loc[complete], y[complete]
    used = [c for c in covariates if c not in single_level_factors(per, covariates)]
    if len(used) < len(covariates):
        dropped = ", ".join(c for c in covariates if c not in used)
        notes.append(f"single-level covariate left out: {dropped}")
    counts = per["arm"].value_counts()
    if any(counts.get(arm, 0) == 0 for arm in arms):
        raise ValueError(f"every arm needs participants with a baseline value: {dict(counts)}")
    x, names = ancova_design(per, arms, used)
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise ValueError("the design (baseline, arm, covariates) is not of full rank")
    ids = per.index.to_numpy()
    if ice is None:
        ice_index = derive_monotone_ice(y)
        codes = np.full(len(ids), STRATEGIES.index(strategy))
    else:
        ice_index, codes = _ice_table(ice, ids, visits, strategy)
    # arm positions without a Python loop over the participants
    arm = pd.Index(arms).get_indexer(per["arm"].astype(str))
    reference = arms.index(reference_arm) if reference_arm is not None else 0
    _check_lmcf(ids, ice_index, codes, derived=ice is None, source=source)
    fit_observed, kept = _observed_sets(y, ice_index, codes, post_ice)
    return ImputationData(
        participant_ids=ids,
        arms=tuple(arms),
        visits=tuple(visits),
        reference=reference,
        arm=arm,
        x=x,
        x_names=tuple(names),
        y=y,
        ice=ice_index,
        strategy=codes,
        fit_observed=fit_observed,
        kept=kept,
        covariates=tuple(used),
        n_excluded=n_excluded,
        notes=tuple(notes),
    )


def _check_lmcf(ids, ice_index, codes, derived, source) -> None:
    """LMCF carries the last pre-ICE mean forward: an ICE at the first visit has none."""
    first = (codes == STRATEGIES.index("lmcf")) & (ice_index == 0)
    if not first.any():
        return
    if derived:
        where, column, expected = source, "value", "a value at the first visit (strategy lmcf)"
    else:
        where, column, expected = "ICE table", "ice_visit", "a visit after the first (lmcf)"
    raise InputError([InputProblem(where, None, column, pid, expected) for pid in ids[first]])


def _check_options(visits, arms, strategy, reference_arm, post_ice, source) -> None:
    if len(arms) < 2:
        raise ValueError("the imputation compares arms: at least two are needed")
    if len(set(visits)) != len(visits) or not visits:
        raise ValueError(f"visits must be distinct and not empty: {visits}")
    _check_strategy(strategy, source)
    if reference_arm is not None and str(reference_arm) not in arms:
        raise ValueError(f"reference_arm {reference_arm!r} is not one of the arms {arms}")
    if post_ice not in POST_ICE:
        raise ValueError(f"post_ice must be one of {POST_ICE}, got {post_ice!r}")


def _per_participant(data, visits, arms, covariates, source):
    """One row per participant (arm, baseline, covariates) and the (N, T) values."""
    needed = ["participant_id", "arm", "visit", "value", "baseline", *covariates]
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise InputError([InputProblem(source, None, c, None, "a column") for c in missing])
    frame = data[needed].copy()
    frame["arm"] = frame["arm"].astype(str)
    unknown = np.flatnonzero(~is_in(frame["arm"], list(arms)).to_numpy())  # rows, not a loop
    problems = [
        InputProblem(source, int(i) + 2, "arm", frame["arm"].iloc[i], f"one of {arms}")
        for i in unknown
    ]
    per = frame.groupby("participant_id", sort=True)[["arm", "baseline", *covariates]]
    varying = per.nunique(dropna=True).gt(1)
    for column in varying.columns:
        for pid in varying.index[varying[column]]:
            problems.append(InputProblem(source, None, column, pid, "one value per participant"))
    if problems:
        raise InputError(problems)
    per = per.first()
    at = frame.loc[frame["visit"].astype(str).isin(visits)].copy()
    at["visit"] = at["visit"].astype(str)
    present = at.loc[at["value"].notna()]
    duplicated = present.duplicated(["participant_id", "visit"], keep=False)
    if duplicated.any():
        raise InputError(
            [
                InputProblem(source, int(i) + 2, "visit", v, "one value per participant and visit")
                for i, v in zip(
                    np.flatnonzero(duplicated), present.loc[duplicated, "visit"], strict=True
                )
            ]
        )
    wide = present.pivot(index="participant_id", columns="visit", values="value")
    wide = wide.reindex(index=per.index, columns=visits)
    return per, wide.to_numpy(dtype=float)


def _ice_table(ice, ids, visits, strategy):
    """ICE visit index and strategy code of each participant from the ICE table."""
    source = "ICE table"
    missing = [c for c in ("participant_id", "ice_visit") if c not in ice.columns]
    if missing:
        raise InputError([InputProblem(source, None, c, None, "a column") for c in missing])
    table = ice.loc[is_in(ice["participant_id"], ids)]
    problems = []
    if table["participant_id"].duplicated().any():
        for pid in table.loc[table["participant_id"].duplicated(), "participant_id"]:
            problems.append(InputProblem(source, None, "participant_id", pid, "one row each"))
    names = table["strategy"] if "strategy" in table.columns else pd.Series(strategy, table.index)
    index = np.full(len(ids), len(visits))
    codes = np.zeros(len(ids), dtype=int)
    position = {pid: i for i, pid in enumerate(ids)}
    lines = np.flatnonzero(is_in(ice["participant_id"], ids).to_numpy()) + 2
    for line, pid, visit, name in zip(
        lines, table["participant_id"], table["ice_visit"], names, strict=True
    ):
        line = int(line)
        if pd.isna(visit):
            continue
        if str(visit) not in visits:
            problems.append(InputProblem(source, line, "ice_visit", visit, f"one of {visits}"))
            continue
        if name not in STRATEGIES:
            problems.append(InputProblem(source, line, "strategy", name, f"one of {STRATEGIES}"))
            continue
        index[position[pid]] = visits.index(str(visit))
        codes[position[pid]] = STRATEGIES.index(name)
    if problems:
        raise InputError(problems)
    return index, codes


def _observed_sets(y, ice_index, codes, post_ice):
    """Values the model is fitted to, and values kept as observed in the analysis."""
    observed = ~np.isnan(y)
    before = np.arange(y.shape[1])[None, :] < ice_index[:, None]
    non_mar = (codes != STRATEGIES.index("mar"))[:, None]
    fit_observed = observed & (before | ~non_mar)
    kept = fit_observed if post_ice == "impute" else observed
    return fit_observed, kept
