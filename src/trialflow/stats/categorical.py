"""Categorical outcomes by visit: bands and grades cut from an analysed score (HADS caseness
bands, HSS grade), their counts per arm and visit, the shift from baseline, and tests fixed in
advance by the number of categories the instrument defines (never chosen from the data).

* Within an arm, change from baseline (participants with both visits): McNemar's test with
  continuity correction for two categories (R ``mcnemar.test(correct = TRUE)``), the
  Stuart-Maxwell test of marginal homogeneity for more (R ``coin::mh_test``). A category
  empty at both visits carries no information and is left out, as coin's generalised
  inverse does (the degrees of freedom drop with it).
* Between arms, at each visit after baseline: Fisher's exact test of arm by category
  (R ``fisher.test``).

The categories are computed with the instrument's own cut function
(:meth:`trialflow.instruments._base.Instrument.categories`), so they are exactly the bands
scoring defines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2
from statsmodels.stats.contingency_tables import SquareTable, mcnemar

from trialflow import instruments
from trialflow.config import Study

from .between import fisher_exact_p
from .contract import between_contrast, within_contrast

__all__ = [
    "CategoricalVariable",
    "categorical_tests",
    "categorical_variables",
    "categorise",
    "category_counts",
    "fisher_test",
    "paired_change_test",
    "shift_counts",
]

TEST_COLUMNS = (
    "variable",
    "visit",
    "analysis",
    "contrast",
    "group",
    "n",
    "estimate",
    "ci_low",
    "ci_high",
    "statistic",
    "df",
    "p_value",
    "note",
)


@dataclass(frozen=True)
class CategoricalVariable:
    """A categorical outcome of a study, cut from an analysed outcome."""

    id: str
    source: str
    label: str
    levels: tuple[str, ...]
    classify: Callable[[float], Any]


def categorical_variables(study: Study) -> list[CategoricalVariable]:
    """The categorical outcomes of the study's instruments, in instrument order."""
    found = []
    for spec in study.instruments:
        if spec.type == "measures":
            continue
        scorer = instruments.instrument(spec.type)
        for category in scorer.categories(**spec.scorer_options()):
            found.append(
                CategoricalVariable(
                    f"{spec.id}_{category.score}",
                    f"{spec.id}_{category.source}",
                    category.label,
                    category.levels,
                    category.classify,
                )
            )
    return found


def categorise(analysis: pd.DataFrame, variables: list[CategoricalVariable]) -> pd.DataFrame:
    """Long categories: ``participant_id, arm, visit, variable, category`` (NaN: missing).

    Parameters
    ----------
    analysis : pandas.DataFrame
        The long analysis data (``participant_id, arm, visit, outcome, value``).
    variables : list of CategoricalVariable

    Returns
    -------
    pandas.DataFrame
        One row per participant, visit and variable whose source outcome is in ``analysis``.
    """
    frames = []
    for variable in variables:
        rows = analysis.loc[analysis["outcome"] == variable.source]
        # one classification per distinct value: cheap for any number of participants
        distinct = rows["value"].dropna().unique()
        lookup = {value: variable.classify(value) for value in distinct}
        frames.append(
            pd.DataFrame(
                {
                    "participant_id": rows["participant_id"].to_numpy(),
                    "arm": rows["arm"].to_numpy(),
                    "visit": rows["visit"].to_numpy(),
                    "variable": variable.id,
                    "category": rows["value"].map(lookup).to_numpy(dtype=object),
                }
            )
        )
    columns = ["participant_id", "arm", "visit", "variable", "category"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def category_counts(
    categories: pd.DataFrame, study: Study, variables: list[CategoricalVariable]
) -> pd.DataFrame:
    """Counts per variable, visit, arm and category: ``n, n_assessed, percent``.

    ``percent`` is of the participants assessed at the visit (a category value present).
    Every defined category appears, also with n = 0.
    """
    rows = []
    for variable in variables:
        data = categories.loc[categories["variable"] == variable.id]
        for visit in study.visits:
            for arm in study.arm_ids:
                cell = data.loc[(data["visit"] == visit.id) & (data["arm"] == arm), "category"]
                counts = cell.value_counts()
                assessed = int(cell.notna().sum())
                for level in variable.levels:
                    n = int(counts.get(level, 0))
                    rows.append(
                        {
                            "variable": variable.id,
                            "visit": visit.id,
                            "arm": arm,
                            "category": level,
                            "n": n,
                            "n_assessed": assessed,
                            "percent": 100.0 * n / assessed if assessed else np.nan,
                        }
                    )
    return pd.DataFrame(
        rows, columns=["variable", "visit", "arm", "category", "n", "n_assessed", "percent"]
    )


def _paired_table(
    categories: pd.DataFrame, variable: CategoricalVariable, arm: str, before: str, after: str
) -> np.ndarray:
    """K x K counts: rows the category at ``before``, columns at ``after`` (both present)."""
    data = categories.loc[(categories["variable"] == variable.id) & (categories["arm"] == arm)]
    wide = data.pivot_table(
        index="participant_id", columns="visit", values="category", aggfunc="first"
    )
    if before not in wide or after not in wide:
        return np.zeros((len(variable.levels),) * 2, dtype=int)
    both = wide[[before, after]].dropna()
    levels = list(variable.levels)
    table = pd.crosstab(
        pd.Categorical(both[before], categories=levels),
        pd.Categorical(both[after], categories=levels),
        dropna=False,
    )
    return table.reindex(index=levels, columns=levels, fill_value=0).to_numpy(dtype=int)


def shift_counts(
    categories: pd.DataFrame, study: Study, variables: list[CategoricalVariable], visit: str
) -> pd.DataFrame:
    """The shift table from baseline to ``visit``: ``variable, arm, baseline, at_visit, n``."""
    rows = []
    for variable in variables:
        for arm in study.arm_ids:
            table = _paired_table(categories, variable, arm, study.baseline.id, visit)
            for i, before in enumerate(variable.levels):
                for j, after in enumerate(variable.levels):
                    rows.append(
                        {
                            "variable": variable.id,
                            "arm": arm,
                            "baseline": before,
                            "at_visit": after,
                            "n": int(table[i, j]),
                        }
                    )
    return pd.DataFrame(rows, columns=["variable", "arm", "baseline", "at_visit", "n"])


def paired_change_test(table: np.ndarray, n_levels: int | None = None) -> dict[str, Any]:
    """Marginal homogeneity of a K x K paired table (rows before, columns after).

    Parameters
    ----------
    table : array_like of int
        Square counts.
    n_levels : int, optional
        The number of categories the variable defines (default: the table's size); it fixes
        the test: McNemar with continuity correction for 2, Stuart-Maxwell for more.

    Returns
    -------
    dict
        ``analysis`` (``mcnemar`` | ``stuart_maxwell``), ``n``, ``statistic``, ``df``,
        ``p_value`` and ``note``; NaN statistic when no pair changed category.
    """
    table = np.asarray(table, dtype=int)
    k = n_levels or table.shape[0]
    n = int(table.sum())
    analysis = "mcnemar" if k == 2 else "stuart_maxwell"
    out = {"analysis": analysis, "n": n, "statistic": np.nan, "df": np.nan, "p_value": np.nan}
    discordant = n - int(np.trace(table))
    if discordant == 0:
        return out | {"note": "no participant changed category"}
    if analysis == "mcnemar":
        result = mcnemar(table, exact=False, correction=True)
        return out | {
            "statistic": float(result.statistic),
            "df": 1.0,
            "p_value": float(chi2.sf(result.statistic, 1)),
            "note": "McNemar chi-squared with continuity correction",
        }
    # a category empty at both visits adds a zero row and column: leave it out (coin's rank)
    used = (table.sum(axis=0) + table.sum(axis=1)) > 0
    reduced = table[np.ix_(used, used)]
    try:
        result = SquareTable(reduced, shift_zeros=False).homogeneity("stuart_maxwell")
    except np.linalg.LinAlgError:
        return out | {"note": "Stuart-Maxwell covariance singular"}
    return out | {
        "statistic": float(result.statistic),
        "df": float(result.df),
        # chi2.sf, not 1 - cdf: p-values below 1e-16 keep their digits
        "p_value": float(chi2.sf(result.statistic, result.df)),
        "note": "Stuart-Maxwell marginal homogeneity chi-squared",
    }


def fisher_test(table: np.ndarray) -> dict[str, Any]:
    """Fisher's exact test of an r x c table (R ``fisher.test``), empty rows/columns dropped."""
    table = np.asarray(table, dtype=int)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    n = int(table.sum())
    p = fisher_exact_p(table) if min(table.shape, default=0) >= 2 else np.nan
    return {
        "analysis": "fisher_exact",
        "n": n,
        "statistic": np.nan,
        "df": np.nan,
        "p_value": float(p),
        "note": "Fisher's exact test, arm by category" if np.isfinite(p) else "one category",
    }


def categorical_tests(
    categories: pd.DataFrame, study: Study, variables: list[CategoricalVariable]
) -> pd.DataFrame:
    """Every test of the categorical outcomes, one row each (columns :data:`TEST_COLUMNS`).

    Within each arm at every visit after baseline, the change from baseline
    (:func:`paired_change_test`); for two or more arms, at every visit after baseline,
    arm by category (:func:`fisher_test`).
    """
    rows = []
    baseline = study.baseline.id
    for variable in variables:
        data = categories.loc[categories["variable"] == variable.id]
        for visit in study.post_baseline:
            for arm in study.arm_ids:
                table = _paired_table(categories, variable, arm, baseline, visit.id)
                hit = paired_change_test(table, len(variable.levels))
                rows.append(
                    {"variable": variable.id, "visit": visit.id, "group": arm}
                    | {"contrast": within_contrast(visit.id, baseline)}
                    | hit
                )
            if len(study.arm_ids) < 2:
                continue
            at_visit = data.loc[(data["visit"] == visit.id) & data["category"].notna()]
            counts = pd.crosstab(
                pd.Categorical(at_visit["arm"], categories=study.arm_ids),
                pd.Categorical(at_visit["category"], categories=list(variable.levels)),
                dropna=False,
            ).to_numpy(dtype=int)
            contrast = (
                between_contrast(study.arm_ids[1], study.arm_ids[0])
                if len(study.arm_ids) == 2
                else "arms"
            )
            rows.append(
                {"variable": variable.id, "visit": visit.id, "group": "", "contrast": contrast}
                | fisher_test(counts)
            )
    frame = pd.DataFrame(rows).reindex(columns=list(TEST_COLUMNS))
    return frame.astype({"n": "Int64"}) if len(frame) else frame
