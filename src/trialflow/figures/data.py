"""What each figure draws, as data: changes from baseline, standardised effects, Q-Q cells.

The statistics themselves live in :mod:`trialflow.stats` (:func:`~trialflow.stats.mean_ci`,
the ``standardised_difference`` effect sizes of ``results.csv``,
:func:`~trialflow.stats.qq_points`, ``participant_flow.csv``); this module picks the rows and
values a figure shows, through :class:`trialflow.reported.ReportedResults` so that figures
quote the rows the tables quote.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from trialflow.config import Study
from trialflow.membership import is_in
from trialflow.reported import TEST_NAMES, WITHIN_TESTS, ReportedResults, outcome_labels
from trialflow.stats.contract import (
    VALUES_CONTRAST,
    between_contrast,
    split_within_contrast,
    within_contrast,
)
from trialflow.stats.descriptives import mean_ci

__all__ = [
    "EFFECT_COLUMNS",
    "SUMMARY_COLUMNS",
    "changes",
    "outcome_wide",
    "qq_cells",
    "standardised_effects",
    "trajectory_lines",
    "trajectory_summary",
]

SUMMARY_COLUMNS = ("arm", "week", "mean", "ci_low", "ci_high", "n")

EFFECT_COLUMNS = (
    "outcome",
    "label",
    "comparison",
    "source",
    "estimate",
    "ci_low",
    "ci_high",
    "p_value",
    "direction",
    "smd",
    "smd_low",
    "smd_high",
    "n_by_arm",
)
STANDARDISED = "standardised_difference"


def outcome_wide(data: pd.DataFrame) -> pd.DataFrame:
    """One outcome's long rows as one row per ``(arm, participant_id)``, one column per visit.

    Sorted by arm and participant id; a visit without any value is left out. Reshaping once
    per outcome keeps every change a figure draws O(n) however many arms and visits it shows.
    """
    return data.pivot_table(
        index=["arm", "participant_id"], columns="visit", values="value", sort=True
    )


def changes(
    data: pd.DataFrame,
    arm: str,
    visit: str,
    against: str,
    wide: pd.DataFrame | None = None,
) -> pd.Series:
    """Each participant's change ``visit - against`` in ``arm`` (one outcome's long rows).

    Parameters
    ----------
    data : pandas.DataFrame
        One outcome's long rows (``participant_id, arm, visit, value``).
    arm, visit, against : str
        The arm, and the visits subtracted (``visit - against``).
    wide : pandas.DataFrame, optional
        :func:`outcome_wide` of ``data``, when the caller has it already.

    Returns
    -------
    pandas.Series
        By participant id (sorted); participants missing either visit are left out.
    """
    if wide is None:
        wide = outcome_wide(data) if len(data) else pd.DataFrame()
    if wide.empty:
        return pd.Series(dtype=float)
    arms = wide.index.get_level_values("arm")
    if arm not in arms or visit not in wide.columns or against not in wide.columns:
        return pd.Series(dtype=float)
    sub = wide.xs(arm, level="arm")
    return (sub[visit] - sub[against]).dropna()


def trajectory_summary(data: pd.DataFrame, arms: list[str]) -> pd.DataFrame:
    """Mean and t-based 95% CI (:func:`~trialflow.stats.mean_ci`) per arm and week, from
    every participant of one outcome's long rows.

    Returns
    -------
    pandas.DataFrame
        :data:`SUMMARY_COLUMNS`, arms in ``arms`` order, weeks increasing.
    """
    rows = []
    for (arm, week), values in data.groupby(["arm", "week"], sort=True)["value"]:
        if arm in arms:
            rows.append((arm, week, *mean_ci(values.to_numpy(dtype=float))))
    frame = pd.DataFrame(rows, columns=["arm", "week", "mean", "ci_low", "ci_high", "n"])
    frame["order"] = frame["arm"].map({a: i for i, a in enumerate(arms)})
    frame = frame.sort_values(["order", "week"], kind="stable").drop(columns="order")
    return frame.reset_index(drop=True)


def trajectory_lines(
    data: pd.DataFrame, arms: list[str], sample: int, seed: int
) -> dict[str, tuple[list[np.ndarray], int]]:
    """The individual trajectories a figure draws: at most ``sample`` participants per arm.

    Per arm, the participants with at least one value; when there are more than ``sample``,
    ``sample`` of them drawn without replacement by a NumPy generator seeded with
    ``(seed, arm position)`` from the sorted ids, so the same data and seed give the same
    lines on every run and in every process.

    Parameters
    ----------
    data : pandas.DataFrame
        One outcome's long rows (``participant_id, arm, week, value``).
    arms : list of str
        Arm ids in order.
    sample : int
        Lines per arm at most.
    seed : int
        Seed of the draw.

    Returns
    -------
    dict
        Arm id -> (list of ``(k, 2)`` arrays of ``(week, value)``, one per participant shown,
        weeks increasing; the number of participants with a value in the arm).
    """
    valid = data.loc[np.isfinite(data["value"].to_numpy(dtype=float))]
    lines = {}
    for position, arm in enumerate(arms):
        sub = valid[valid["arm"] == arm]
        ids = np.sort(sub["participant_id"].unique())
        total = len(ids)
        if total > sample:
            rng = np.random.default_rng([seed, position])
            chosen = np.sort(rng.choice(ids, size=sample, replace=False))
            sub = sub[is_in(sub["participant_id"], chosen)]
        sub = sub.sort_values(["participant_id", "week"], kind="stable")
        xy = sub[["week", "value"]].to_numpy(dtype=float)
        pid = sub["participant_id"].to_numpy()
        starts = np.flatnonzero(pid[1:] != pid[:-1]) + 1 if len(pid) else np.array([], int)
        lines[arm] = ([part for part in np.split(xy, starts) if len(part)], total)
    return lines


def standardised_effects(
    study: Study,
    analysis: pd.DataFrame,
    outcomes: pd.DataFrame,
    results: pd.DataFrame,
    by_outcome: Mapping[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Standardised effects for the forest plot, oriented so that positive = improvement.

    The model-based rows' ``standardised_difference`` and its interval from ``results.csv``
    (the estimate over the pooled within-arm baseline SD of the participants in the model):
    parallel designs, the between-arm difference at the primary visit by the primary
    analysis's method (ANCOVA unless the plan says MMRM; the other model where that row is
    missing or empty); single-arm designs, the MMRM change from baseline at each later
    visit. Lower-is-better outcomes have their sign flipped (and limits swapped).

    Parameters
    ----------
    study, analysis, outcomes, results
        The study, long analysis data, outcome metadata and ``results.csv`` rows.
    by_outcome : mapping, optional
        ``analysis`` split by outcome, when the caller has it already.

    Returns
    -------
    pandas.DataFrame
        :data:`EFFECT_COLUMNS`; sorted in outcome-metadata order; ``n_by_arm`` the
        participants with baseline and visit values per arm (``"19/20"``, study arm order).
    """
    res = ReportedResults(results, study)
    labels = outcome_labels(outcomes)
    higher = dict(
        zip(outcomes["outcome"], outcomes["higher_is_better"].astype(bool), strict=False)
    )
    # each outcome's rows split off once: filtering the whole long table per outcome would
    # cost outcomes x rows
    if by_outcome is None:
        by_outcome = dict(tuple(analysis.groupby("outcome", sort=False, observed=True)))
    rows = []
    for outcome in (o for o in outcomes["outcome"].drop_duplicates() if o in by_outcome):
        direction = 1.0 if higher.get(outcome, True) else -1.0
        for comparison, hit in _forest_rows(res, study, outcome):
            if hit is None or hit["effect_size_name"] != STANDARDISED:
                continue
            limits = direction * np.array([hit["effect_size_ci_low"], hit["effect_size_ci_high"]])
            rows.append(
                {
                    "outcome": outcome,
                    "label": labels[outcome],
                    "comparison": comparison,
                    "source": hit["analysis"],
                    "estimate": hit["estimate"],
                    "ci_low": hit["ci_low"],
                    "ci_high": hit["ci_high"],
                    "p_value": hit["p_value"],
                    "direction": direction,
                    "smd": direction * hit["effect_size"],
                    "smd_low": float(np.min(limits)),
                    "smd_high": float(np.max(limits)),
                    "n_by_arm": _n_by_arm(by_outcome[outcome], study, hit["visit"]),
                }
            )
    return pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))


def _n_by_arm(rows: pd.DataFrame, study: Study, visit: str) -> str:
    """``"19/20"``: per arm (study order), the participants with a value at baseline and at
    ``visit`` (the pairs the change and the baseline-adjusted models use), from one
    outcome's long rows."""
    rows = rows.loc[rows["value"].notna()]
    at_baseline = rows.loc[rows["visit"] == study.baseline.id, "participant_id"]
    later = rows.loc[rows["visit"] == visit, ["participant_id", "arm"]]
    both = later.loc[is_in(later["participant_id"], at_baseline)].drop_duplicates("participant_id")
    counts = both["arm"].value_counts()
    return "/".join(str(int(counts.get(arm, 0))) for arm in study.arm_ids)


def forest_method(study: Study) -> str:
    """The model the forest plot of a parallel study shows: the primary analysis's method
    when it is a model, else ANCOVA."""
    primary = study.analysis.primary
    return primary.method if primary is not None and primary.method == "mmrm" else "ancova"


def _forest_rows(
    res: ReportedResults, study: Study, outcome: str
) -> list[tuple[str, pd.Series | None]]:
    """``(comparison, results row)`` of each effect the forest plot shows."""
    arm_labels = {a.id: a.label for a in study.arms}
    ref = study.reference_arm.id
    baseline = study.baseline.id
    if study.single_arm:
        return [
            (
                f"{v.label} vs {study.baseline.label}",
                res.model(outcome, v.id, "mmrm", within_contrast(v.id, baseline), ref),
            )
            for v in study.post_baseline
        ]
    visit = study.primary_visit.id
    first = forest_method(study)
    methods = [first, "mmrm" if first == "ancova" else "ancova"]
    hits = []
    for arm in study.arm_ids[1:]:
        found = [res.model(outcome, visit, m, between_contrast(arm, ref)) for m in methods]
        found = [c for c in found if c is not None]
        # an empty row (model not estimable) gives way to the other model
        usable = [c for c in found if np.isfinite(c["effect_size"])]
        hits.append((f"{arm_labels[arm]} vs {arm_labels[ref]}", (usable or found or [None])[0]))
    return hits


def qq_cells(
    study: Study,
    analysis: pd.DataFrame,
    results: pd.DataFrame,
    outcome: str,
    wide: pd.DataFrame | None = None,
    reported: ReportedResults | None = None,
) -> list[dict]:
    """The distributions whose normality chose a test, for Q-Q plots.

    Two kinds of cell, as in the pipeline's selection rule
    (:func:`trialflow.stats.select_reported`):

    * ``change``: per arm, each within-arm change (``later - earlier``) that ``results``
      tested with a paired t or Wilcoxon test (all post-baseline visits versus baseline when
      it has none). These also decide the between-arm test on change.
    * ``values``: per arm and visit, the values, wherever ``results`` has a Shapiro-Wilk row
      for them. They decide the between-arm test on values (parallel designs) or the test
      across visits (single-arm designs).

    ``wide`` is :func:`outcome_wide` of the outcome's rows, and ``reported`` the
    :class:`~trialflow.reported.ReportedResults` of ``results``, when the caller has them
    already (selecting the reported rows once per study, not once per figure).

    Returns
    -------
    list of dict
        ``arm, kind, contrast`` (``later - earlier`` or the visit id), ``values``, ``test``
        (name of the reported test that the cell fed, or empty) and ``shapiro_p`` (the
        Shapiro-Wilk p of the matching results row, or NaN).
    """
    res = reported if reported is not None else ReportedResults(results, study)
    mine = res.rows(outcome=outcome)
    shapiro = mine[mine["analysis"] == "shapiro_wilk"]
    shapiro_p = _shapiro_lookup(shapiro)
    data = analysis[analysis["outcome"] == outcome]
    if wide is None:
        wide = outcome_wide(data) if len(data) else pd.DataFrame()
    cells = []
    for arm, visit, contrast in _change_cells(study, mine):
        later, earlier = split_within_contrast(contrast)
        values = changes(data, arm, later, earlier, wide)
        if len(values):
            cells.append(
                {
                    "arm": arm,
                    "kind": "change",
                    "contrast": contrast,
                    "values": values.to_numpy(dtype=float),
                    "test": _test_name(res.within(outcome, later, earlier, arm)),
                    "shapiro_p": shapiro_p.get((arm, visit, contrast), np.nan),
                }
            )
    return cells + _value_cells(study, res, shapiro, shapiro_p, data, outcome)


def _change_cells(study: Study, rows: pd.DataFrame) -> list[tuple[str, str, str]]:
    """``(arm, visit, contrast)`` of the within-arm changes tested, in study order."""
    arm_rank = {a: i for i, a in enumerate(study.arm_ids)}
    visit_rank = {v: i for i, v in enumerate(study.visit_ids)}
    within = rows[rows["analysis"].isin(WITHIN_TESTS)]
    pairs = sorted(
        {(r.group, r.visit, r.contrast) for r in within.itertuples(index=False)},
        key=lambda t: (arm_rank.get(t[0], 99), visit_rank.get(t[1], 99), t[2]),
    )
    if not pairs:
        base = study.baseline.id
        pairs = [
            (a, v.id, within_contrast(v.id, base))
            for a in study.arm_ids
            for v in study.post_baseline
        ]
    return pairs


def _value_cells(
    study: Study,
    res: ReportedResults,
    shapiro: pd.DataFrame,
    shapiro_p: dict[tuple[str, str, str], float],
    data: pd.DataFrame,
    outcome: str,
) -> list[dict]:
    arm_rank = {a: i for i, a in enumerate(study.arm_ids)}
    visit_rank = {v: i for i, v in enumerate(study.visit_ids)}
    value_cells = shapiro.loc[shapiro["contrast"] == VALUES_CONTRAST, ["group", "visit"]]
    ref = study.reference_arm.id
    other = next((a for a in study.arm_ids if a != ref), None)
    cells = []
    tests: dict[str, str] = {}  # the test each visit's values fed, whatever the arm
    # each cell's values, rows in data order (one split, not a filter per cell)
    by_cell = dict(tuple(data.groupby(["arm", "visit"], sort=False, observed=True)["value"]))
    for arm, visit in sorted(
        set(value_cells.itertuples(index=False, name=None)),
        key=lambda t: (arm_rank.get(t[0], 99), visit_rank.get(t[1], 99)),
    ):
        values = by_cell.get((arm, visit), pd.Series(dtype=float)).dropna()
        if len(values) == 0:
            continue
        if visit not in tests:
            if study.design == "single_arm" or other is None:
                tests[visit] = _test_name(res.overall(outcome))
            else:
                tests[visit] = _test_name(res.between(outcome, visit, other, ref, change=False))
        cells.append(
            {
                "arm": arm,
                "kind": "values",
                "contrast": visit,
                "values": values.to_numpy(dtype=float),
                "test": tests[visit],
                "shapiro_p": shapiro_p.get((arm, visit, VALUES_CONTRAST), np.nan),
            }
        )
    return cells


def _shapiro_lookup(shapiro: pd.DataFrame) -> dict[tuple[str, str, str], float]:
    """Shapiro-Wilk p by ``(group, visit, contrast)``, the first row of each cell."""
    lookup: dict[tuple[str, str, str], float] = {}
    keys = zip(shapiro["group"], shapiro["visit"], shapiro["contrast"], strict=True)
    for key, p in zip(keys, shapiro["p_value"], strict=True):
        lookup.setdefault(key, float(p))
    return lookup


def _test_name(row: pd.Series | None) -> str:
    return TEST_NAMES.get(row["analysis"], "") if row is not None else ""
