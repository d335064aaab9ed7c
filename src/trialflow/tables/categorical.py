"""Tables of the categorical outcomes (bands and grades, :mod:`trialflow.stats.categorical`):
counts and percentages per arm and visit with the tests fixed in advance
(``categorical_by_visit``), and the shift from baseline to the primary visit
(``categorical_shift``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trialflow.config import Study
from trialflow.stats.categorical import (
    categorical_tests,
    categorical_variables,
    categorise,
    category_counts,
    shift_counts,
)

from .cells import arm_labels
from .format import MISSING, format_number, format_p
from .table import Table

__all__ = ["categorical_by_visit_table", "categorical_shift_table"]

TEST_NAMES = {
    "mcnemar": "McNemar",
    "stuart_maxwell": "Stuart-Maxwell",
    "fisher_exact": "Fisher",
}
BETWEEN_COLUMN = "Between arms (Fisher's exact p)"


def _level(level: str) -> str:
    """A category as printed: ``"borderline"`` -> ``"Borderline"``."""
    return level[:1].upper() + level[1:]


def _count_cell(n: int, percent: float) -> str:
    return f"{n} ({format_number(percent, 1)}%)" if np.isfinite(percent) else MISSING


def _test_cell(row: pd.Series | None) -> str:
    """``"Stuart-Maxwell χ²(3) = 12.40, p = 0.006 [n = 120]"``."""
    if row is None:
        return MISSING
    name = TEST_NAMES[row["analysis"]]
    if row["analysis"] == "fisher_exact":
        text = format_p(row["p_value"], prefix=True)
        return f"{text} [n = {row['n']}]" if text else f"not estimable ({row['note']})"
    if not np.isfinite(row["statistic"]):
        return f"{name}: not estimable ({row['note']}) [n = {row['n']}]"
    return (
        f"{name} χ²({row['df']:g}) = {format_number(row['statistic'], 2)}, "
        f"{format_p(row['p_value'], prefix=True)} [n = {row['n']}]"
    )


def _categories(study: Study, analysis: pd.DataFrame):
    variables = categorical_variables(study)
    present = set(analysis["outcome"]) if len(analysis) else set()
    variables = [v for v in variables if v.source in present]
    return variables, categorise(analysis, variables)


def categorical_by_visit_table(study: Study, analysis: pd.DataFrame) -> Table:
    """Counts and percentages of every band or grade per arm and visit, with the tests.

    Parameters
    ----------
    study : Study
    analysis : pandas.DataFrame
        The long analysis data; the categories are cut from their source scores.

    Returns
    -------
    Table
        Per variable and visit: the participants assessed, one row per category with
        ``n (%)`` per arm, and after baseline a row of the within-arm test of the change from
        baseline per arm and, for two or more arms, Fisher's exact p between arms.
    """
    variables, cats = _categories(study, analysis)
    counts = category_counts(cats, study, variables)
    tests = categorical_tests(cats, study, variables)
    names = arm_labels(study)
    rows = []
    for variable in variables:
        for visit in study.visits:
            here = counts.loc[(counts["variable"] == variable.id) & (counts["visit"] == visit.id)]
            by_arm = {arm: here.loc[here["arm"] == arm] for arm in study.arm_ids}
            head = {"Outcome": variable.label, "Visit": visit.label}
            rows.append(
                head
                | {"Category": "Assessed (n)"}
                | {names[a]: str(int(f["n_assessed"].iloc[0])) for a, f in by_arm.items()}
            )
            for level in variable.levels:
                row = head | {"Category": _level(level)}
                for arm, frame in by_arm.items():
                    hit = frame.loc[frame["category"] == level].iloc[0]
                    row[names[arm]] = _count_cell(int(hit["n"]), hit["percent"])
                rows.append(row)
            if visit.id == study.baseline.id:
                continue
            found = tests.loc[(tests["variable"] == variable.id) & (tests["visit"] == visit.id)]
            row = head | {"Category": "Change from baseline (within arm)"}
            for arm in study.arm_ids:
                hit = found.loc[found["group"] == arm]
                row[names[arm]] = _test_cell(hit.iloc[0] if len(hit) else None)
            between = found.loc[found["analysis"] == "fisher_exact"]
            if len(between):
                row[BETWEEN_COLUMN] = _test_cell(between.iloc[0])
            rows.append(row)
    columns = ["Outcome", "Visit", "Category", *[names[a] for a in study.arm_ids]]
    if len(study.arm_ids) > 1:
        columns.append(BETWEEN_COLUMN)
    frame = pd.DataFrame(rows, columns=columns).fillna(MISSING)
    notes = [
        "n (%): participants in the category, of those assessed at the visit; the categories "
        "are cut from the score as the instrument's definition does (Methods).",
        "Tests fixed in advance by the number of categories, not chosen from the data: change "
        "from baseline within an arm (participants with both visits) by McNemar's test with "
        "continuity correction for two categories, the Stuart-Maxwell test of marginal "
        "homogeneity for more (a category empty at both visits is left out, as R's "
        "coin::mh_test does).",
    ]
    if len(study.arm_ids) > 1:
        notes.append(
            "Between arms at each visit after baseline: Fisher's exact test of arm by "
            "category (R fisher.test). All tests exploratory, not adjusted."
        )
    else:
        notes.append(
            "All tests exploratory (not adjusted for multiplicity); a single-arm "
            "change is not a treatment effect."
        )
    if not variables:
        notes = ["The study's instruments define no categorical scores."]
    return Table(
        name="categorical_by_visit",
        title=f"Categorical outcomes by visit: {study.title}",
        frame=frame,
        footnotes=tuple(notes),
        group_column="Outcome",
    )


def categorical_shift_table(study: Study, analysis: pd.DataFrame) -> Table:
    """The shift from baseline to the primary visit per arm: one row per baseline category,
    one column per category at the visit, counts of the participants with both visits."""
    variables, cats = _categories(study, analysis)
    visit = study.primary_visit
    shift = shift_counts(cats, study, variables, visit.id)
    names = arm_labels(study)
    rows = []
    levels_all: list[str] = []
    for variable in variables:
        for level in variable.levels:
            if level not in levels_all:
                levels_all.append(level)
    for variable in variables:
        for arm in study.arm_ids:
            here = shift.loc[(shift["variable"] == variable.id) & (shift["arm"] == arm)]
            for before in variable.levels:
                cells = here.loc[here["baseline"] == before].set_index("at_visit")["n"]
                row = {"Outcome": variable.label, "Arm": names[arm]}
                row["At baseline"] = _level(before)
                row |= {_level(after): str(int(cells[after])) for after in variable.levels}
                row["Total"] = str(int(cells.sum()))
                rows.append(row)
    columns = ["Outcome", "Arm", "At baseline", *[_level(level) for level in levels_all], "Total"]
    frame = pd.DataFrame(rows, columns=columns).fillna(MISSING)
    return Table(
        name="categorical_shift",
        title=f"Shift of categorical outcomes from baseline to {visit.label}: {study.title}",
        frame=frame,
        footnotes=(
            f"Participants with a value at baseline and at {visit.label}; rows: the category "
            f"at baseline, columns: the category at {visit.label} (blank: not a category of "
            "that outcome). Tests in the categorical outcomes table.",
        )
        if variables
        else ("The study's instruments define no categorical scores.",),
        group_column="Outcome",
    )
