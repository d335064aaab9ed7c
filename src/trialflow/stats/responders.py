"""Responder analysis: the share of participants whose improvement from baseline reaches a
threshold, per arm, the risk difference between arms and the baseline-adjusted odds ratio.

A threshold is always an improvement in the outcome's better direction (``higher_is_better``):
absolute (``mid``: the change reaches the minimal important difference, in the outcome's
units) or relative (``percent_improvement``: the improvement is at least that percentage of
the absolute baseline value; undefined, so missing, when the baseline is 0). "Reaches" is
``>=`` up to rounding (relative 1e-9), so that 45.3 - 40.3 counts as a change of 5.

Missing responder status (no follow-up value, no baseline, or a relative threshold on a zero
baseline) is handled by the ``missing`` policy: ``non_responder`` (default; every participant
of the analysis set counts, missing ones as non-responders) or ``exclude`` (complete cases).
A composite intercurrent-event strategy marks rows with ``ice_non_response`` (see
:func:`trialflow.stats.estimands.apply_intercurrent_events`): those participants are
non-responders at that visit under either policy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..config import Study
from ._tidy import outcome_ids, wide_by_visit
from .between import fisher_exact_p
from .contract import RESPONDER_CONTRAST, between_contrast, empty_numbers, keyed_rows
from .logistic import adjusted_odds_ratio

MISSING_POLICIES = ("non_responder", "exclude")
LOGISTIC_ANALYSIS = "responder_logistic"
# relative tolerance of "reaches the threshold": float differences such as 45.3 - 40.3
_REACH_RTOL = 1e-9


def wilson_interval(successes: int, n: int, conf_level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (R's ``prop.test(correct = FALSE)$conf.int``).

    Parameters
    ----------
    successes, n : int
    conf_level : float

    Returns
    -------
    tuple of float
        ``(low, high)``; NaN when ``n == 0``.
    """
    if n == 0:
        return math.nan, math.nan
    z = stats.norm.ppf(0.5 + conf_level / 2)
    p = successes / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denominator = 1 + z * z / n
    low = 0.0 if p <= 0 else (centre - half) / denominator
    high = 1.0 if p >= 1 else (centre + half) / denominator
    return low, high


def newcombe_interval(
    k1: int, n1: int, k2: int, n2: int, conf_level: float = 0.95
) -> tuple[float, float]:
    """Newcombe's hybrid score interval (his method 10) for ``k1/n1 - k2/n2``.

    Combines the two Wilson intervals (l1, u1), (l2, u2) without continuity correction:
    ``d - sqrt((p1 - l1)^2 + (u2 - p2)^2)``, ``d + sqrt((u1 - p1)^2 + (p2 - l2)^2)``.

    Parameters
    ----------
    k1, n1, k2, n2 : int
    conf_level : float

    Returns
    -------
    tuple of float
    """
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1, conf_level)
    l2, u2 = wilson_interval(k2, n2, conf_level)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt(
        (u1 - p1) ** 2 + (p2 - l2) ** 2
    )


@dataclass(frozen=True)
class ResponderThreshold:
    """When a participant counts as a responder: exactly one of

    Attributes
    ----------
    mid : float, optional
        Absolute threshold (> 0): the improvement reaches ``mid`` in the outcome's units.
    percent_improvement : float, optional
        Relative threshold (> 0): the improvement is at least this percentage of the absolute
        baseline value.
    """

    mid: float | None = None
    percent_improvement: float | None = None

    def __post_init__(self) -> None:
        given = [v for v in (self.mid, self.percent_improvement) if v is not None]
        if len(given) != 1:
            raise ValueError(
                "a responder threshold needs exactly one of mid, percent_improvement; "
                f"got mid={self.mid!r}, percent_improvement={self.percent_improvement!r}"
            )
        if not float(given[0]) > 0:
            raise ValueError(f"a responder threshold must be positive, got {given[0]!r}")

    @classmethod
    def from_config(cls, raw: float | Mapping[str, float] | ResponderThreshold):
        """From a config value: a number (the MID) or ``{mid: x}`` / ``{percent_improvement: y}``."""
        if isinstance(raw, ResponderThreshold):
            return raw
        if isinstance(raw, Mapping):
            unknown = set(raw) - {"mid", "percent_improvement"}
            if unknown:
                raise ValueError(f"unknown responder threshold key(s) {sorted(unknown)}")
            return cls(**{key: float(value) for key, value in raw.items()})
        return cls(mid=float(raw))

    def describe(self, higher_is_better: bool) -> str:
        """The rule in words, e.g. ``change >= 5``, ``change <= -5`` or
        ``improvement >= 35% of baseline (decrease)``."""
        if self.mid is not None:
            return f"change {'>=' if higher_is_better else '<='} " + (
                f"{self.mid:g}" if higher_is_better else f"-{self.mid:g}"
            )
        direction = "increase" if higher_is_better else "decrease"
        return f"improvement >= {self.percent_improvement:g}% of baseline ({direction})"


def _reaches(amount: np.ndarray, bound: np.ndarray | float) -> np.ndarray:
    """``amount >= bound`` allowing for rounding; NaN compares False."""
    with np.errstate(invalid="ignore"):
        return (amount >= bound) | np.isclose(amount, bound, rtol=_REACH_RTOL, atol=0.0)


def is_responder(change: np.ndarray, mid: float, higher_is_better: bool) -> np.ndarray:
    """Whether each change reaches the MID in the better direction (NaN stays NaN).

    Parameters
    ----------
    change : array_like
        Change from baseline in the outcome's units.
    mid : float
        Minimal important difference, positive, in the outcome's units.
    higher_is_better : bool

    Returns
    -------
    ndarray of float
        1.0 responder, 0.0 not, NaN missing.

    Examples
    --------
    >>> is_responder([6.0, 45.3 - 40.3, 2.0, np.nan], 5, True).tolist()
    [1.0, 1.0, 0.0, nan]
    """
    change = np.asarray(change, dtype=float)
    improvement = change if higher_is_better else -change
    return np.where(np.isnan(change), np.nan, _reaches(improvement, mid).astype(float))


def responder_status(
    baseline, follow_up, higher_is_better: bool, threshold: ResponderThreshold
) -> np.ndarray:
    """Responder status of each participant from baseline and follow-up values.

    improvement = follow_up - baseline (``higher_is_better``) or baseline - follow_up;
    responder when improvement >= ``mid``, or when 100 x improvement >=
    ``percent_improvement`` x |baseline| (undefined at baseline 0).

    Parameters
    ----------
    baseline, follow_up : array_like
        Aligned values per participant.
    higher_is_better : bool
    threshold : ResponderThreshold

    Returns
    -------
    ndarray of float
        1.0 responder, 0.0 not, NaN missing (either value missing, or a relative threshold on
        a zero baseline).

    Examples
    --------
    Timed-up-and-go seconds (lower is better), 20% improvement:

    >>> rule = ResponderThreshold(percent_improvement=20)
    >>> responder_status([10, 10, 0, 12], [8, 8.5, 1, np.nan], False, rule).tolist()
    [1.0, 0.0, nan, nan]
    """
    baseline = np.asarray(baseline, dtype=float)
    follow_up = np.asarray(follow_up, dtype=float)
    improvement = follow_up - baseline if higher_is_better else baseline - follow_up
    if threshold.mid is not None:
        reached = _reaches(improvement, threshold.mid)
        undefined = np.isnan(improvement)
    else:
        reached = _reaches(100 * improvement, threshold.percent_improvement * np.abs(baseline))
        undefined = np.isnan(improvement) | (baseline == 0)
    return np.where(undefined, np.nan, reached.astype(float))


# Over 80 lines only through its numpydoc docstring; the code itself is shorter.
def responder_rows(
    status,
    arm,
    arms: list[str],
    rule: str = "",
    missing: str = "non_responder",
    baseline=None,
    conf_level: float = 0.95,
) -> list[dict]:
    """Responder numbers from one status per participant: per arm, risk differences and
    (with ``baseline``) baseline-adjusted odds ratios.

    Parameters
    ----------
    status : array_like
        1 responder, 0 not, NaN missing, one per participant of the analysis set.
    arm : array_like
        The arm of each participant.
    arms : list of str
        Arm ids, reference first.
    rule : str
        The threshold in words, for the notes.
    missing : {"non_responder", "exclude"}
        Missing status counts as non-response (every participant in the denominator) or is
        left out (complete cases).
    baseline : array_like, optional
        Baseline values; when given, adds the logistic-regression rows
        (:func:`trialflow.stats.logistic.adjusted_odds_ratio`; participants without a
        baseline value are left out of that model).
    conf_level : float

    Returns
    -------
    list of dict
        Each with ``analysis``, ``contrast``, ``group`` and the contract's number columns:
        ``analysis = "responder"``, ``contrast = "responders"`` per arm (``group`` the arm;
        ``estimate`` the proportion, Wilson interval, ``statistic`` the number of
        responders, ``n`` the denominator); ``contrast = "<arm> - <reference>"`` per
        non-reference arm (risk difference, Newcombe hybrid score interval, Fisher exact p);
        with ``baseline``, ``analysis = "responder_logistic"`` rows (odds ratio, Wald
        interval and p; ``effect_size`` the log odds ratio).

    Examples
    --------
    >>> rows = responder_rows([1, 0, np.nan, 1, 1, 0], list("cccttt"), ["c", "t"])
    >>> [(r["contrast"], r["statistic"], r["n"]) for r in rows[:2]]
    [('responders', 1, 3), ('responders', 2, 3)]
    """
    if missing not in MISSING_POLICIES:
        raise ValueError(f"unknown missing policy {missing!r}; expected one of {MISSING_POLICIES}")
    status = np.asarray(status, dtype=float)
    arm = np.asarray(arm).astype(str)
    imputed = missing == "non_responder"
    missing_count = np.isnan(status)
    used = np.where(missing_count, 0.0, status) if imputed else status
    counts = {}
    rows = []
    for a in arms:
        in_arm = arm == a
        observed = in_arm if imputed else in_arm & ~missing_count
        k, n = int(np.nansum(used[observed])), int(observed.sum())
        counts[a] = (k, n)
        rows.append(
            {"analysis": "responder", "contrast": RESPONDER_CONTRAST, "group": a}
            | _arm_numbers(k, n, int((in_arm & missing_count).sum()), rule, imputed, conf_level)
        )
    for a in arms[1:]:
        rows.append(
            {"analysis": "responder", "contrast": between_contrast(a, arms[0]), "group": ""}
            | _difference_numbers(counts[a], counts[arms[0]], rule, imputed, conf_level)
        )
    if baseline is not None:
        data = pd.DataFrame(
            {"arm": arm, "responder": used, "baseline": np.asarray(baseline, dtype=float)}
        )
        odds = adjusted_odds_ratio(data, arms, ("baseline",), conf_level)
        for record in odds.to_dict("records"):
            a = record.pop("arm")
            record["note"] = "; ".join(filter(None, [rule, record["note"]]))
            rows.append(
                {
                    "analysis": LOGISTIC_ANALYSIS,
                    "contrast": between_contrast(a, arms[0]),
                    "group": "",
                }
                | record
            )
    return rows


def _arm_numbers(k: int, n: int, n_missing: int, rule: str, imputed: bool, conf_level: float):
    if n == 0:
        where = "no participant in this arm" if imputed else "no participant with both visits"
        return empty_numbers(f"{where}; {rule}", n=0)
    detail = rule
    if imputed and n_missing:
        detail += f"; {n_missing} missing counted as non-responders"
    low, high = wilson_interval(k, n, conf_level)
    return empty_numbers(
        f"{k}/{n} responders ({detail}); Wilson interval",
        n=n,
        estimate=k / n,
        ci_low=low,
        ci_high=high,
        statistic=k,
    )


def _difference_numbers(treated, reference, rule: str, imputed: bool, conf_level: float):
    (k1, n1), (k2, n2) = treated, reference
    if n1 == 0 or n2 == 0:
        where = "an arm has no participant" + ("" if imputed else " with both visits")
        return empty_numbers(where, n=n1 + n2)
    low, high = newcombe_interval(k1, n1, k2, n2, conf_level)
    table = np.array([[k1, n1 - k1], [k2, n2 - k2]])
    return empty_numbers(
        f"risk difference ({rule}); Newcombe hybrid score interval; Fisher exact p",
        n=n1 + n2,
        estimate=k1 / n1 - k2 / n2,
        ci_low=low,
        ci_high=high,
        p_value=fisher_exact_p(table),
    )


def responder_analysis(
    analysis: pd.DataFrame,
    outcomes: pd.DataFrame,
    study: Study,
    thresholds: Mapping[str, ResponderThreshold | Mapping[str, float] | float],
    participants: pd.DataFrame | None = None,
    missing: str = "non_responder",
    adjusted: bool = True,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Responder rows of a study at each post-baseline visit (see :func:`responder_rows`).

    Parameters
    ----------
    analysis : DataFrame
        Long analysis data: ``participant_id, arm, visit, outcome, value``; an optional
        boolean column ``ice_non_response`` (composite strategy) makes a participant a
        non-responder at that visit.
    outcomes : DataFrame
        Outcome metadata with ``outcome`` and ``higher_is_better``.
    study : Study
    thresholds : mapping
        Outcome id -> :class:`ResponderThreshold` (or its config form, see
        :meth:`ResponderThreshold.from_config`); other outcomes get no responder rows.
    participants : DataFrame, optional
        The analysis set (``participant_id, arm``): every one of them is in the denominator
        under ``missing = "non_responder"``, also without any value of the outcome. Default:
        every participant with a row in ``analysis``.
    missing : {"non_responder", "exclude"}
    adjusted : bool
        Add the baseline-adjusted logistic-regression rows (``responder_logistic``).
    conf_level : float

    Returns
    -------
    DataFrame
        Contract rows (keys ``study, outcome, visit, analysis, contrast, group`` and the
        number columns), outcomes sorted, visits in study order.
    """
    direction = dict(
        zip(
            outcomes["outcome"].astype(str), outcomes["higher_is_better"].astype(bool), strict=True
        )
    )
    rules = {str(k): ResponderThreshold.from_config(v) for k, v in thresholds.items()}
    roster = _roster(analysis, participants, study)
    rows = []
    for outcome in outcome_ids(analysis):
        if outcome not in rules:
            continue
        threshold, better = rules[outcome], direction.get(outcome, True)
        wide = wide_by_visit(analysis, outcome, study).reindex(roster.index)
        ice = _ice_flags(analysis, outcome, study, roster.index)
        for visit in study.post_baseline:
            status = responder_status(wide[study.baseline.id], wide[visit.id], better, threshold)
            status = np.where(ice[visit.id].to_numpy(bool), 0.0, status)
            keys = {"study": study.id, "outcome": outcome, "visit": visit.id}
            for row in responder_rows(
                status,
                roster["arm"].to_numpy(),
                study.arm_ids,
                threshold.describe(better),
                missing,
                wide[study.baseline.id].to_numpy(float) if adjusted else None,
                conf_level,
            ):
                rows.append(keys | row)
    return keyed_rows(rows)


def _roster(analysis: pd.DataFrame, participants: pd.DataFrame | None, study: Study):
    people = analysis if participants is None else participants
    roster = people[["participant_id", "arm"]].drop_duplicates("participant_id")
    roster = roster.loc[roster["arm"].astype(str).isin(study.arm_ids)]
    roster = roster.assign(arm=roster["arm"].astype(str)).set_index("participant_id")
    return roster.sort_index()


def _ice_flags(analysis: pd.DataFrame, outcome: str, study: Study, index) -> pd.DataFrame:
    if "ice_non_response" not in analysis.columns:
        return pd.DataFrame(False, index=index, columns=study.visit_ids)
    rows = analysis.loc[analysis["outcome"] == outcome]
    flags = (
        rows.assign(flag=rows["ice_non_response"].fillna(False).astype(bool))
        .groupby(["participant_id", "visit"], sort=True)["flag"]
        .max()
        .unstack("visit")
    )
    flags.columns = [str(c) for c in flags.columns]
    return flags.reindex(index=index, columns=study.visit_ids).fillna(False).astype(bool)


def responders(
    analysis: pd.DataFrame,
    outcomes: pd.DataFrame,
    study: Study,
    conf_level: float = 0.95,
    participants: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Responder rows for the outcomes with a responder threshold in ``study.analysis``
    (``responders.thresholds``, else the ``minimal_important_difference``): the rows
    ``analyse_study`` writes.

    :func:`responder_analysis` with the study's thresholds and ``responders.missing``
    policy, and the baseline-adjusted odds ratio for designs with two or more arms.

    Parameters
    ----------
    analysis : DataFrame
        Long analysis data: ``participant_id, arm, visit, outcome, value``.
    outcomes : DataFrame
        Outcome metadata with ``outcome`` and ``higher_is_better``.
    study : Study
    conf_level : float
    participants : DataFrame, optional
        The analysis set (every one of them counts under ``missing: non_responder``);
        default the participants with a row in ``analysis``.

    Returns
    -------
    DataFrame
        Contract rows with ``analysis = "responder"``: per arm (``contrast = "responders"``,
        ``group`` the arm) the proportion with its Wilson interval and ``statistic`` the
        number of responders; per non-reference arm the risk difference against the reference
        arm with Newcombe's hybrid score interval and Fisher's exact p; and
        ``responder_logistic`` rows (odds ratio adjusted for baseline) per non-reference arm.
    """
    return responder_analysis(
        analysis,
        outcomes,
        study,
        study.analysis.responder_thresholds(),
        participants=participants,
        missing=study.analysis.responders.missing,
        adjusted=not study.single_arm,
        conf_level=conf_level,
    )
