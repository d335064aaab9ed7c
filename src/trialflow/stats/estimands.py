"""Estimands (ICH E9(R1)): intercurrent-event strategies applied to the analysis data, and the
analysis sets (full analysis, per protocol, completers).

The roster may carry one intercurrent event per participant (the first): ``ice_visit``, the
first visit whose value the event affects, and ``ice_type`` (free text, e.g.
``discontinued_treatment``, ``rescue_medication``). A value is *after the event* when its
visit's week is at or after the week of ``ice_visit``. Strategies:

``treatment_policy``
    Values after the event are kept as observed (missing ones stay missing and are handled
    under MAR by the MMRM).
``hypothetical``
    Values after the event are set aside (their rows removed); the MMRM, under MAR, then
    targets the outcome had the event not occurred.
``while_on_treatment``
    At every visit after the event the value is the last non-missing *post-baseline* value
    before the event (column ``carried_from`` names its visit); without one (the event
    precedes every post-baseline value) the value is missing. Baseline is not carried: it is
    no response to treatment.
``composite``
    For responder outcomes only: the event counts as non-response. Values are kept and rows
    after the event are flagged ``ice_non_response`` (added, with a missing value, where the
    participant has no row), which :func:`trialflow.stats.responders.responder_analysis`
    reads.

``principal_stratum`` is not supported (ValueError).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import Study
from ..errors import InputError, InputProblem
from ..membership import is_in

STRATEGIES = ("treatment_policy", "hypothetical", "while_on_treatment", "composite")
ANALYSIS_SETS = ("full_analysis", "per_protocol", "completers")
COUNT_COLUMNS = ("arm", "ice_type", "strategy", "action", "n")
EXCLUSION_COLUMNS = ("arm", "reason", "n")

# roster flags such as per_protocol and received_allocation (after strip + lower case)
TRUE_TEXT = ("true", "t", "yes", "y", "1", "1.0")
FALSE_TEXT = ("false", "f", "no", "n", "0", "0.0")


@dataclass(frozen=True)
class EstimandData:
    """The analysis data after the intercurrent-event strategies.

    Attributes
    ----------
    data : DataFrame
        The long analysis data with ``after_ice`` (bool), ``ice_non_response`` (bool) and
        ``carried_from`` (visit id or "") added; rows set aside by a hypothetical strategy
        removed.
    counts : DataFrame
        ``arm, ice_type, strategy, action, n`` with ``action`` one of ``participants``
        (with the event), ``values_kept`` (treatment policy), ``values_set_aside``
        (hypothetical), ``values_carried`` and ``values_missing`` (while on treatment: filled
        from the last on-treatment value / none available), ``non_response`` (composite:
        participant-visits counted as non-response).
    """

    data: pd.DataFrame
    counts: pd.DataFrame


@dataclass(frozen=True)
class AnalysisSet:
    """Participants of an analysis set.

    Attributes
    ----------
    name : str
    participants : DataFrame
        The roster rows in the set.
    data : DataFrame
        The long analysis data of those participants.
    excluded : DataFrame
        ``arm, reason, n``: the randomised participants not in the set, by reason.
    """

    name: str
    participants: pd.DataFrame
    data: pd.DataFrame
    excluded: pd.DataFrame


def roster_flag(roster: pd.DataFrame, column: str) -> pd.Series:
    """A yes/no roster column as booleans with missing values (pandas ``boolean``).

    ``true, t, yes, y, 1`` are True and ``false, f, no, n, 0`` False (case-insensitive,
    surrounding blanks ignored; numbers 1 and 0 and booleans as such); blank or NaN is
    missing (``<NA>``).

    Parameters
    ----------
    roster : DataFrame
        With ``column`` (and optionally ``source_file``, ``source_row`` for messages).
    column : str

    Returns
    -------
    Series of dtype boolean

    Raises
    ------
    InputError
        Listing every other value with its file, row and column.

    Examples
    --------
    >>> roster_flag(pd.DataFrame({"pp": ["Yes", "0", " ", "TRUE"]}), "pp").tolist()
    [True, False, <NA>, True]
    """
    text = roster[column].astype("string").str.strip().str.lower()
    flags = pd.Series(pd.NA, index=roster.index, dtype="boolean")
    flags[text.isin(TRUE_TEXT).fillna(False).to_numpy(bool)] = True
    flags[text.isin(FALSE_TEXT).fillna(False).to_numpy(bool)] = False
    bad = text.notna() & (text != "") & flags.isna()
    if bad.any():
        files = roster.get("source_file", pd.Series("participants.csv", index=roster.index))
        rows = roster.get("source_row", pd.Series(np.arange(len(roster)) + 2, index=roster.index))
        expected = "yes/no: one of " + ", ".join(TRUE_TEXT[:5] + FALSE_TEXT[:5]) + " or blank"
        raise InputError(
            [
                InputProblem(str(files[i]), int(rows[i]), column, roster.at[i, column], expected)
                for i in roster.index[bad.to_numpy(bool)]
            ]
        )
    return flags


def _visit_weeks(study: Study) -> pd.Series:
    return pd.Series({v.id: v.week for v in study.visits}, dtype=float)


def intercurrent_events(roster: pd.DataFrame, study: Study) -> pd.DataFrame:
    """The participants with an intercurrent event and the week from which it applies.

    Parameters
    ----------
    roster : DataFrame
        ``participant_id, arm`` and optionally ``ice_visit``, ``ice_type``.
    study : Study

    Returns
    -------
    DataFrame
        ``participant_id, arm, ice_visit, ice_type, ice_week``, one row per participant with
        a non-blank ``ice_visit`` (``ice_type`` "" when blank or absent).

    Raises
    ------
    InputError
        When an ``ice_visit`` is not a post-baseline visit of the study.
    """
    columns = ["participant_id", "arm", "ice_visit", "ice_type", "ice_week"]
    if "ice_visit" not in roster.columns:
        return pd.DataFrame(columns=columns)
    visit = roster["ice_visit"].astype("string").str.strip()
    has = (visit.notna() & (visit != "")).to_numpy(bool)
    events = roster.loc[has, ["participant_id", "arm"]].copy()
    events["ice_visit"] = visit[has].astype(str).to_numpy()
    kind = roster["ice_type"] if "ice_type" in roster.columns else pd.Series("", roster.index)
    events["ice_type"] = kind[has].astype("string").fillna("").str.strip().astype(str).to_numpy()
    weeks = _visit_weeks(study)
    post = [v.id for v in study.post_baseline]
    bad = ~events["ice_visit"].isin(post)
    if bad.any():
        files = roster.get("source_file", pd.Series("participants.csv", index=roster.index))
        rows = roster.get("source_row", pd.Series(np.arange(len(roster)) + 2, index=roster.index))
        raise InputError(
            [
                InputProblem(
                    str(files[i]),
                    int(rows[i]),
                    "ice_visit",
                    events.at[i, "ice_visit"],
                    "a post-baseline visit id: " + ", ".join(post),
                )
                for i in events.index[bad.to_numpy(bool)]
            ]
        )
    events["ice_week"] = events["ice_visit"].map(weeks).astype(float)
    events["arm"] = events["arm"].astype(str)
    return events[columns].reset_index(drop=True)


def _strategy_of(events: pd.DataFrame, strategies, default: str) -> pd.Series:
    names = [strategies] if isinstance(strategies, str) else list(dict(strategies).values())
    for name in [*names, default]:
        if name == "principal_stratum":
            raise ValueError("intercurrent-event strategy 'principal_stratum' is not supported")
        if name not in STRATEGIES:
            raise ValueError(
                f"unknown intercurrent-event strategy {name!r}; expected {STRATEGIES}"
            )
    if isinstance(strategies, str):
        return pd.Series(strategies, index=events.index, dtype=object)
    return events["ice_type"].map(dict(strategies)).fillna(default).astype(object)


# Over 80 lines only through its numpydoc docstring; the code itself is shorter.
def apply_intercurrent_events(
    analysis: pd.DataFrame,
    roster: pd.DataFrame,
    study: Study,
    strategies: str | Mapping[str, str] = "treatment_policy",
    default: str = "treatment_policy",
) -> EstimandData:
    """Apply intercurrent-event strategies to the long analysis data.

    Parameters
    ----------
    analysis : DataFrame
        Long analysis data: ``participant_id, arm, visit, outcome, value`` (+ ``week`` and
        covariates, kept).
    roster : DataFrame
        ``participant_id, arm`` and optionally ``ice_visit``, ``ice_type``; without
        ``ice_visit`` nobody has an event and the data come back unchanged (plus the marker
        columns).
    study : Study
    strategies : str or mapping
        One strategy for every event, or ``{ice_type: strategy}`` as in the estimand's
        ``intercurrent_events: [{type, strategy}]``.
    default : str
        Strategy for event types missing from ``strategies`` (and for a blank type).

    Returns
    -------
    EstimandData
        ``data`` and ``counts`` (see :class:`EstimandData`).

    Raises
    ------
    ValueError
        For ``principal_stratum`` ("not supported") or an unknown strategy.
    InputError
        For an ``ice_visit`` that is not a post-baseline visit.

    Examples
    --------
    Participant p1 discontinues from week 8 (``ice_visit = week8``); under the hypothetical
    strategy the week 8 and week 12 values are set aside:

    >>> from trialflow.config import Arm, Study, Visit
    >>> study = Study("s", "s", "parallel", "", (Arm("c", "c"), Arm("t", "t")),
    ...     (Visit("baseline", "B", 0, "baseline"), Visit("week8", "W8", 8, "treatment"),
    ...      Visit("week12", "W12", 12, "end_of_treatment")), ())
    >>> data = pd.DataFrame({"participant_id": "p1", "arm": "t", "outcome": "y",
    ...     "visit": ["baseline", "week8", "week12"], "value": [10.0, 12.0, 15.0]})
    >>> roster = pd.DataFrame({"participant_id": ["p1"], "arm": ["t"],
    ...     "ice_visit": ["week8"], "ice_type": ["discontinued_treatment"]})
    >>> apply_intercurrent_events(data, roster, study, "hypothetical").data["visit"].tolist()
    ['baseline']
    """
    events = intercurrent_events(roster, study)
    events["strategy"] = _strategy_of(events, strategies, default)
    weeks = _visit_weeks(study)
    filled = events.loc[events["strategy"].isin(["while_on_treatment", "composite"])]
    data = _with_missing_rows(analysis, filled, study)
    week = data["visit"].astype(str).map(weeks).to_numpy(float)
    lookup = events.set_index("participant_id")
    ice_week = data["participant_id"].map(lookup["ice_week"]).to_numpy(float)
    strategy = data["participant_id"].map(lookup["strategy"]).astype(object).fillna("")
    strategy = strategy.to_numpy(str)
    with np.errstate(invalid="ignore"):
        after = week >= ice_week  # NaN (no event) compares False
    data = data.assign(
        after_ice=after,
        ice_non_response=after & (strategy == "composite"),
        carried_from="",
    )
    present = data["value"].notna().to_numpy()
    actions = pd.DataFrame(
        {
            "participant_id": data["participant_id"].to_numpy(),
            "kept": after & (strategy == "treatment_policy") & present,
            "set_aside": after & (strategy == "hypothetical") & present,
            "non_response": data["ice_non_response"].to_numpy(bool),
        }
    )
    wot = after & (strategy == "while_on_treatment")
    data, carried = _carry_on_treatment(data, wot, week, ice_week, study)
    actions["carried"] = wot & carried
    actions["not_carried"] = wot & ~carried
    data = data.loc[~(after & (strategy == "hypothetical"))].reset_index(drop=True)
    return EstimandData(data=data, counts=_ice_counts(events, actions))


def _with_missing_rows(analysis: pd.DataFrame, events: pd.DataFrame, study: Study):
    """Add rows (value missing) at every visit from the event on where a participant with a
    while-on-treatment or composite event has none, one per outcome they have data on."""
    if events.empty:
        return analysis.reset_index(drop=True)
    template = analysis.loc[is_in(analysis["participant_id"], events["participant_id"])]
    template = template.drop_duplicates(["participant_id", "outcome"])
    visits = pd.DataFrame({"_visit": study.visit_ids, "_week": [v.week for v in study.visits]})
    grid = template.merge(events[["participant_id", "ice_week"]], on="participant_id")
    grid = grid.merge(visits, how="cross")
    grid = grid.loc[grid["_week"] >= grid["ice_week"]]
    have = analysis[["participant_id", "outcome", "visit"]].drop_duplicates()
    have = have.assign(_visit=have["visit"].astype(str)).drop(columns="visit")
    grid = grid.merge(have, on=["participant_id", "outcome", "_visit"], how="left", indicator=True)
    grid = grid.loc[grid["_merge"] == "left_only"].drop(columns="_merge")
    grid["visit"] = grid["_visit"]
    grid["value"] = np.nan
    if "week" in grid.columns:
        grid["week"] = grid["_week"]
    grid = grid.sort_values(["participant_id", "outcome", "_week"], kind="mergesort")
    added = grid[list(analysis.columns)]
    if added.empty:
        return analysis.reset_index(drop=True)
    return pd.concat([analysis, added], ignore_index=True)


def _carry_on_treatment(data, targets, week, ice_week, study: Study):
    """Replace target values by the last non-missing post-baseline value before the event."""
    carried = np.zeros(len(data), dtype=bool)
    if not targets.any():
        return data, carried
    on_treatment = (
        (week > study.baseline.week) & (week < ice_week) & data["value"].notna().to_numpy()
    )
    source = data.loc[on_treatment, ["participant_id", "outcome", "visit", "value"]]
    source = source.assign(_week=week[on_treatment]).sort_values("_week", kind="mergesort")
    last = source.groupby(["participant_id", "outcome"], sort=False).last()
    wanted = data.loc[targets, ["participant_id", "outcome"]]
    found = wanted.merge(
        last[["visit", "value"]], left_on=["participant_id", "outcome"], right_index=True,
        how="left",
    )  # fmt: skip
    values = data["value"].to_numpy(float).copy()
    values[targets] = found["value"].to_numpy(float)
    origin = data["carried_from"].to_numpy(object).copy()
    origin[targets] = found["visit"].fillna("").astype(str).to_numpy()
    carried[targets] = found["value"].notna().to_numpy()
    return data.assign(value=values, carried_from=origin), carried


def _ice_counts(events: pd.DataFrame, actions: pd.DataFrame) -> pd.DataFrame:
    if events.empty:
        return pd.DataFrame(columns=list(COUNT_COLUMNS))
    keys = ["arm", "ice_type", "strategy"]
    people = events.groupby(keys, sort=True).size().rename("participants")
    per_row = actions.merge(events[["participant_id", *keys]], on="participant_id")
    names = {
        "kept": "values_kept",
        "set_aside": "values_set_aside",
        "carried": "values_carried",
        "not_carried": "values_missing",
        "non_response": "non_response",
    }
    sums = per_row.groupby(keys, sort=True)[list(names)].sum().rename(columns=names)
    table = pd.concat([people, sums], axis=1).fillna(0).astype(int).reset_index()
    long = table.melt(id_vars=keys, var_name="action", value_name="n")
    order = ["participants", *names.values()]
    long["_order"] = long["action"].map({name: i for i, name in enumerate(order)})
    long = long.sort_values([*keys, "_order"], kind="mergesort")
    long = long.loc[(long["action"] == "participants") | (long["n"] > 0)]
    return long[list(COUNT_COLUMNS)].reset_index(drop=True)


# Over 80 lines only through its numpydoc docstring; the code itself is shorter.
def analysis_set(
    roster: pd.DataFrame,
    analysis: pd.DataFrame,
    study: Study,
    name: str = "full_analysis",
    outcome: str | None = None,
    through_visit: str | None = None,
) -> AnalysisSet:
    """The participants of an analysis set and who was left out, by reason.

    ``full_analysis``
        Every randomised participant: each roster row whose ``arm`` is one of the study's
        arms, whether or not they have any data.
    ``per_protocol``
        The randomised participants whose roster column ``per_protocol`` is yes (see
        :func:`roster_flag` for the accepted values). Reasons: "not per protocol" (no) and
        "per-protocol status missing" (blank).
    ``completers``
        For one ``outcome``: the randomised participants with a non-missing value of it at
        every post-baseline visit (up to and including ``through_visit``, default the last)
        at which the outcome was measured in anyone. Baseline is not required (the model
        decides what to do without it). Reason: "missing <outcome> at <visit>", the first
        visit missed.

    Parameters
    ----------
    roster : DataFrame
        ``participant_id, arm`` (+ ``per_protocol``).
    analysis : DataFrame
        Long analysis data (``participant_id, visit, outcome, value``).
    study : Study
    name : {"full_analysis", "per_protocol", "completers"}
    outcome : str, optional
        Required for ``completers``.
    through_visit : str, optional
        Last visit considered for ``completers``.

    Returns
    -------
    AnalysisSet

    Raises
    ------
    ValueError
        Unknown set, ``per_protocol`` without the roster column, ``completers`` without an
        outcome or with an unknown visit.

    Examples
    --------
    >>> from trialflow.config import Arm, Study, Visit
    >>> study = Study("s", "s", "parallel", "", (Arm("c", "c"), Arm("t", "t")),
    ...     (Visit("baseline", "B", 0, "baseline"), Visit("week8", "W8", 8, "end_of_treatment")), ())
    >>> roster = pd.DataFrame({"participant_id": ["a", "b", "c"], "arm": ["c", "t", "t"],
    ...     "per_protocol": ["yes", "no", ""]})
    >>> chosen = analysis_set(roster, roster.iloc[:0], study, "per_protocol")
    >>> chosen.participants["participant_id"].tolist()
    ['a']
    >>> chosen.excluded.values.tolist()
    [['t', 'not per protocol', 1], ['t', 'per-protocol status missing', 1]]
    """
    if name not in ANALYSIS_SETS:
        raise ValueError(f"unknown analysis set {name!r}; expected one of {ANALYSIS_SETS}")
    randomised = roster.loc[roster["arm"].astype(str).isin(study.arm_ids)]
    reason = pd.Series("", index=randomised.index, dtype=object)
    if name == "per_protocol":
        if "per_protocol" not in roster.columns:
            raise ValueError(
                "analysis set per_protocol needs a yes/no roster column 'per_protocol'"
            )
        flag = roster_flag(randomised, "per_protocol")
        reason[(~flag).fillna(False).to_numpy(bool)] = "not per protocol"
        reason[flag.isna().to_numpy(bool)] = "per-protocol status missing"
    elif name == "completers":
        reason = _completer_reasons(randomised, analysis, study, outcome, through_visit)
    keep = (reason == "").to_numpy(bool)
    chosen = randomised.loc[keep]
    excluded = (
        pd.DataFrame({"arm": randomised["arm"].astype(str), "reason": reason})
        .loc[~keep]
        .groupby(["arm", "reason"], sort=False)
        .size()
        .rename("n")
        .reset_index()
    )
    rank = excluded["arm"].map({arm: i for i, arm in enumerate(study.arm_ids)})
    excluded = excluded.assign(_rank=rank).sort_values(["_rank", "reason"], kind="mergesort")
    excluded = excluded.reset_index(drop=True)
    data = analysis.loc[is_in(analysis["participant_id"], chosen["participant_id"])]
    return AnalysisSet(
        name=name,
        participants=chosen.reset_index(drop=True),
        data=data.reset_index(drop=True),
        excluded=excluded[list(EXCLUSION_COLUMNS)],
    )


def _completer_reasons(randomised, analysis, study: Study, outcome, through_visit) -> pd.Series:
    if outcome is None:
        raise ValueError("analysis set completers is defined per outcome: give outcome")
    post = [v.id for v in study.post_baseline]
    if through_visit is not None:
        if through_visit not in post:
            raise ValueError(f"through_visit {through_visit!r} is not a post-baseline visit")
        post = post[: post.index(through_visit) + 1]
    rows = analysis.loc[(analysis["outcome"] == outcome) & analysis["value"].notna()]
    measured = [v for v in post if (rows["visit"] == v).any()]
    observed = (
        rows.assign(_seen=True)
        .pivot_table(index="participant_id", columns="visit", values="_seen", aggfunc="any")
        .reindex(index=randomised["participant_id"], columns=measured)
        .fillna(False)
        .astype(bool)
    )
    reason = pd.Series("", index=randomised.index, dtype=object)
    missed = ~observed.to_numpy()
    if missed.size:
        first = np.array(measured, dtype=object)[missed.argmax(axis=1)]
        text = np.char.add(f"missing {outcome} at ", first.astype(str))
        reason[:] = np.where(missed.any(axis=1), text, "")
    return reason
