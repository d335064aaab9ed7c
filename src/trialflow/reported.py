"""Results as reported: which row of ``results.csv`` each table, figure and report cites.

``results.csv`` keeps both tests of every parametric / non-parametric pair;
:func:`trialflow.stats.select_reported` says which one the analysis reports. This module
reads the results through that rule, so that tables, figures and the report quote the same
row: :class:`ReportedResults` looks rows up by outcome, visit and comparison, and remembers
which analyses it handed out (for footnotes). Also here: the printed names of analyses and
outcomes.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from trialflow.config import Study
from trialflow.stats.contract import (
    DEGENERATE_INTERVAL,
    KEY_SECONDARY,
    NOT_FORMALLY_TESTED,
    PRIMARY,
    SENSITIVITY,
    between_contrast,
    has_flag,
    typed_results,
    within_contrast,
)
from trialflow.stats.results import select_reported

__all__ = [
    "BETWEEN_TESTS",
    "METHOD_NAMES",
    "NONPARAMETRIC",
    "OVERALL_TESTS",
    "TEST_NAMES",
    "WITHIN_TESTS",
    "ReportedResults",
    "analysed_outcomes",
    "is_confirmatory",
    "is_degenerate",
    "not_formally_tested",
    "outcome_labels",
    "plan_role",
    "selected_test",
]

WITHIN_TESTS = ("paired_t", "wilcoxon_signed_rank")
#: The between-arm pair; the t-test is Student's with ``analysis.between_test: student``.
BETWEEN_TESTS = ("welch_t", "mann_whitney")
OVERALL_TESTS = ("rm_anova", "friedman")
NONPARAMETRIC = ("wilcoxon_signed_rank", "mann_whitney", "friedman")
#: Printed name of every analysis of the results contract.
TEST_NAMES = {
    "paired_t": "paired t-test",
    "wilcoxon_signed_rank": "Wilcoxon signed-rank test",
    "welch_t": "Welch t-test",
    "student_t": "Student's t-test",
    "mann_whitney": "Mann-Whitney U test",
    "ancova": "ANCOVA",
    "mmrm": "MMRM",
    "rm_anova": "repeated-measures ANOVA",
    "friedman": "Friedman test",
    "shapiro_wilk": "Shapiro-Wilk test",
    "responder": "responder analysis",
    "responder_logistic": "logistic regression of responding adjusted for baseline",
    "chi_square": "chi-square test",
    "fisher_exact": "Fisher's exact test",
    "posthoc_paired_t": "post-hoc paired t-tests between visits",
    "posthoc_wilcoxon": "post-hoc Wilcoxon tests between visits",
}


#: Printed name of each method of a planned analysis (``analysis.primary.method``).
METHOD_NAMES = {"ancova": "ANCOVA", "mmrm": "MMRM", "responder": "responder analysis"}


def plan_role(study: Study, outcome: str, visit: str, method: str) -> str:
    """``"Primary"``, ``"Key secondary 2"`` or ``""``: the place of an analysis in the plan."""
    planned = study.analysis.planned
    for i, p in enumerate(planned):
        if (p.outcome, p.visit, p.method) == (outcome, visit, method):
            return "Primary" if i == 0 else f"Key secondary {i}"
    return ""


def outcome_labels(outcomes: pd.DataFrame) -> dict[str, str]:
    """Row labels with unit and direction, e.g. ``"Peak torque (Nm, higher = better)"``.

    Labels that two outcomes share are prefixed with the instrument id so they stay apart.

    Parameters
    ----------
    outcomes : pandas.DataFrame
        Outcome metadata: ``outcome, instrument, label, unit, higher_is_better``.

    Returns
    -------
    dict
        Outcome id to label.
    """
    frame = outcomes.drop_duplicates("outcome")
    base = frame["label"].fillna(frame["outcome"]).astype(str)
    duplicated = base.duplicated(keep=False)
    labels = {}
    for (_, row), text, dup in zip(frame.iterrows(), base, duplicated, strict=True):
        if dup and "instrument" in frame.columns:
            text = f"{row['instrument']}: {text}"
        unit = row.get("unit")
        unit = "" if unit is None or (isinstance(unit, float) and np.isnan(unit)) else str(unit)
        direction = "higher = better" if bool(row["higher_is_better"]) else "lower = better"
        labels[row["outcome"]] = (
            f"{text} ({unit}, {direction})" if unit else f"{text} ({direction})"
        )
    return labels


def analysed_outcomes(outcomes: pd.DataFrame, present: Iterable[str]) -> list[str]:
    """Outcome ids in metadata order, restricted to those analysed and with data."""
    present = set(present)
    frame = outcomes
    if "analysed" in frame.columns:
        frame = frame[frame["analysed"].astype(bool)]
    return [o for o in frame["outcome"].drop_duplicates() if o in present]


def selected_test(
    rows: pd.DataFrame, parametric: str, nonparametric: str, study: Study
) -> pd.Series | None:
    """The row of the test the analysis reports among a parametric / non-parametric pair.

    ``rows`` carry ``reported`` from :func:`trialflow.stats.select_reported` (the pipeline's
    own rule, so tables, figures and the multiplicity family agree). If that does not settle
    it (e.g. a hand-made results table), ``test_selection`` decides, parametric for ``auto``.
    """
    # positions first, one row taken at the end: a results row is wide, and this runs for
    # every cell of every table and figure
    names = rows["analysis"].to_numpy(dtype=object)
    pair = np.flatnonzero((names == parametric) | (names == nonparametric))
    if not len(pair):
        return None
    if len(set(names[pair])) == 1:
        return rows.iloc[pair[0]]
    reported = pair[rows["reported"].to_numpy(dtype=bool)[pair]]
    if len(set(names[reported])) == 1:
        return rows.iloc[reported[0]]
    wanted = nonparametric if study.analysis.test_selection == "nonparametric" else parametric
    return rows.iloc[pair[names[pair] == wanted][0]]


def is_confirmatory(flags: object) -> bool:
    """Whether a ``flags`` cell marks a primary or key secondary comparison."""
    return has_flag(flags, PRIMARY) or has_flag(flags, KEY_SECONDARY)


def not_formally_tested(row: pd.Series | None) -> bool:
    """Whether a confirmatory row comes after the stop of a fixed sequence."""
    return row is not None and has_flag(row["flags"], NOT_FORMALLY_TESTED)


def is_degenerate(row: pd.Series | None) -> bool:
    """Whether a results row's interval is flagged degenerate (heavily tied rank test)."""
    return row is not None and has_flag(row["flags"], DEGENERATE_INTERVAL)


class ReportedResults:
    """The rows of ``results.csv`` as the analysis reports them, looked up by comparison.

    Rows of analysis sets other than the study's (sensitivity analyses) are kept apart in
    :attr:`sensitivity`.

    Parameters
    ----------
    results : pandas.DataFrame
        ``results.csv`` rows (hand-made frames with fewer columns are completed).
    study : Study

    Attributes
    ----------
    frame : pandas.DataFrame
        The typed results of the study's analysis set plus a boolean ``reported`` column.
    sensitivity : pandas.DataFrame
        The sensitivity rows (flag ``sensitivity``), in results order.
    used : set of str
        Analyses of the rows handed out so far (for footnotes).
    degenerate : bool
        Whether a row handed out has a degenerate interval.
    """

    def __init__(self, results: pd.DataFrame, study: Study):
        frame = typed_results(results)
        if not frame["study"].ne("").any():
            frame["study"] = study.id
        frame["reported"] = select_reported(
            frame, study.analysis.test_selection, study.analysis.alpha
        ).to_numpy()
        apart = frame["flags"].map(lambda f: has_flag(f, SENSITIVITY))
        apart |= ~frame["analysis_set"].isin(["", study.analysis.analysis_set])
        self.frame = frame.loc[~apart]
        self.sensitivity = frame.loc[apart]
        self.study = study
        self.t_test = "student_t" if study.analysis.between_test == "student" else "welch_t"
        self.used: set[str] = set()
        self.degenerate = False
        self._by_outcome: dict[str, pd.DataFrame] | None = None

    def rows(self, **where: str) -> pd.DataFrame:
        """Rows whose columns equal the given values, e.g. ``rows(outcome="x")``."""
        frame = self.frame
        if "outcome" in where:  # every lookup names one outcome: search its rows only
            frame = self._of_outcome(where.pop("outcome"))
        mask = np.ones(len(frame), dtype=bool)
        for column, value in where.items():
            mask &= (frame[column] == value).to_numpy(dtype=bool)
        return frame[mask]

    def _of_outcome(self, outcome: str) -> pd.DataFrame:
        """The rows of one outcome, in results order (the study's rows split once)."""
        if self._by_outcome is None:
            self._by_outcome = dict(tuple(self.frame.groupby("outcome", sort=False)))
        return self._by_outcome.get(outcome, self.frame.iloc[:0])

    def within(self, outcome: str, visit: str, against: str, arm: str) -> pd.Series | None:
        """The reported paired test of ``visit - against`` in ``arm``."""
        contrast = within_contrast(visit, against)
        rows = self.rows(outcome=outcome, visit=visit, group=arm, contrast=contrast)
        return self._use(selected_test(rows, *WITHIN_TESTS, self.study))

    def one(self, **where: str) -> pd.Series | None:
        """The single row matching ``where`` (e.g. the paired t of a change), or None."""
        rows = self.rows(**where)
        return self._use(rows.iloc[0] if len(rows) else None)

    def between_test(
        self, outcome: str, visit: str, arm: str, ref: str, change: bool, analysis: str
    ) -> pd.Series | None:
        """The ``analysis`` row (a t-test or Mann-Whitney) of ``arm - ref``, whatever the
        test selection reports."""
        rows = self.rows(outcome=outcome, visit=visit, group="", analysis=analysis)
        base = between_contrast(arm, ref)
        if change:
            rows = rows[rows["contrast"].str.startswith(base + " (")]
        else:
            rows = rows[rows["contrast"] == base]
        return self._use(rows.iloc[0] if len(rows) else None)

    def between(
        self, outcome: str, visit: str, arm: str, ref: str, change: bool
    ) -> pd.Series | None:
        """The reported Welch t / Mann-Whitney row of ``arm - ref`` on values or on change."""
        base = between_contrast(arm, ref)
        rows = self.rows(outcome=outcome, visit=visit, group="")
        if change:
            rows = rows[rows["contrast"].str.startswith(base + " (")]
        else:
            rows = rows[rows["contrast"] == base]
        return self._use(selected_test(rows, self.t_test, BETWEEN_TESTS[1], self.study))

    def model(
        self, outcome: str, visit: str, analysis: str, contrast: str, group: str = ""
    ) -> pd.Series | None:
        """An ``ancova``/``mmrm`` row whose contrast is ``contrast`` (or starts with it)."""
        rows = self.rows(outcome=outcome, visit=visit, analysis=analysis, group=group)
        rows = rows[
            rows["contrast"].eq(contrast) | rows["contrast"].str.startswith(contrast + " (")
        ]
        return self._use(rows.iloc[0] if len(rows) else None)

    def overall(self, outcome: str) -> pd.Series | None:
        """The reported repeated-measures ANOVA or Friedman row of ``outcome``."""
        return self._use(selected_test(self.rows(outcome=outcome), *OVERALL_TESTS, self.study))

    def has_adjusted(self) -> bool:
        """Whether any exploratory row has a multiplicity-adjusted p."""
        exploratory = ~self.frame["flags"].map(is_confirmatory)
        return bool(self.frame.loc[exploratory, "p_adjusted"].notna().any())

    def used_names(self, tests: Iterable[str]) -> str:
        """``"paired t-test or Wilcoxon signed-rank test"``: those of ``tests`` handed out."""
        return " or ".join(TEST_NAMES[t] for t in tests if t in self.used)

    def _use(self, row: pd.Series | None) -> pd.Series | None:
        if row is not None:
            self.used.add(row["analysis"])
            self.degenerate |= is_degenerate(row)
        return row
