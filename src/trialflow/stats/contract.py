"""The results contract: column order, empty rows, flags and the contrast labels.

Every analysis function returns rows with the columns of :data:`NUMBER_COLUMNS`; the study
level functions add the keys (:data:`KEY_COLUMNS`) and :func:`trialflow.stats.analyse_study`
orders everything as :data:`RESULT_COLUMNS`. ``note`` is for people; code reads ``flags``
(machine tokens, :data:`FLAGS`) and the model facts of ``model_fits.csv``
(:data:`MODEL_FIT_COLUMNS`).

Version 2 (:data:`CONTRACT_VERSION`, issue 12) added ``analysis_set``,
``effect_size_ci_low`` and ``effect_size_ci_high``, the analyses ``student_t`` and
``responder_logistic``, and the flags of the analysis plan (``primary``, ``key_secondary``,
``not_formally_tested``, ``sensitivity``).

Version 3 (issue 13) added the missing-data sensitivity analyses: the analyses
``cmi_<strategy>`` (conditional mean imputation), ``bmi_<strategy>`` (bootstrapped multiple
imputation) and ``tipping_point``; the columns ``delta`` (the tipping-point shift),
``mc_se`` (Monte Carlo SE of a multiple-imputation estimate), ``n_imputations`` and
``seed``; and the flag ``tipping_point`` (the row whose ``delta`` is the tipping point).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

#: Version of the columns and tokens of ``results.csv`` (README, "The results contract").
CONTRACT_VERSION = "3"
KEY_COLUMNS = ("study", "outcome", "visit", "analysis", "contrast", "group", "analysis_set")
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
    "effect_size_ci_low",
    "effect_size_ci_high",
    "delta",  # tipping point: the shift added to one arm's imputed post-ICE values
    "mc_se",  # multiple imputation: Monte Carlo SE of the pooled estimate
    "n_imputations",  # multiple imputation: M
    "seed",  # multiple imputation: the seed of the random draws
    "note",
    "flags",
)
RESULT_COLUMNS = KEY_COLUMNS + NUMBER_COLUMNS
TEXT_COLUMNS = (*KEY_COLUMNS, "effect_size_name", "note", "flags")
NUMERIC_COLUMNS = tuple(c for c in RESULT_COLUMNS if c not in TEXT_COLUMNS)

#: A rank test's interval that R's algorithm cannot resolve with heavily tied data: zero
#: width or lower limit above upper (``note`` says so and names the interval to read).
DEGENERATE_INTERVAL = "degenerate_interval"
#: R's estimate lies just outside its own normal-approximation interval (heavy ties).
ESTIMATE_OUTSIDE_INTERVAL = "estimate_outside_interval"
#: The row is the primary analysis (on the declared analysis set).
PRIMARY = "primary"
#: The row is a key secondary analysis (tested after the primary one, in declared order).
KEY_SECONDARY = "key_secondary"
#: A confirmatory row after the first non-rejected hypothesis of a fixed sequence.
NOT_FORMALLY_TESTED = "not_formally_tested"
#: A primary or key secondary comparison repeated on a sensitivity analysis set.
SENSITIVITY = "sensitivity"
#: The tipping-point row: its ``delta`` is where the two-sided p-value reaches alpha.
TIPPING_POINT = "tipping_point"
#: Every token the ``flags`` column may hold (semicolon-separated).
FLAGS = (
    DEGENERATE_INTERVAL,
    ESTIMATE_OUTSIDE_INTERVAL,
    PRIMARY,
    KEY_SECONDARY,
    NOT_FORMALLY_TESTED,
    SENSITIVITY,
    TIPPING_POINT,
)
#: Flags of the confirmatory rows (the testing strategy's hypotheses).
CONFIRMATORY_FLAGS = (PRIMARY, KEY_SECONDARY)

#: ``model_fits.csv``: one row per fitted (or unfittable) model.
MODEL_FIT_COLUMNS = (
    "study",
    "outcome",
    "analysis",
    "formula",
    "visit_scope",  # post_baseline | all
    "visits",  # the visits modelled, semicolon-separated
    "status",  # converged | not_converged | not_fitted
    "converged",
    "covariance",  # the structure used
    "covariance_tried",  # structures tried in order, semicolon-separated
    "iterations",
    "minus2_loglik",
    "aic",
    "bic",
    "method",  # REML | ML
    "ddf",
    "ci_level",
    "estimand",
    "analysis_set",
    "n_subjects",
    "n_observations",
    "n_fixed_parameters",
    "n_covariance_parameters",
    "note",
)
MODEL_FIT_TEXT_COLUMNS = (
    "study",
    "outcome",
    "analysis",
    "formula",
    "visit_scope",
    "visits",
    "status",
    "covariance",
    "covariance_tried",
    "method",
    "ddf",
    "estimand",
    "analysis_set",
    "note",
)

# Fixed order of the analyses inside one (outcome, visit): the deterministic row order.
ANALYSIS_ORDER = (
    "chi_square",
    "fisher_exact",
    "shapiro_wilk",
    "paired_t",
    "wilcoxon_signed_rank",
    "welch_t",
    "student_t",
    "mann_whitney",
    "ancova",
    "mmrm",
    "responder",
    "responder_logistic",
    "rm_anova",
    "friedman",
    "posthoc_paired_t",
    "posthoc_wilcoxon",
)
#: Prefixes of the missing-data sensitivity analyses (``cmi_j2r``, ``bmi_mar``, ...) and the
#: tipping-point analysis (:mod:`trialflow.stats.sensitivity_analysis`).
IMPUTATION_PREFIXES = {"conditional_mean": "cmi_", "bootstrap_mi": "bmi_"}
TIPPING_ANALYSIS = "tipping_point"


def is_imputation_analysis(analysis: object) -> bool:
    """Whether an ``analysis`` value names a missing-data sensitivity analysis."""
    return isinstance(analysis, str) and (
        analysis == TIPPING_ANALYSIS
        or any(analysis.startswith(p) for p in IMPUTATION_PREFIXES.values())
    )


def delta_contrast(arm: str, reference: str, delta: float | None) -> str:
    """Label of a tipping-point row: ``exercise - control (delta=-2.5)``, or
    ``exercise - control (tipping point)`` for the row of the tipping delta (None)."""
    what = "tipping point" if delta is None else f"delta={float(delta):.10g}"
    return between_contrast(arm, reference, what)


VALUES_CONTRAST = "values"
ADJUSTED_MEAN_CONTRAST = "adjusted mean"
RESPONDER_CONTRAST = "responders"


def within_contrast(later: str, earlier: str) -> str:
    """Label of a within-arm change, e.g. ``week8 - baseline``."""
    return f"{later} - {earlier}"


def split_within_contrast(contrast: str) -> tuple[str, str]:
    """Inverse of :func:`within_contrast`: ``(later, earlier)``."""
    later, _, earlier = contrast.partition(" - ")
    return later.strip(), earlier.strip()


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


def join_flags(flags: Iterable[str]) -> str:
    """Flags as the ``flags`` cell: distinct tokens in order, ``;``-separated."""
    tokens = [f for f in flags if f]
    unknown = [f for f in tokens if f not in FLAGS]
    if unknown:
        raise ValueError(f"unknown flags {unknown}; known: {FLAGS}")
    return ";".join(dict.fromkeys(tokens))


def has_flag(flags: object, flag: str) -> bool:
    """Whether a ``flags`` cell holds ``flag``."""
    return isinstance(flags, str) and flag in flags.split(";")


def with_flag(flags: pd.Series, flag: str, where) -> pd.Series:
    """``flags`` with ``flag`` added (once, at the end) on the rows where ``where`` is true."""
    where = pd.Series(where, index=flags.index).fillna(False).astype(bool)
    out = flags.astype(str).copy()
    for i in flags.index[where.to_numpy()]:
        out[i] = join_flags([*out[i].split(";"), flag])
    return out


def empty_numbers(note: str = "", n: float = math.nan, **values: Any) -> dict[str, Any]:
    """A numbers dict with every field empty except ``n``, ``note`` and ``values``."""
    row: dict[str, Any] = dict.fromkeys(NUMBER_COLUMNS, math.nan)
    row.update(n=n, effect_size_name="", note=note, flags="")
    row.update(values)
    return row


def numbers_frame(row: Mapping[str, Any]) -> pd.DataFrame:
    """One numbers dict as a one-row DataFrame with the contract's number columns."""
    return pd.DataFrame([{column: row.get(column, math.nan) for column in NUMBER_COLUMNS}])


def keyed_rows(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows (keys plus numbers) as a DataFrame with exactly :data:`RESULT_COLUMNS`."""
    frame = pd.DataFrame(list(rows), columns=list(RESULT_COLUMNS))
    return empty_results() if frame.empty else typed_results(frame)


def empty_results() -> pd.DataFrame:
    """A results table with no rows and the contract's columns and types."""
    return typed_results(pd.DataFrame(columns=list(RESULT_COLUMNS)))


def typed_results(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with the contract's types: every contract column present, text as ``str``
    (blank for missing), numbers as floats (NaN for missing or not a number).

    Extra columns are kept; a contract column the frame lacks is added empty, so hand-made
    results (a few columns) read like ``results.csv``.
    """
    frame = frame.copy()
    for column in TEXT_COLUMNS:
        values = frame[column] if column in frame.columns else pd.Series("", index=frame.index)
        frame[column] = values.astype(object).fillna("").astype(str)
    for column in NUMERIC_COLUMNS:
        values = frame[column] if column in frame.columns else math.nan
        frame[column] = pd.to_numeric(pd.Series(values, index=frame.index), errors="coerce")
        frame[column] = frame[column].astype("float64")
    return frame
