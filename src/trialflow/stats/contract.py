"""The results contract: column order, empty rows and the contrast labels.

Every analysis function returns rows with the columns of :data:`NUMBER_COLUMNS`; the study
level functions add the keys (:data:`KEY_COLUMNS`) and :func:`trialflow.stats.analyse_study`
orders everything as :data:`RESULT_COLUMNS`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

KEY_COLUMNS = ("study", "outcome", "visit", "analysis", "contrast", "group")
NUMBER_COLUMNS = (
    "n",
    "estimate",
    "se",
    "df",
    "ci_low",
    "ci_high",
    "statistic",
    "p_value",
    "p_adjusted",
    "effect_size",
    "effect_size_name",
    "note",
)
RESULT_COLUMNS = KEY_COLUMNS + NUMBER_COLUMNS

# Fixed order of the analyses inside one (outcome, visit): the deterministic row order.
ANALYSIS_ORDER = (
    "chi_square",
    "fisher_exact",
    "shapiro_wilk",
    "paired_t",
    "wilcoxon_signed_rank",
    "welch_t",
    "mann_whitney",
    "ancova",
    "mmrm",
    "responder",
    "rm_anova",
    "friedman",
    "posthoc_paired_t",
    "posthoc_wilcoxon",
)

VALUES_CONTRAST = "values"
ADJUSTED_MEAN_CONTRAST = "adjusted mean"
RESPONDER_CONTRAST = "responders"


def within_contrast(later: str, earlier: str) -> str:
    """Label of a within-arm change, e.g. ``week8 - baseline``."""
    return f"{later} - {earlier}"


def between_contrast(arm: str, reference: str, change: str | None = None) -> str:
    """Label of a between-arm comparison, on values or on a change (``change`` label)."""
    label = f"{arm} - {reference}"
    return label if change is None else f"{label} ({change})"


def split_between_contrast(contrast: str) -> tuple[str, str, str | None]:
    """Inverse of :func:`between_contrast`: ``(arm, reference, change or None)``."""
    change = None
    if contrast.endswith(")") and " (" in contrast:
        contrast, change = contrast[:-1].split(" (", 1)
    arm, reference = contrast.split(" - ", 1)
    return arm, reference, change


def empty_numbers(note: str = "", n: float = math.nan, **values: Any) -> dict[str, Any]:
    """A numbers dict with every field empty except ``n``, ``note`` and ``values``."""
    row: dict[str, Any] = dict.fromkeys(NUMBER_COLUMNS, math.nan)
    row.update(n=n, effect_size_name="", note=note)
    row.update(values)
    return row


def numbers_frame(row: Mapping[str, Any]) -> pd.DataFrame:
    """One numbers dict as a one-row DataFrame with the contract's number columns."""
    return pd.DataFrame([{column: row.get(column, math.nan) for column in NUMBER_COLUMNS}])


def keyed_rows(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows (keys plus numbers) as a DataFrame with exactly :data:`RESULT_COLUMNS`."""
    frame = pd.DataFrame(list(rows), columns=list(RESULT_COLUMNS))
    return empty_results() if frame.empty else _typed(frame)


def empty_results() -> pd.DataFrame:
    """A results table with no rows and the contract's columns and types."""
    return _typed(pd.DataFrame(columns=list(RESULT_COLUMNS)))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    numeric = [c for c in NUMBER_COLUMNS if c not in ("effect_size_name", "note")]
    text = [c for c in RESULT_COLUMNS if c not in numeric]
    frame = frame.copy()
    frame[numeric] = frame[numeric].astype("float64")
    for column in text:
        frame[column] = frame[column].fillna("").astype(str)
    return frame
