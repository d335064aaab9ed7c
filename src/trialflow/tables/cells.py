"""Cells and footnotes the outcome tables share: an estimate with its interval and p-values,
a p-value cell, and the notes on tests, testing strategy and multiplicity.

Facts come from the results' fields: ``flags`` says which rows are confirmatory and which
were not formally tested, ``analysis`` which test a row is; ``note`` is printed only when a
row has no numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trialflow.config import Study
from trialflow.reported import (
    NONPARAMETRIC,
    TEST_NAMES,
    ReportedResults,
    is_confirmatory,
    is_degenerate,
    not_formally_tested,
)

from .format import MISSING, decimals_for, format_ci, format_p

__all__ = [
    "DEGENERATE_MARK",
    "NONPARAMETRIC_MARK",
    "NOT_TESTED_TEXT",
    "arm_labels",
    "ci_label",
    "decimals_by_outcome",
    "degenerate_note",
    "descriptive_lookup",
    "drop_empty_columns",
    "effect_cell",
    "effect_size_cell",
    "exploratory_note",
    "nonparametric_note",
    "ordered_outcomes",
    "p_cell",
    "testing_note",
]

NONPARAMETRIC_MARK = "‡"
# a rank-test interval that R's algorithm cannot resolve (heavy ties): the row's flags say so
DEGENERATE_MARK = "§"
NOT_TESTED_TEXT = "not formally tested"
_METHOD_TEXT = {
    "fixed_sequence": "the fixed-sequence (hierarchical) strategy: each hypothesis in the "
    "order listed at alpha = {alpha:g}, stopping at the first one not rejected; adj. p is the "
    "running maximum of the p-values",
    "holm": "Holm's procedure over them (family-wise alpha = {alpha:g})",
    "none": "no adjustment (each at alpha = {alpha:g})",
}


def ci_label(study: Study) -> str:
    """``"95% CI"`` at the study's ``1 - alpha``."""
    return f"{100 * (1 - study.analysis.alpha):g}% CI"


def effect_cell(row: pd.Series | None, decimals: int, mark: str = "") -> str:
    """``"2.1 (0.5 to 3.7); p = 0.023; adj. p = 0.046"`` from one results row; a
    confirmatory row after a fixed sequence's stop says "not formally tested"."""
    if row is None:
        return MISSING
    parts = []
    est = format_ci(row["estimate"], row["ci_low"], row["ci_high"], decimals)
    if est:
        parts.append(est + mark + (DEGENERATE_MARK if is_degenerate(row) else ""))
    if np.isfinite(row["p_value"]):
        parts.append(format_p(row["p_value"], prefix=True))
    if np.isfinite(row["p_adjusted"]):
        parts.append("adj. " + format_p(row["p_adjusted"], prefix=True))
    if not_formally_tested(row):
        parts.append(NOT_TESTED_TEXT)
    if not parts and row["note"]:
        return f"not estimable ({row['note']})"
    return "; ".join(parts)


def effect_size_cell(row: pd.Series | None) -> str:
    """``"0.76 (0.43 to 1.09)"``: a row's effect size with its interval (two decimals)."""
    if row is None:
        return MISSING
    return format_ci(row["effect_size"], row["effect_size_ci_low"], row["effect_size_ci_high"], 2)


def p_cell(row: pd.Series | None) -> str:
    """``"0.023"``, with the adjusted p in brackets and ‡ after a non-parametric test's p."""
    if row is None:
        return MISSING
    text = format_p(row["p_value"])
    if not text:
        return MISSING
    if np.isfinite(row["p_adjusted"]):
        text += f" (adj. {format_p(row['p_adjusted'])})"
    return text + (NONPARAMETRIC_MARK if row["analysis"] in NONPARAMETRIC else "")


def nonparametric_note(res: ReportedResults) -> list[str]:
    used = [TEST_NAMES[t] for t in NONPARAMETRIC if t in res.used]
    if not used:
        return []
    return [f"{NONPARAMETRIC_MARK} non-parametric test ({', '.join(used)})."] + degenerate_note(
        res
    )


def degenerate_note(res: ReportedResults) -> list[str]:
    if not res.degenerate:
        return []
    return [
        f"{DEGENERATE_MARK} confidence interval of the rank test degenerate with heavily tied"
        " data (R's wilcox.test algorithm); see the row's note in results.csv and read the"
        " t-based interval instead."
    ]


def descriptive_lookup(descriptives: pd.DataFrame) -> dict[tuple[str, str, str], pd.Series]:
    return {(r.outcome, r.arm, r.visit): r for r in descriptives.itertuples(index=False)}


def decimals_by_outcome(descriptives: pd.DataFrame, study: Study) -> dict[str, int]:
    base = descriptives[descriptives["visit"] == study.baseline.id]
    sd = base.groupby("outcome")["sd"].median()
    fallback = descriptives.groupby("outcome")["sd"].median()
    return {o: decimals_for(sd.get(o, fallback.get(o, np.nan))) for o in fallback.index}


def arm_labels(study: Study) -> dict[str, str]:
    return {a.id: a.label for a in study.arms}


def drop_empty_columns(frame: pd.DataFrame, keep: tuple[str, ...]) -> pd.DataFrame:
    """The frame without the columns (other than ``keep``) that no row fills."""
    if not len(frame):
        return frame
    return frame[[c for c in frame.columns if c in keep or frame[c].ne(MISSING).any()]]


def ordered_outcomes(study: Study, outcomes: list[str]) -> list[str]:
    """``outcomes`` with the planned ones first, in the order of the plan."""
    planned = [p.outcome for p in study.analysis.planned if p.outcome in outcomes]
    first = list(dict.fromkeys(planned))
    return first + [o for o in outcomes if o not in first]


def testing_note(study: Study, res: ReportedResults) -> list[str]:
    """The confirmatory analyses: which they are and how they were tested."""
    if not res.frame["flags"].map(is_confirmatory).any():
        return []
    how = _METHOD_TEXT[study.analysis.testing].format(alpha=study.analysis.alpha)
    return [
        "Primary and key secondary analyses (column 'Analysis plan'): pre-specified, tested "
        f"by {how}; '{NOT_TESTED_TEXT}' marks those after the stop."
    ]


def exploratory_note(study: Study, res: ReportedResults) -> list[str]:
    """Every other comparison: exploratory, and how its adj. p was formed."""
    text = (
        "Exploratory comparisons (every comparison not in the analysis plan): p-values are "
        "descriptive and support no confirmatory claim"
    )
    m = study.analysis.multiplicity
    if res.has_adjusted() and m.method != "none":
        method = {"holm": "Holm", "fdr_bh": "Benjamini-Hochberg (FDR)"}.get(m.method, m.method)
        family = m.family.replace("_", " ")
        text += (
            f"; adj. p: adjusted by the {method} method within the exploratory family '{family}'"
        )
    return [text + "."]
