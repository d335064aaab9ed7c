"""Publication tables: Table 1, outcomes by visit, and the classic-test layouts.

Every table is built as a :class:`Table` of display strings (numbers rounded for reading)
and written as CSV, Markdown, HTML and Word. ``results.csv`` keeps full precision; the
rounding here is for people. All writers are deterministic: identical input gives
byte-identical files (the Word file gets fixed core-property dates and zip timestamps).
"""

from __future__ import annotations

import html
import io
import math
import os
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate

from trialflow.config import Study
from trialflow.stats import descriptives as stats_descriptives
from trialflow.stats import select_reported
from trialflow.stats import table1 as stats_table1

__all__ = [
    "TABLE_FORMATS",
    "Table",
    "build_study_tables",
    "classic_tests_table",
    "decimals_for",
    "fixed_datetime",
    "format_ci",
    "format_mean_sd",
    "format_number",
    "format_p",
    "outcome_labels",
    "outcomes_by_visit_table",
    "single_arm_table",
    "table1_table",
    "table_file_names",
    "table_html",
    "table_markdown",
    "write_docx",
    "write_study_tables",
    "write_table",
]

TABLE_FORMATS = ("csv", "md", "html", "docx")
WITHIN_TESTS = ("paired_t", "wilcoxon_signed_rank")
BETWEEN_TESTS = ("welch_t", "mann_whitney")
OVERALL_TESTS = ("rm_anova", "friedman")
TEST_NAMES = {
    "paired_t": "paired t-test",
    "wilcoxon_signed_rank": "Wilcoxon signed-rank test",
    "welch_t": "Welch t-test",
    "mann_whitney": "Mann-Whitney U test",
    "ancova": "ANCOVA",
    "mmrm": "MMRM",
    "rm_anova": "repeated-measures ANOVA",
    "friedman": "Friedman test",
    "shapiro_wilk": "Shapiro-Wilk test",
    "responder": "responder analysis",
    "chi_square": "chi-square test",
    "fisher_exact": "Fisher's exact test",
    "posthoc_paired_t": "post-hoc paired t-tests between visits",
    "posthoc_wilcoxon": "post-hoc Wilcoxon tests between visits",
}
NONPARAMETRIC = ("wilcoxon_signed_rank", "mann_whitney", "friedman")
NONPARAMETRIC_MARK = "‡"
# a rank-test interval that R's algorithm cannot resolve (heavy ties); see the row's note
DEGENERATE_MARK = "§"
DEGENERATE_TEXT = "interval degenerate"
MISSING = ""  # what an empty cell shows


@dataclass(frozen=True)
class Table:
    """One human-readable table.

    Attributes
    ----------
    name : str
        File stem, e.g. ``"table1_baseline"``.
    title : str
        Caption printed above the table.
    frame : pandas.DataFrame
        Display strings only; column names are the printed headers.
    footnotes : tuple of str
        Printed below the table.
    group_column : str or None
        Column whose consecutive repeats are blanked in Markdown, HTML and Word (kept in
        CSV so that the CSV stays machine-readable).
    """

    name: str
    title: str
    frame: pd.DataFrame
    footnotes: tuple[str, ...] = ()
    group_column: str | None = None

    def display_frame(self) -> pd.DataFrame:
        """The frame with consecutive repeats of :attr:`group_column` blanked."""
        frame = self.frame.copy()
        if self.group_column and self.group_column in frame.columns:
            col = frame[self.group_column]
            repeat = col.eq(col.shift()) & col.ne(MISSING)
            frame.loc[repeat, self.group_column] = MISSING
        return frame

    def group_starts(self) -> list[bool]:
        """Whether each row starts a new group (for rule lines between groups)."""
        if not self.group_column or self.group_column not in self.frame.columns:
            return [False] * len(self.frame)
        col = self.frame[self.group_column]
        starts = col.ne(col.shift()).tolist()
        if starts:
            starts[0] = False
        return starts


# --------------------------------------------------------------------------- formatting


def format_number(value: float, decimals: int) -> str:
    """A number rounded to ``decimals`` places; empty for missing.

    Parameters
    ----------
    value : float
        The number; NaN or None gives an empty string.
    decimals : int
        Places after the decimal point.

    Returns
    -------
    str
        E.g. ``format_number(-0.04, 1) == "0.0"`` (no negative zero).
    """
    if value is None or not np.isfinite(value):
        return MISSING
    text = f"{float(value):.{decimals}f}"
    # "-0.0" reads as a change in a direction that the data do not show
    if re.fullmatch(r"-0\.?0*", text):
        text = text[1:]
    return text


def format_p(p: float, *, prefix: bool = False) -> str:
    """A p-value for reading: three decimals, ``< 0.001`` below that, ``> 0.999`` above.

    Parameters
    ----------
    p : float
        The p-value; NaN gives an empty string.
    prefix : bool
        Write ``"p = 0.023"`` / ``"p < 0.001"`` instead of ``"0.023"`` / ``"< 0.001"``.

    Returns
    -------
    str
    """
    if p is None or not np.isfinite(p):
        return MISSING
    if p < 0.001:
        text, sign = "0.001", "<"
    elif p > 0.999:
        text, sign = "0.999", ">"
    else:
        text, sign = f"{p:.3f}", "="
    if prefix:
        return f"p {sign} {text}"
    return text if sign == "=" else f"{sign} {text}"


def format_mean_sd(mean: float, sd: float, decimals: int, *, style: str = "paren") -> str:
    """``"45.2 (15.1)"`` (``style="paren"``) or ``"45.2 ± 15.1"`` (``style="pm"``)."""
    if mean is None or not np.isfinite(mean):
        return MISSING
    m = format_number(mean, decimals)
    if sd is None or not np.isfinite(sd):
        return m
    s = format_number(sd, decimals)
    return f"{m} ± {s}" if style == "pm" else f"{m} ({s})"


def format_ci(estimate: float, low: float, high: float, decimals: int) -> str:
    """``"2.1 (0.5 to 3.7)"``; the interval is left out when it is missing."""
    if estimate is None or not np.isfinite(estimate):
        return MISSING
    est = format_number(estimate, decimals)
    if low is None or high is None or not (np.isfinite(low) and np.isfinite(high)):
        return est
    return f"{est} ({format_number(low, decimals)} to {format_number(high, decimals)})"


def decimals_for(sd: float) -> int:
    """Decimal places that show a spread of ``sd`` to about three significant figures.

    One place for an SD of 10-99 (e.g. SF-36 scales), two for 1-9.9, three below 1; never
    fewer than one.
    """
    if sd is None or not np.isfinite(sd) or sd <= 0:
        return 1
    return int(min(3, max(1, 2 - math.floor(math.log10(sd)))))


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


# --------------------------------------------------------------------------- data helpers


def _clean_results(results: pd.DataFrame) -> pd.DataFrame:
    res = results.copy()
    for col in (
        "study",
        "group",
        "contrast",
        "note",
        "visit",
        "analysis",
        "outcome",
        "effect_size_name",
    ):
        if col not in res.columns:
            res[col] = ""
        res[col] = res[col].astype(object).fillna("").astype(str)
    for col in ("n", "estimate", "se", "df", "ci_low", "ci_high", "statistic", "p_value"):
        if col not in res.columns:
            res[col] = np.nan
        res[col] = pd.to_numeric(res[col], errors="coerce")
    for col in ("p_adjusted", "effect_size"):
        if col not in res.columns:
            res[col] = np.nan
        res[col] = pd.to_numeric(res[col], errors="coerce")
    return res


def _analysed_outcomes(outcomes: pd.DataFrame, present: Iterable[str]) -> list[str]:
    """Outcome ids in metadata order, restricted to those with data."""
    present = set(present)
    frame = outcomes
    if "analysed" in frame.columns:
        frame = frame[frame["analysed"].astype(bool)]
    return [o for o in frame["outcome"].drop_duplicates() if o in present]


def _selected(
    rows: pd.DataFrame, parametric: str, nonparametric: str, study: Study
) -> pd.Series | None:
    """The row of the test the analysis reports among a parametric/non-parametric pair.

    ``rows`` carry ``_reported`` from :func:`trialflow.stats.select_reported` (the pipeline's
    own rule, so tables, figures and the multiplicity family agree). If that does not settle
    it (e.g. a hand-made results table), ``test_selection`` decides, parametric for ``auto``.
    """
    rows = rows[rows["analysis"].isin((parametric, nonparametric))]
    if rows.empty:
        return None
    if rows["analysis"].nunique() == 1:
        return rows.iloc[0]
    reported = rows[rows["_reported"]]
    if reported["analysis"].nunique() == 1:
        return reported.iloc[0]
    wanted = nonparametric if study.analysis.test_selection == "nonparametric" else parametric
    return rows[rows["analysis"] == wanted].iloc[0]


class _Results:
    """Indexed access to the rows of ``results.csv`` that the tables print."""

    def __init__(self, results: pd.DataFrame, study: Study):
        res = _clean_results(results)
        if not res["study"].ne("").any():
            res["study"] = study.id
        res["_reported"] = select_reported(
            res, study.analysis.test_selection, study.analysis.alpha
        ).to_numpy()
        self.res = res
        self.study = study
        self.used: set[str] = set()
        self.degenerate = False  # a printed row carries a degenerate-interval note

    def _pick(self, **where: str) -> pd.DataFrame:
        mask = pd.Series(True, index=self.res.index)
        for col, value in where.items():
            mask &= self.res[col] == value
        return self.res[mask]

    def within(self, outcome: str, visit: str, against: str, arm: str) -> pd.Series | None:
        """The reported paired test of ``visit - against`` in ``arm``."""
        rows = self._pick(outcome=outcome, visit=visit, group=arm, contrast=f"{visit} - {against}")
        return self._use(_selected(rows, *WITHIN_TESTS, self.study))

    def between(
        self, outcome: str, visit: str, arm: str, ref: str, change: bool
    ) -> pd.Series | None:
        """The reported Welch t / Mann-Whitney row of ``arm - ref`` on values or on change."""
        base = f"{arm} - {ref}"
        rows = self._pick(outcome=outcome, visit=visit, group="")
        if change:
            rows = rows[rows["contrast"].str.startswith(base + " (")]
        else:
            rows = rows[rows["contrast"] == base]
        return self._use(_selected(rows, *BETWEEN_TESTS, self.study))

    def model(
        self, outcome: str, visit: str, analysis: str, contrast: str, group: str = ""
    ) -> pd.Series | None:
        """An ``ancova``/``mmrm`` row whose contrast is ``contrast`` (or starts with it)."""
        rows = self._pick(outcome=outcome, visit=visit, analysis=analysis, group=group)
        rows = rows[
            rows["contrast"].eq(contrast) | rows["contrast"].str.startswith(contrast + " (")
        ]
        return self._use(rows.iloc[0] if len(rows) else None)

    def overall(self, outcome: str) -> pd.Series | None:
        """The reported repeated-measures ANOVA or Friedman row of ``outcome``."""
        rows = self._pick(outcome=outcome)
        return self._use(_selected(rows, *OVERALL_TESTS, self.study))

    def has_adjusted(self) -> bool:
        return bool(self.res["p_adjusted"].notna().any())

    def _use(self, row: pd.Series | None) -> pd.Series | None:
        if row is not None:
            self.used.add(row["analysis"])
            self.degenerate |= _is_degenerate(row)
        return row


def _is_degenerate(row: pd.Series) -> bool:
    return DEGENERATE_TEXT in str(row["note"])


def _effect_cell(row: pd.Series | None, decimals: int, mark: str = "") -> str:
    """``"2.1 (0.5 to 3.7); p = 0.023; adj. p = 0.046"`` from one results row."""
    if row is None:
        return MISSING
    parts = []
    est = format_ci(row["estimate"], row["ci_low"], row["ci_high"], decimals)
    if est:
        parts.append(est + mark + (DEGENERATE_MARK if _is_degenerate(row) else ""))
    if np.isfinite(row["p_value"]):
        parts.append(format_p(row["p_value"], prefix=True))
    if np.isfinite(row["p_adjusted"]):
        parts.append("adj. " + format_p(row["p_adjusted"], prefix=True))
    if not parts and row["note"]:
        return f"not estimable ({row['note']})"
    return "; ".join(parts)


def _p_cell(row: pd.Series | None) -> str:
    """``"0.023"``, with the adjusted p in brackets and ‡ after a non-parametric test's p."""
    if row is None:
        return MISSING
    text = format_p(row["p_value"])
    if not text:
        return MISSING
    if np.isfinite(row["p_adjusted"]):
        text += f" (adj. {format_p(row['p_adjusted'])})"
    return text + (NONPARAMETRIC_MARK if row["analysis"] in NONPARAMETRIC else "")


def _nonparametric_note(res: _Results) -> list[str]:
    used = [TEST_NAMES[t] for t in NONPARAMETRIC if t in res.used]
    if not used:
        return []
    return [f"{NONPARAMETRIC_MARK} non-parametric test ({', '.join(used)})."] + _degenerate_note(
        res
    )


def _degenerate_note(res: _Results) -> list[str]:
    if not res.degenerate:
        return []
    return [
        f"{DEGENERATE_MARK} confidence interval of the rank test degenerate with heavily tied"
        " data (R's wilcox.test algorithm); see the row's note in results.csv and read the"
        " t-based interval instead."
    ]


def _descriptive_lookup(descriptives: pd.DataFrame) -> dict[tuple[str, str, str], pd.Series]:
    return {(r.outcome, r.arm, r.visit): r for r in descriptives.itertuples(index=False)}


def _decimals_by_outcome(descriptives: pd.DataFrame, study: Study) -> dict[str, int]:
    base = descriptives[descriptives["visit"] == study.baseline.id]
    sd = base.groupby("outcome")["sd"].median()
    fallback = descriptives.groupby("outcome")["sd"].median()
    return {o: decimals_for(sd.get(o, fallback.get(o, np.nan))) for o in fallback.index}


def _arm_labels(study: Study) -> dict[str, str]:
    return {a.id: a.label for a in study.arms}


def _drop_empty_p_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without the p columns that no row fills (tests absent from results)."""
    keep = [c for c in frame.columns if not c.startswith("p ") or frame[c].ne(MISSING).any()]
    return frame[keep] if len(frame) else frame


def _used_test_names(res: _Results, tests: Sequence[str]) -> str:
    """``"paired t-test or Wilcoxon signed-rank test"``: those of ``tests`` the table used."""
    return " or ".join(TEST_NAMES[t] for t in tests if t in res.used)


def _multiplicity_note(study: Study, res: _Results) -> list[str]:
    if not res.has_adjusted():
        return []
    m = study.analysis.multiplicity
    method = {"holm": "Holm", "fdr_bh": "Benjamini-Hochberg (FDR)"}.get(m.method, m.method)
    family = m.family.replace("_", " ")
    return [
        f"adj. p: adjusted for multiplicity by the {method} method within the family '{family}'."
    ]


# --------------------------------------------------------------------------- Table 1


VARIABLE_LABELS = {
    "age": "Age (years)",
    "sex": "Sex",
    "height_cm": "Height (cm)",
    "weight_kg": "Weight (kg)",
    "bmi": "Body-mass index (kg/m²)",
    "ethnicity": "Ethnicity (GLI-2012 group)",
}
SUMMARY_LABELS = {"mean_sd": "mean (SD)", "median_iqr": "median [Q1, Q3]", "n_pct": "n (%)"}
ALL_ARMS = "all"


def table1_table(
    study: Study,
    participants: pd.DataFrame,
    long: pd.DataFrame | None = None,
    outcomes: pd.DataFrame | None = None,
) -> Table:
    """Table 1 (baseline characteristics by arm) in wide display form.

    Parameters
    ----------
    study : Study
    participants : pandas.DataFrame
        The roster; gives the n in each column header.
    long : pandas.DataFrame, optional
        Tidy Table 1 as from :func:`trialflow.stats.table1` (``variable, level, summary, arm,
        text``; ``summary`` the kind of summary, ``text`` the cell); computed from
        ``participants`` when not given. A frame whose ``summary`` column already holds the
        display strings (no ``text`` column) is accepted too.
    outcomes : pandas.DataFrame, optional
        Outcome metadata, to label baseline outcome variables.

    Returns
    -------
    Table
    """
    long = stats_table1(participants, study) if long is None else long.copy()
    long["level"] = long["level"].astype(object).fillna("").astype(str)
    if "text" in long.columns:
        cells = long["text"]
        kinds = long["summary"].map(lambda k: SUMMARY_LABELS.get(k, k))
    else:
        cells, kinds = long["summary"], pd.Series("", index=long.index)
    labels = dict(VARIABLE_LABELS)
    if outcomes is not None:
        labels.update({o: f"{lbl}, baseline" for o, lbl in outcome_labels(outcomes).items()})
    long["Characteristic"] = [
        labels.get(v, str(v).replace("_", " ").capitalize()) + (f", {k}" if k else "")
        for v, k in zip(long["variable"], kinds, strict=True)
    ]
    long["cell"] = cells.astype(object).fillna("").astype(str)
    arm_labels = _arm_labels(study)
    roster = participants[participants["arm"].isin(study.arm_ids)]
    counts = roster["arm"].value_counts()
    arms = [a for a in study.arm_ids if a in set(long["arm"])]
    if len(arms) > 1 and ALL_ARMS in set(long["arm"]):
        arms.append(ALL_ARMS)

    def header(arm: str) -> str:
        if arm == ALL_ARMS:
            return f"Total (n = {len(roster)})"
        return f"{arm_labels[arm]} (n = {int(counts.get(arm, 0))})"

    long = long[long["arm"].isin(arms)]
    keys = long[["Characteristic", "level"]].drop_duplicates()
    wide = long.pivot_table(
        index=["Characteristic", "level"],
        columns="arm",
        values="cell",
        aggfunc="first",
        sort=False,
    )
    frame = keys.set_index(["Characteristic", "level"]).join(wide).reset_index()
    frame = frame[["Characteristic", "level", *arms]].fillna(MISSING)
    frame.columns = ["Characteristic", "Level", *[header(a) for a in arms]]
    return Table(
        name="table1_baseline",
        title=f"Table 1. Baseline characteristics by arm: {study.title}",
        frame=frame.astype(str).reset_index(drop=True),
        footnotes=(
            "Numeric characteristics: mean (SD) when Shapiro-Wilk p >= "
            f"{study.analysis.alpha:g} in every arm, else median [Q1, Q3]; categorical: n (%) "
            "of those recorded. No significance tests (CONSORT).",
        ),
        group_column="Characteristic",
    )


# --------------------------------------------------------------------------- outcome tables


def outcomes_by_visit_table(
    study: Study,
    outcomes: pd.DataFrame,
    results: pd.DataFrame,
    descriptives: pd.DataFrame,
) -> Table:
    """Outcomes by visit: mean (SD) per arm, within-arm change, between-arm model effects.

    One row per outcome and visit. Per arm: ``mean (SD) [n]`` and the change from baseline
    with 95% CI and p (the paired t or Wilcoxon test that the analysis selected). For
    parallel designs: ANCOVA and MMRM differences versus the reference arm with 95% CI, p and
    the multiplicity-adjusted p where ``results`` has one.

    Parameters
    ----------
    study : Study
    outcomes : pandas.DataFrame
        Outcome metadata (labels, units, direction).
    results : pandas.DataFrame
        Rows of ``results.csv``.
    descriptives : pandas.DataFrame
        ``outcome, arm, visit, n, mean, sd, ...``.

    Returns
    -------
    Table
    """
    res = _Results(results, study)
    labels = outcome_labels(outcomes)
    arm_labels = _arm_labels(study)
    desc = _descriptive_lookup(descriptives)
    decimals = _decimals_by_outcome(descriptives, study)
    ref = study.reference_arm.id
    others = [a for a in study.arm_ids if a != ref]
    baseline = study.baseline.id
    wilcoxon_mark = NONPARAMETRIC_MARK
    rows = []
    for outcome in _analysed_outcomes(outcomes, descriptives["outcome"]):
        d = decimals[outcome]
        for visit in study.visits:
            row = {"Outcome": labels[outcome], "Visit": visit.label}
            for arm in study.arm_ids:
                cell = desc.get((outcome, arm, visit.id))
                text = MISSING
                if cell is not None and np.isfinite(cell.mean):
                    text = f"{format_mean_sd(cell.mean, cell.sd, d)} [{int(cell.n)}]"
                row[f"{arm_labels[arm]}: mean (SD) [n]"] = text
                change = (
                    None if visit.id == baseline else res.within(outcome, visit.id, baseline, arm)
                )
                mark = (
                    wilcoxon_mark
                    if change is not None and change["analysis"] == WITHIN_TESTS[1]
                    else ""
                )
                row[f"{arm_labels[arm]}: change from baseline (95% CI)"] = _effect_cell(
                    change, d, mark
                )
            if not others:  # single arm: the MMRM estimate of each change from baseline
                for arm in study.arm_ids:
                    hit = None
                    if visit.id != baseline:
                        contrast = f"{visit.id} - {baseline}"
                        hit = res.model(outcome, visit.id, "mmrm", contrast, group=arm)
                    row[f"{arm_labels[arm]}: MMRM change from baseline (95% CI)"] = _effect_cell(
                        hit, d
                    )
            for arm in others:
                vs = f"{arm_labels[arm]} vs {arm_labels[ref]}" if len(others) > 1 else ""
                for model, name in (("ancova", "ANCOVA"), ("mmrm", "MMRM")):
                    hit = (
                        None
                        if visit.id == baseline
                        else res.model(outcome, visit.id, model, f"{arm} - {ref}")
                    )
                    head = f"{name} difference{' ' + vs if vs else ''} (95% CI)"
                    row[head] = _effect_cell(hit, d)
            rows.append(row)
    frame = pd.DataFrame(rows)
    # Columns for analyses absent from results are dropped rather than printed empty
    keep = [c for c in frame.columns if c in ("Outcome", "Visit") or frame[c].ne(MISSING).any()]
    frame = frame[keep] if len(frame) else frame
    notes = ["mean (SD) [n]: n participants with a value at the visit."]
    if res.used & set(WITHIN_TESTS):
        used = _used_test_names(res, WITHIN_TESTS)
        note = (
            "Within-arm change: " + used + " as selected by the analysis"
            f" (test_selection = {study.analysis.test_selection})"
        )
        if WITHIN_TESTS[1] in res.used:
            note += f"; {wilcoxon_mark} marks Wilcoxon rows (estimate as reported by that test)"
        notes.append(note + ".")
    if others and {"ancova", "mmrm"} & res.used:
        cov = ", ".join(study.covariates)
        notes.append(
            f"Differences are {', '.join(arm_labels[a] for a in others)} minus {arm_labels[ref]}; "
            "ANCOVA adjusts for the baseline value" + (f" and {cov}" if cov else "") + "."
        )
    if "mmrm" in res.used:
        notes.append("MMRM: model, covariance structure and estimand in the Methods.")
    notes += _degenerate_note(res) + _multiplicity_note(study, res)
    return Table(
        name="table2_outcomes_by_visit",
        title=f"Table 2. Outcomes by visit and arm: {study.title}",
        frame=frame.reset_index(drop=True),
        footnotes=tuple(notes),
        group_column="Outcome",
    )


def classic_tests_table(
    study: Study,
    outcomes: pd.DataFrame,
    results: pd.DataFrame,
    descriptives: pd.DataFrame,
) -> Table:
    """The classic-test table as the source papers lay it out (parallel designs).

    Per outcome one row per arm: mean ± SD at every visit, the within-arm p for each
    post-baseline visit versus baseline (paired t or Wilcoxon, as selected), and the
    between-arm p (Welch t or Mann-Whitney, as selected) at each visit and on the change from
    baseline. A between-arm p compares that row's arm with the reference arm, so it is on
    the non-reference arm's row.

    Parameters
    ----------
    study, outcomes, results, descriptives
        As for :func:`outcomes_by_visit_table`.

    Returns
    -------
    Table
    """
    res = _Results(results, study)
    labels = outcome_labels(outcomes)
    arm_labels = _arm_labels(study)
    desc = _descriptive_lookup(descriptives)
    decimals = _decimals_by_outcome(descriptives, study)
    ref = study.reference_arm.id
    baseline = study.baseline
    rows = []
    for outcome in _analysed_outcomes(outcomes, descriptives["outcome"]):
        d = decimals[outcome]
        for arm in study.arm_ids:
            row = {"Outcome": labels[outcome], "Arm": arm_labels[arm]}
            for visit in study.visits:
                cell = desc.get((outcome, arm, visit.id))
                row[f"{visit.label}, mean ± SD"] = (
                    format_mean_sd(cell.mean, cell.sd, d, style="pm")
                    if cell is not None
                    else MISSING
                )
            for visit in study.post_baseline:
                within = res.within(outcome, visit.id, baseline.id, arm)
                row[f"p within arm, {visit.label} vs {baseline.label}"] = _p_cell(within)
            for visit in study.visits:
                hit = None
                if arm != ref:
                    hit = res.between(outcome, visit.id, arm, ref, change=False)
                row[f"p between arms, {visit.label}"] = _p_cell(hit)
            for visit in study.post_baseline:
                hit = None
                if arm != ref:
                    hit = res.between(outcome, visit.id, arm, ref, change=True)
                row[f"p between arms, change to {visit.label}"] = _p_cell(hit)
            rows.append(row)
    frame = _drop_empty_p_columns(pd.DataFrame(rows))
    within = _used_test_names(res, WITHIN_TESTS) or "none"
    between = _used_test_names(res, BETWEEN_TESTS) or "none"
    notes = [
        f"Within-arm p: {within}; between-arm p: {between}; chosen per comparison by "
        f"test_selection = {study.analysis.test_selection}"
        + (
            " (Shapiro-Wilk at alpha = " + f"{study.analysis.alpha:g})"
            if study.analysis.test_selection == "auto"
            else ""
        )
        + ".",
        f"Between-arm p compares the arm of the row with {arm_labels[ref]}.",
    ]
    notes += _nonparametric_note(res) + _multiplicity_note(study, res)
    return Table(
        name="table3_tests",
        title=f"Table 3. Within- and between-arm tests: {study.title}",
        frame=frame.reset_index(drop=True),
        footnotes=tuple(notes),
        group_column="Outcome",
    )


def single_arm_table(
    study: Study,
    outcomes: pd.DataFrame,
    results: pd.DataFrame,
    descriptives: pd.DataFrame,
) -> Table:
    """The single-arm table: one row per outcome, visits as columns.

    Columns: mean ± SD at each visit; p of each post-baseline visit versus baseline; p of
    follow-up versus end of treatment (whether the effect was maintained); the overall p over
    visits (repeated-measures ANOVA or Friedman) when ``results`` has one.

    Parameters
    ----------
    study, outcomes, results, descriptives
        As for :func:`outcomes_by_visit_table`.

    Returns
    -------
    Table
    """
    res = _Results(results, study)
    labels = outcome_labels(outcomes)
    desc = _descriptive_lookup(descriptives)
    decimals = _decimals_by_outcome(descriptives, study)
    arm = study.reference_arm.id
    baseline = study.baseline
    eot, fu = study.end_of_treatment, study.follow_up
    rows = []
    for outcome in _analysed_outcomes(outcomes, descriptives["outcome"]):
        d = decimals[outcome]
        row = {"Outcome": labels[outcome]}
        for visit in study.visits:
            cell = desc.get((outcome, arm, visit.id))
            text = MISSING
            if cell is not None and np.isfinite(cell.mean):
                text = format_mean_sd(cell.mean, cell.sd, d, style="pm")
            row[f"{visit.label}, mean ± SD"] = text
        for visit in study.post_baseline:
            row[f"p {visit.label} vs {baseline.label}"] = _p_cell(
                res.within(outcome, visit.id, baseline.id, arm)
            )
        if eot is not None and fu is not None:
            row[f"p {fu.label} vs {eot.label}"] = _p_cell(res.within(outcome, fu.id, eot.id, arm))
        overall = res.overall(outcome)
        row["p over visits"] = _p_cell(overall)
        rows.append(row)
    frame = _drop_empty_p_columns(pd.DataFrame(rows))
    paired = _used_test_names(res, WITHIN_TESTS) or "none"
    notes = [
        f"Paired comparisons: {paired}, chosen per comparison by test_selection = "
        f"{study.analysis.test_selection}.",
    ]
    if res.used & set(OVERALL_TESTS):
        overall = _used_test_names(res, OVERALL_TESTS)
        notes.append(f"p over visits: {overall}.")
    if eot is not None and fu is not None:
        notes.append(
            f"p {fu.label} vs {eot.label}: was the change maintained after treatment stopped."
        )
    notes += _nonparametric_note(res) + _multiplicity_note(study, res)
    return Table(
        name="table3_tests",
        title=f"Table 3. Outcomes over visits (single arm): {study.title}",
        frame=frame.reset_index(drop=True),
        footnotes=tuple(notes),
    )


def build_study_tables(
    study: Study,
    outcomes: pd.DataFrame,
    participants: pd.DataFrame,
    results: pd.DataFrame,
    descriptives: pd.DataFrame | None = None,
    analysis: pd.DataFrame | None = None,
    table1: pd.DataFrame | None = None,
) -> list[Table]:
    """All tables of a study, in print order.

    Parameters
    ----------
    study : Study
    outcomes : pandas.DataFrame
        Outcome metadata.
    participants : pandas.DataFrame
        The roster.
    results : pandas.DataFrame
        ``results.csv``.
    descriptives : pandas.DataFrame, optional
        ``descriptives.csv``; computed from ``analysis`` with
        :func:`trialflow.stats.descriptives` when missing.
    analysis : pandas.DataFrame, optional
        The long analysis data; needed only when ``descriptives`` is not given.
    table1 : pandas.DataFrame, optional
        A long Table 1 (``variable, level, arm, summary``) to print instead of
        :func:`table1_long`.

    Returns
    -------
    list of Table
        Table 1, Table 2 (outcomes by visit) and Table 3 (classic tests for parallel designs,
        the single-arm table otherwise).
    """
    if descriptives is None:
        if analysis is None:
            raise ValueError("build_study_tables needs descriptives or analysis")
        descriptives = stats_descriptives(analysis, participants, study)
    tables = [
        table1_table(study, participants, table1, outcomes),
        outcomes_by_visit_table(study, outcomes, results, descriptives),
    ]
    if study.design == "single_arm":
        tables.append(single_arm_table(study, outcomes, results, descriptives))
    else:
        tables.append(classic_tests_table(study, outcomes, results, descriptives))
    return tables


def table_file_names(study: Study) -> list[str]:
    """The file names :func:`write_study_tables` writes for ``study`` (for Snakemake outputs)."""
    stems = ["table1_baseline", "table2_outcomes_by_visit"]
    stems.append("table3_tests")  # classic tests (parallel) or single-arm tests
    return [f"{stem}.{ext}" for stem in stems for ext in TABLE_FORMATS]


# --------------------------------------------------------------------------- writers


def fixed_datetime() -> datetime:
    """The timestamp written into Word files: ``SOURCE_DATE_EPOCH`` if set, else 2000-01-01."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC).replace(tzinfo=None)
    return datetime(2000, 1, 1)


def table_markdown(table: Table) -> str:
    """The table as GitHub-flavoured Markdown, with its title and footnotes."""
    frame = table.display_frame()
    body = tabulate(
        frame.values.tolist(),
        headers=list(frame.columns),
        tablefmt="github",
        disable_numparse=True,
        showindex=False,
    )
    notes = "".join(f"\n{note}  " for note in table.footnotes)
    return f"**{table.title}**\n\n{body}\n{notes}\n"


def _html_cell(value: object) -> str:
    """Escaped cell text that wraps only between its parts ("est (CI)", "p = x", "adj. p")."""
    text = html.escape(str(value))
    text = re.sub(r" (=|&lt;|&gt;|to|±) ", r"&nbsp;\1&nbsp;", text)
    text = re.sub(r"(\d|CI\)?) \(", r"\1&nbsp;(", text)
    return text.replace("adj. p", "adj.&nbsp;p")


def table_html(table: Table) -> str:
    """The table as an HTML ``<table>`` fragment (title as caption, footnotes in ``<tfoot>``)."""
    frame = table.display_frame()
    esc = html.escape
    out = [
        f'<table class="tf-table" id="{esc(table.name)}">',
        f"<caption>{esc(table.title)}</caption>",
    ]
    out.append(
        "<thead><tr>" + "".join(f"<th>{esc(str(c))}</th>" for c in frame.columns) + "</tr></thead>"
    )
    out.append("<tbody>")
    for start, values in zip(table.group_starts(), frame.itertuples(index=False), strict=True):
        cls = ' class="group-start"' if start else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{_html_cell(v)}</td>" for v in values) + "</tr>")
    out.append("</tbody>")
    if table.footnotes:
        span = max(1, frame.shape[1])
        notes = "<br>".join(esc(n) for n in table.footnotes)
        out.append(f'<tfoot><tr><td colspan="{span}">{notes}</td></tr></tfoot>')
    out.append("</table>")
    return "\n".join(out) + "\n"


_HTML_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table.tf-table {{ border-collapse: collapse; font-size: 0.85em; }}
table.tf-table caption {{ text-align: left; font-weight: bold; margin-bottom: 0.5em; }}
table.tf-table th, table.tf-table td {{ border-bottom: 1px solid #ccc; padding: 0.25em 0.6em; vertical-align: top; }}
table.tf-table thead th {{ border-bottom: 2px solid #333; text-align: left; }}
table.tf-table tr.group-start td {{ border-top: 1.5px solid #666; }}
table.tf-table tfoot td {{ font-size: 0.9em; color: #444; border: none; }}
</style>
</head>
<body>
{table}</body>
</html>
"""


def _deterministic_zip(data: bytes, when: datetime) -> bytes:
    """Rewrite a zip with fixed member timestamps and attributes, members in original order."""
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def _docx_bytes(tables: Sequence[Table], title: str | None = None) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    document = Document()
    when = fixed_datetime()
    props = document.core_properties
    props.author = "trialflow"
    props.last_modified_by = "trialflow"
    props.created = props.modified = props.last_printed = when
    props.revision = 1
    props.title = title or (tables[0].title if tables else "")
    props.comments = ""
    widest = max((t.frame.shape[1] for t in tables), default=0)
    if widest > 6:  # wide tables read better on a landscape page
        section = document.sections[0]
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    for section in document.sections:
        section.left_margin = section.right_margin = Pt(36)
    size = Pt(8 if widest > 6 else 9)
    for i, table in enumerate(tables):
        if i:
            document.add_page_break()
        heading = document.add_paragraph()
        heading.add_run(table.title).bold = True
        frame = table.display_frame()
        grid = document.add_table(rows=1, cols=max(1, frame.shape[1]))
        grid.style = "Table Grid"
        header = grid.rows[0]
        # repeat the header row on every page of a long table
        tr_pr = header._tr.get_or_add_trPr()
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "true")
        tr_pr.append(repeat)
        for cell, name in zip(header.cells, frame.columns, strict=False):
            run = cell.paragraphs[0].add_run(str(name))
            run.bold = True
            run.font.size = size
        for values in frame.itertuples(index=False):
            cells = grid.add_row().cells
            for cell, value in zip(cells, values, strict=False):
                cell.paragraphs[0].add_run(str(value)).font.size = size
        for note in table.footnotes:
            para = document.add_paragraph()
            para.add_run(note).font.size = Pt(8)
    buffer = io.BytesIO()
    document.save(buffer)
    return _deterministic_zip(buffer.getvalue(), when)


def write_docx(tables: Sequence[Table], path: str | Path, title: str | None = None) -> Path:
    """Write one or more tables to a Word file, byte-identical for identical input.

    Parameters
    ----------
    tables : sequence of Table
        One table per page.
    path : path-like
        Output ``.docx``.
    title : str, optional
        Document title (core property); defaults to the first table's title.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    path.write_bytes(_docx_bytes(tables, title))
    return path


def write_table(table: Table, outdir: str | Path) -> list[Path]:
    """Write one table as ``<name>.csv``, ``.md``, ``.html`` and ``.docx`` into ``outdir``.

    Returns
    -------
    list of pathlib.Path
        The four files, in :data:`TABLE_FORMATS` order.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    stem = outdir / table.name
    csv = stem.with_suffix(".csv")
    table.frame.to_csv(csv, index=False, lineterminator="\n")
    md = stem.with_suffix(".md")
    md.write_text(table_markdown(table), encoding="utf-8", newline="\n")
    page = stem.with_suffix(".html")
    page.write_text(
        _HTML_PAGE.format(title=html.escape(table.title), table=table_html(table)),
        encoding="utf-8",
        newline="\n",
    )
    docx = write_docx([table], stem.with_suffix(".docx"))
    return [csv, md, page, docx]


def write_study_tables(
    study: Study,
    analysis: pd.DataFrame,
    outcomes: pd.DataFrame,
    participants: pd.DataFrame,
    results: pd.DataFrame,
    descriptives: pd.DataFrame | None,
    outdir: str | Path,
    table1: pd.DataFrame | None = None,
) -> list[Path]:
    """Build and write every table of a study (see :func:`table_file_names` for the names).

    Parameters
    ----------
    study : Study
    analysis : pandas.DataFrame
        Long analysis data (used only when ``descriptives`` is None).
    outcomes, participants, results, descriptives
        As for :func:`build_study_tables`.
    outdir : path-like
        Directory for the files; created if needed.
    table1 : pandas.DataFrame, optional
        Long Table 1 from ``trialflow.stats.table1``, if available.

    Returns
    -------
    list of pathlib.Path
        Every file written, in :func:`table_file_names` order.
    """
    tables = build_study_tables(
        study, outcomes, participants, results, descriptives, analysis=analysis, table1=table1
    )
    paths: list[Path] = []
    for table in tables:
        paths += write_table(table, outdir)
    return paths
