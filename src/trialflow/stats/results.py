"""The results contract: every comparison of a study as one long table, which test each table
reports, the multiplicity adjustment, and the deterministic CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..config import Study
from ._tidy import wide_tables
from .ancova import ancova_by_visit
from .between import baseline_categorical, between_group
from .contract import (
    ANALYSIS_ORDER,
    CONFIRMATORY_FLAGS,
    MODEL_FIT_COLUMNS,
    MODEL_FIT_TEXT_COLUMNS,
    RESULT_COLUMNS,
    SENSITIVITY,
    TEXT_COLUMNS,
    VALUES_CONTRAST,
    empty_results,
    has_flag,
    split_between_contrast,
    typed_results,
    within_contrast,
)
from .multiplicity import p_adjust
from .normality import normality
from .paired import within_group
from .responders import responders
from .single_arm import single_arm_analyses

TEST_SELECTIONS = ("auto", "parametric", "nonparametric")
FAMILIES = ("primary_visit", "all_visits", "per_outcome")

# (parametric, nonparametric) analyses answering the same question
PAIRED_ANALYSES = {
    "paired_t": ("parametric", "within"),
    "wilcoxon_signed_rank": ("nonparametric", "within"),
    "welch_t": ("parametric", "between"),
    "student_t": ("parametric", "between"),
    "mann_whitney": ("nonparametric", "between"),
    "rm_anova": ("parametric", "across"),
    "friedman": ("nonparametric", "across"),
    "posthoc_paired_t": ("parametric", "across"),
    "posthoc_wilcoxon": ("nonparametric", "across"),
}


def analyse_study(
    analysis: pd.DataFrame, outcomes: pd.DataFrame, participants: pd.DataFrame, study: Study
) -> pd.DataFrame:
    """Every row of ``results/<study>/tables/results.csv`` except the MMRM ones.

    Parameters
    ----------
    analysis : DataFrame
        Long analysis data: ``participant_id, arm, visit, week, outcome, value`` plus the
        study's covariate columns (taken from ``participants`` when absent).
    outcomes : DataFrame
        Outcome metadata: ``outcome, label, unit, higher_is_better`` (and ``analysed``).
    participants : DataFrame
        The roster: ``participant_id, arm, ...``.
    study : Study

    Returns
    -------
    DataFrame
        Exactly the contract's columns (:data:`trialflow.stats.contract.RESULT_COLUMNS`):
        baseline chi-square/Fisher rows, Shapiro-Wilk rows, within-arm paired t and Wilcoxon,
        and for parallel designs between-arm Welch (or Student) t and Mann-Whitney (values and
        changes) and ANCOVA, for single-arm designs RM-ANOVA, Friedman and post-hoc rows, and
        responder rows where a responder threshold is configured. Both tests of each pair
        are kept; use :func:`select_reported` to pick the one a table shows. Every row's
        ``analysis_set`` is the study's ``analysis.analysis_set`` (``analysis`` and
        ``participants`` hold that set). ``p_adjusted`` is filled by :func:`adjust_family`.
        Rows are ordered by outcome, visit (config order; rows across visits last) and
        analysis (:data:`ANALYSIS_ORDER`), then in the order computed.
    """
    analysis = with_covariates(analysis, participants, study)
    conf_level = 1 - study.analysis.alpha
    tables = wide_tables(analysis, study)  # reshaped once for every analysis
    parts = [
        baseline_categorical(participants, study),
        normality(analysis, study, tables),
        within_group(analysis, study, conf_level, tables),
    ]
    if study.single_arm:
        parts.append(single_arm_analyses(analysis, study, conf_level))
    else:
        parts.append(between_group(analysis, study, conf_level, tables))
        parts.append(ancova_by_visit(analysis, study, conf_level, tables))
    # completers differ by outcome: each outcome's denominator is the participants it has
    per_outcome = study.analysis.analysis_set == "completers"
    parts.append(
        responders(analysis, outcomes, study, conf_level, None if per_outcome else participants)
    )
    parts = [part for part in parts if not part.empty]
    results = pd.concat(parts, ignore_index=True) if parts else empty_results()
    results["analysis_set"] = study.analysis.analysis_set
    results = sort_results(results, study)
    return adjust_family(results, study)


def with_covariates(
    analysis: pd.DataFrame, participants: pd.DataFrame, study: Study
) -> pd.DataFrame:
    """``analysis`` with the study's covariates taken from the roster where it lacks them."""
    missing = [
        c for c in study.covariates if c not in analysis.columns and c in participants.columns
    ]
    if not missing:
        return analysis
    return analysis.merge(
        participants[["participant_id", *missing]], on="participant_id", how="left"
    )


def sort_results(results: pd.DataFrame, study: Study) -> pd.DataFrame:
    """Deterministic row order: outcome, visit (config order, across-visit rows last),
    analysis (:data:`ANALYSIS_ORDER`), then the order in which rows were computed."""
    visit_rank = {visit: i for i, visit in enumerate(study.visit_ids)}
    analysis_rank = {name: i for i, name in enumerate(ANALYSIS_ORDER)}
    keys = pd.DataFrame(
        {
            "outcome": results["outcome"].to_numpy(),
            "visit": results["visit"].map(visit_rank).fillna(len(visit_rank)).to_numpy(),
            "analysis": results["analysis"]
            .map(analysis_rank)
            .fillna(len(analysis_rank))
            .to_numpy(),
        }
    )
    order = keys.sort_values(["outcome", "visit", "analysis"], kind="mergesort").index
    return results.iloc[order].reset_index(drop=True)[list(RESULT_COLUMNS)]


def select_reported(
    results: pd.DataFrame, test_selection: str = "auto", normality_alpha: float = 0.05
) -> pd.Series:
    """Which rows a table reports: one test of each parametric / nonparametric pair.

    Pairs: paired t / Wilcoxon signed-rank, Welch t / Mann-Whitney, RM-ANOVA / Friedman (and
    their post-hoc rows). Rows of any other analysis are always reported.

    ``auto`` is the source papers' rule: the parametric test when Shapiro-Wilk p >=
    ``normality_alpha`` in every cell involved, else the nonparametric one. The cells are:
    the arm's changes for a within-arm change; both arms' values at the visit for a
    between-arm comparison of values, both arms' changes for a comparison of changes; every
    visit's values for the across-visit tests. A cell whose normality could not be tested
    (fewer than 3 values, all equal) counts as not normal.

    Parameters
    ----------
    results : DataFrame
        Contract rows including the ``shapiro_wilk`` rows (as from :func:`analyse_study`).
    test_selection : {"auto", "parametric", "nonparametric"}
    normality_alpha : float

    Returns
    -------
    Series of bool
        Aligned with ``results``.
    """
    if test_selection not in TEST_SELECTIONS:
        raise ValueError(
            f"test_selection must be one of {TEST_SELECTIONS}, got {test_selection!r}"
        )
    shapiro = results.loc[results["analysis"] == "shapiro_wilk"]
    p_of = {
        (r.study, r.outcome, r.visit, r.contrast, r.group): r.p_value
        for r in shapiro.itertuples(index=False)
    }
    values_cells: dict[tuple, list[float]] = {}
    for r in shapiro.itertuples(index=False):
        if r.contrast == VALUES_CONTRAST:
            values_cells.setdefault((r.study, r.outcome, r.group), []).append(r.p_value)

    def normal(p_values: list[float]) -> bool:
        return bool(p_values) and all(p >= normality_alpha for p in p_values)  # NaN is False

    reported = []
    for r in results.itertuples(index=False):
        if r.analysis not in PAIRED_ANALYSES:
            reported.append(True)
            continue
        kind, question = PAIRED_ANALYSES[r.analysis]
        if test_selection != "auto":
            reported.append(kind == test_selection)
            continue
        if question == "within":
            cells = [p_of.get((r.study, r.outcome, r.visit, r.contrast, r.group), np.nan)]
        elif question == "between":
            arm, reference, change = split_between_contrast(r.contrast)
            contrast = change or VALUES_CONTRAST
            cells = [
                p_of.get((r.study, r.outcome, r.visit, contrast, g), np.nan)
                for g in (arm, reference)
            ]
        else:
            cells = values_cells.get((r.study, r.outcome, r.group), [])
        reported.append((kind == "parametric") == normal(cells))
    return pd.Series(reported, index=results.index, dtype=bool)


def family_members(results: pd.DataFrame, study: Study) -> pd.Series:
    """The family key of each row that ``study.analysis.multiplicity`` adjusts, else None.

    The hypotheses adjusted are the *reported* exploratory comparisons (see
    :func:`select_reported` with the study's ``test_selection``): the confirmatory rows
    (flags ``primary``, ``key_secondary``; adjusted by the testing strategy instead),
    sensitivity rows and rows of another analysis set are left out.

    * parallel designs: the between-arm test on values at post-baseline visits, the
      between-arm test on changes from baseline, and the ANCOVA adjusted difference — three
      kinds, each adjusted separately;
    * single-arm designs: the within-arm test of the change from baseline;
    * both: the MMRM rows of the same comparisons (when present), as a kind of their own.

    Families (``multiplicity.family``):

    * ``primary_visit`` (default): one family per kind and contrast, made of all outcomes at
      the primary visit;
    * ``all_visits``: one family per kind and contrast, all outcomes at all post-baseline
      visits;
    * ``per_outcome``: one family per kind, contrast and outcome, its post-baseline visits.

    Parameters
    ----------
    results : DataFrame
    study : Study

    Returns
    -------
    Series
        A hashable family key per adjusted row, None elsewhere.
    """
    family = study.analysis.multiplicity.family
    if family not in FAMILIES:
        raise ValueError(f"multiplicity.family must be one of {FAMILIES}, got {family!r}")
    reported = select_reported(results, study.analysis.test_selection)
    baseline = study.baseline.id
    post = {visit.id for visit in study.post_baseline}
    primary = study.primary_visit.id
    single = study.single_arm
    main_set = study.analysis.analysis_set
    left_out = [
        any(has_flag(flags, f) for f in (*CONFIRMATORY_FLAGS, SENSITIVITY))
        or (s and s != main_set)
        for flags, s in zip(results["flags"], results["analysis_set"], strict=True)
    ]
    keys = []
    for (_, r), shown, out in zip(results.iterrows(), reported, left_out, strict=True):
        kind = None
        if r["visit"] in post and shown and not out:
            if single and r["analysis"] in ("paired_t", "wilcoxon_signed_rank"):
                if r["contrast"] == within_contrast(r["visit"], baseline):
                    kind = ("within", r["group"])
            elif not single and r["analysis"] in ("welch_t", "student_t", "mann_whitney"):
                arm, reference, change = split_between_contrast(r["contrast"])
                if change is None:
                    kind = ("between", arm, reference)
                elif change == within_contrast(r["visit"], baseline):
                    kind = ("between_change", arm, reference)
            elif not single and r["analysis"] == "ancova" and r["group"] == "":
                kind = ("ancova", r["contrast"])
            elif r["analysis"] == "mmrm" and not single and r["group"] == "":
                kind = ("mmrm", r["contrast"])  # model-based primary comparison, own family
            elif r["analysis"] == "mmrm" and r["contrast"] == within_contrast(
                r["visit"], baseline
            ):
                kind = ("mmrm_within", r["group"])
        if kind is None or (family == "primary_visit" and r["visit"] != primary):
            keys.append(None)
        elif family == "per_outcome":
            keys.append((*kind, r["outcome"]))
        else:
            keys.append(kind)
    return pd.Series(keys, index=results.index, dtype=object)


def adjust_family(results: pd.DataFrame, study: Study) -> pd.DataFrame:
    """Fill ``p_adjusted`` for the study's multiplicity families (see :func:`family_members`)
    with ``study.analysis.multiplicity.method`` (``holm``, ``fdr_bh`` or ``none``).

    Rows outside the families keep their ``p_adjusted`` (empty, or Holm over the visit pairs
    for post-hoc rows).

    Parameters
    ----------
    results : DataFrame
    study : Study

    Returns
    -------
    DataFrame
        A copy with ``p_adjusted`` filled.
    """
    results = results.copy()
    if results.empty:
        return results
    keys = family_members(results, study)
    method = study.analysis.multiplicity.method
    for key in dict.fromkeys(k for k in keys if k is not None):
        members = keys.map(lambda k, key=key: k == key).to_numpy(bool)
        results.loc[members, "p_adjusted"] = p_adjust(
            results.loc[members, "p_value"].to_numpy(float), method
        )
    return results


def write_results_csv(results: pd.DataFrame, path: str | Path) -> None:
    """Write results deterministically: contract columns, ``%.10g``, ``\\n`` line ends.

    Parameters
    ----------
    results : DataFrame
        Contract rows (extra columns are dropped, missing ones raise).
    path : str or Path
    """
    _write_columns(results, RESULT_COLUMNS, path, "results lack contract columns")


def read_results_csv(path: str | Path) -> pd.DataFrame:
    """Read ``results.csv`` back with the contract's types: numbers as floats, blank text as "".

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    DataFrame
    """
    frame = pd.read_csv(
        path, dtype=dict.fromkeys(TEXT_COLUMNS, str), keep_default_na=False, na_values=[""]
    )
    return typed_results(frame[list(RESULT_COLUMNS)])


def write_model_fits_csv(fits: pd.DataFrame, path: str | Path) -> None:
    """Write ``model_fits.csv`` deterministically: its columns, ``%.10g``, ``\\n`` line ends.

    Parameters
    ----------
    fits : DataFrame
        Rows with :data:`~trialflow.stats.contract.MODEL_FIT_COLUMNS` (e.g.
        :attr:`trialflow.stats.mmrm_analysis.MMRMAnalysis.fits`).
    path : str or Path
    """
    _write_columns(fits, MODEL_FIT_COLUMNS, path, "model fits lack columns")


def _write_columns(frame: pd.DataFrame, columns, path: str | Path, missing_text: str) -> None:
    """``frame[columns]`` as CSV at full precision (``%.10g``) with ``\\n`` line ends."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{missing_text}: {missing}")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    frame[list(columns)].to_csv(path, index=False, float_format="%.10g", lineterminator="\n")


def read_model_fits_csv(path: str | Path) -> pd.DataFrame:
    """Read ``model_fits.csv``: text blank as "", ``converged`` as bool, the rest as floats.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    DataFrame
    """
    frame = pd.read_csv(
        path,
        dtype=dict.fromkeys(MODEL_FIT_TEXT_COLUMNS, str),
        keep_default_na=False,
        na_values=[""],
    )
    for column in MODEL_FIT_TEXT_COLUMNS:
        frame[column] = frame[column].fillna("").astype(str)
    frame["converged"] = frame["converged"].astype(str).str.lower().eq("true")
    numeric = [c for c in MODEL_FIT_COLUMNS if c not in (*MODEL_FIT_TEXT_COLUMNS, "converged")]
    frame[numeric] = frame[numeric].astype("float64")
    return frame[list(MODEL_FIT_COLUMNS)]
