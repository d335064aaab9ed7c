"""The MMRM analysis of a study: rows of the results contract (``analysis = "mmrm"``) and one
row per model in ``model_fits.csv``.

Parallel designs: ``value ~ baseline + arm * visit (+ covariates)`` over the post-baseline
visits (``+ baseline:visit`` with ``analysis.mmrm.baseline_by_visit``); one row per visit
and non-reference arm with the LS-mean difference against the reference arm. Single-arm
designs: ``value ~ visit (+ covariates)`` over all visits; one row per post-baseline visit
against baseline, and follow-up against end of treatment. Covariance: the study's fallback
order (``analysis.mmrm.covariance``), REML, Kenward-Roger, gradient tolerance
``analysis.mmrm.tolerance``; intervals at ``1 - analysis.alpha``.

Every row's ``n`` is the number of subjects in the model, and its effect size the
``standardised_difference``: the estimate and its limits over the pooled within-arm SD of
the baseline values of the participants in the model
(:func:`trialflow.stats.effect_sizes.standardised_difference`).

Data that cannot give a model (no reference arm after baseline, an arm without data at a
visit, no more observations than parameters) are found before fitting and give rows with
empty numbers and the reason in ``note``; a model that does not converge with any structure
is a result too (``status = not_converged``). Anything else the engine raises is a bug and
propagates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import RESERVED_COLUMNS, Study
from .contract import (
    MODEL_FIT_COLUMNS,
    RESULT_COLUMNS,
    between_contrast,
    empty_numbers,
    within_contrast,
)
from .effect_sizes import merge_effect_size, standardised_difference
from .mmrm import ConvergenceError, MMRMControl, MMRMResults, fit_prepared, prepare_mmrm
from .mmrm.covariance import get_structure

__all__ = [
    "ANALYSIS_SET",
    "ESTIMAND_PARALLEL",
    "ESTIMAND_SINGLE_ARM",
    "MMRMAnalysis",
    "analyse_mmrm",
    "covariance_label",
    "inference_text",
    "mmrm_control",
    "mmrm_results",
]

ESTIMAND_PARALLEL = (
    "difference between arms in mean value at the visit (baseline-adjusted), "
    "hypothetical strategy for dropout, estimated under missing at random"
)
ESTIMAND_SINGLE_ARM = (
    "mean change between the visits, hypothetical strategy for dropout, "
    "estimated under missing at random"
)
#: Every randomised (enrolled) participant with data for the outcome.
ANALYSIS_SET = "full_analysis"
#: Columns of :attr:`MMRMAnalysis.subjects`.
SUBJECT_COLUMNS = ("outcome", "arm", "n")
_DDF_TEXT = {
    "kenward-roger": "Kenward-Roger df and adjusted SE",
    "kenward-roger-linear": "Kenward-Roger df (linear variant) and adjusted SE",
    "satterthwaite": "Satterthwaite df",
}


@dataclass(frozen=True)
class MMRMAnalysis:
    """The MMRM rows of a study.

    Attributes
    ----------
    results : DataFrame
        Rows of ``results.csv`` (:data:`~trialflow.stats.contract.RESULT_COLUMNS`).
    fits : DataFrame
        One row per outcome's model (:data:`~trialflow.stats.contract.MODEL_FIT_COLUMNS`).
    subjects : DataFrame
        ``outcome, arm, n``: the subjects in each outcome's model per arm (the n of the
        primary analysis in the participant flow).
    """

    results: pd.DataFrame
    fits: pd.DataFrame
    subjects: pd.DataFrame


@dataclass(frozen=True)
class _Model:
    """One outcome's model as planned: data, formula and what the rows estimate."""

    outcome: str
    data: pd.DataFrame
    formula: str
    visit_scope: str  # "post_baseline" | "all"
    visits: list[str]
    estimand: str
    reference: dict[str, str]
    factors: tuple[str, ...]
    baseline: pd.DataFrame  # participant_id, arm, baseline of the participants in the model

    @property
    def description(self) -> str:
        scope = "post-baseline visits" if self.visit_scope == "post_baseline" else "all visits"
        return f"{self.formula} over {scope}"


def mmrm_control(study: Study) -> MMRMControl:
    """The engine options trialflow uses for ``study`` (``analysis.mmrm``): its covariance
    order and gradient tolerance, REML, Kenward-Roger."""
    options = study.analysis.mmrm
    return MMRMControl(
        covariance=tuple(options.covariance),
        reml=True,
        ddf="kenward-roger",
        tolerance=options.tolerance,
    )


@dataclass(frozen=True)
class _Settings:
    """What every model of one call shares."""

    covariates: list[str]
    control: MMRMControl
    alpha: float
    analysis_set: str
    estimand: str | None  # None: the design's default wording


def analyse_mmrm(
    analysis: pd.DataFrame,
    study: Study,
    analysis_set: str | None = None,
    estimand: str | None = None,
    keep_fits: dict | None = None,
) -> MMRMAnalysis:
    """MMRM rows of ``results.csv`` and ``model_fits.csv`` for every outcome of ``analysis``.

    Parameters
    ----------
    analysis : DataFrame
        Long analysis data: ``participant_id, arm, visit, week, outcome, value``, plus any
        roster covariate named in ``study.covariates`` (used when present).
    study : Study
    analysis_set : str, optional
        The analysis set ``analysis`` holds (written to ``results.csv`` and
        ``model_fits.csv``); default the study's ``analysis.analysis_set``.
    estimand : str, optional
        The estimand the models target, in words (default: the design's, under MAR with the
        hypothetical strategy for dropout).
    keep_fits : dict, optional
        Filled with ``outcome -> (model_fits row, MMRMResults or None)``: the fitted models
        themselves, for the MMRM appendix table.

    Returns
    -------
    MMRMAnalysis
        ``results`` sorted by outcome, visit (study order) and contrast; ``fits`` one row per
        outcome; ``subjects`` per outcome and arm. A model that cannot be fitted gives its
        rows with empty numbers and the reason in ``note``, and a fits row saying so.
    """
    rows: list[dict] = []
    fits: list[dict] = []
    subjects: list[dict] = []
    settings = _Settings(
        covariates=[
            c for c in study.covariates if c in analysis.columns and c not in RESERVED_COLUMNS
        ],
        control=mmrm_control(study),
        alpha=study.analysis.alpha,
        analysis_set=analysis_set or study.analysis.analysis_set,
        estimand=estimand,
    )
    for outcome, frame in analysis.groupby("outcome", sort=True):
        found, fit, model, result = _outcome_model(str(outcome), frame, study, settings)
        if keep_fits is not None:
            keep_fits[str(outcome)] = (fit, result)
        rows += [{"study": study.id, "outcome": outcome, "analysis": "mmrm", **r} for r in found]
        fits.append({**fit, "study": study.id})
        counts = model.data.groupby("arm")["participant_id"].nunique()
        subjects += [
            {"outcome": outcome, "arm": arm, "n": int(counts.get(arm, 0))} for arm in study.arm_ids
        ]
    out = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    if not out.empty:
        order = {visit: i for i, visit in enumerate(study.visit_ids)}
        out["_visit"] = out["visit"].map(order)
        out = out.sort_values(["outcome", "_visit", "contrast"], kind="stable")
        out = out.drop(columns="_visit").reset_index(drop=True)
        out["analysis_set"] = settings.analysis_set
    return MMRMAnalysis(
        results=out,
        fits=pd.DataFrame(fits, columns=list(MODEL_FIT_COLUMNS)),
        subjects=pd.DataFrame(subjects, columns=list(SUBJECT_COLUMNS)),
    )


def _outcome_model(outcome: str, frame: pd.DataFrame, study: Study, settings: _Settings):
    if study.single_arm:
        return _single_arm(outcome, frame, study, settings)
    return _parallel(outcome, frame, study, settings)


def mmrm_results(analysis: pd.DataFrame, study: Study) -> pd.DataFrame:
    """The ``results.csv`` rows of :func:`analyse_mmrm` alone."""
    return analyse_mmrm(analysis, study).results


def _formula(base: str, covariates: list[str]) -> str:
    return " + ".join([base, *covariates])


def _fit(model: _Model, control: MMRMControl) -> tuple[MMRMResults | None, str, tuple]:
    """Fit the model, or say why it has no estimates (degenerate data, no convergence).

    Returns the fit (or None), the reason for None, and the structures tried.
    """
    prepared = prepare_mmrm(
        model.data,
        model.formula,
        subject="participant_id",
        time="visit",
        reference=model.reference,
        factors=model.factors,
        time_levels=model.visits,
    )
    if prepared.stats.n_obs <= prepared.stats.n_params:
        return None, "MMRM not fitted: fewer observations than fixed-effect parameters", ()
    try:
        result = fit_prepared(prepared, control)
    except ConvergenceError as err:
        return None, f"MMRM not fitted: {err}", tuple(a.structure for a in err.attempts)
    return result, "", tuple(a.structure for a in result.attempts)


def _note(result: MMRMResults, model: _Model) -> str:
    tried = [a.structure for a in result.attempts]
    fallback = ""
    if len(tried) > 1:
        fallback = f" (after {', '.join(tried[:-1])} did not converge)"
    return (
        f"MMRM {model.description}; covariance {result.covariance_structure.label}{fallback}; "
        f"{inference_text(result.method, result.ddf)}; estimand: {model.estimand}"
    )


def _fit_row(
    model: _Model, result: MMRMResults | None, why: str, tried: tuple, settings: _Settings
) -> dict:
    """The ``model_fits.csv`` row of one outcome's model."""
    control = settings.control
    row: dict = dict.fromkeys(MODEL_FIT_COLUMNS, math.nan)
    row.update(
        outcome=model.outcome,
        analysis="mmrm",
        formula=model.formula,
        visit_scope=model.visit_scope,
        visits=";".join(model.visits),
        covariance="",
        covariance_tried=";".join(tried),
        converged=False,
        method="REML" if control.reml else "ML",
        ddf=control.ddf,
        ci_level=1 - settings.alpha,
        estimand=model.estimand,
        analysis_set=settings.analysis_set,
        n_subjects=model.data["participant_id"].nunique(),
        n_observations=len(model.data),
        note=why,
    )
    if result is None:
        row["status"] = "not_converged" if tried else "not_fitted"
        return row
    row.update(
        status="converged",
        covariance=result.structure,
        converged=True,
        iterations=result.attempts[-1].iterations,
        minus2_loglik=result.minus2_loglik,
        aic=result.aic,
        bic=result.bic,
        n_subjects=result.n_subjects,
        n_observations=result.n_obs,
        n_fixed_parameters=len(result.params),
        n_covariance_parameters=result.n_cov_params,
    )
    return row


def _row(visit, contrast, group, table_row, model: _Model, note: str) -> dict:
    """One results row: the model's estimate, its n (subjects in the model) and the
    standardised difference (over the pooled baseline SD of those subjects)."""
    numbers = empty_numbers(
        note,
        n=model.data["participant_id"].nunique(),
        estimate=table_row["estimate"],
        se=table_row["se"],
        df=table_row["df"],
        ci_low=table_row["ci_low"],
        ci_high=table_row["ci_high"],
        statistic=table_row["t"],
        p_value=table_row["p_value"],
    )
    effect = standardised_difference(
        float(table_row["estimate"]),
        float(table_row["ci_low"]),
        float(table_row["ci_high"]),
        model.baseline["baseline"],
        model.baseline["arm"],
    )
    return {"visit": visit, "contrast": contrast, "group": group} | merge_effect_size(
        numbers, effect
    )


def _empty(visit, contrast, group, n, note) -> dict:
    return {"visit": visit, "contrast": contrast, "group": group, **empty_numbers(note, n=n)}


def _parallel_problem(data: pd.DataFrame, reference: str, visits: list[str]) -> str:
    """Why the parallel model cannot be estimated from ``data``, or ``""``."""
    arms = set(data["arm"].unique())  # unique() first: iterating string columns is slow
    if reference not in arms or len(arms) < 2 or not visits:
        return "MMRM not fitted: needs the reference arm, another arm and post-baseline data"
    pairs = data[["arm", "visit"]].drop_duplicates()
    cells = set(zip(pairs["arm"], pairs["visit"], strict=True))
    for visit in visits:
        for arm in sorted(arms):
            if (arm, visit) not in cells:
                # the arm-by-visit effect of an empty cell is not estimable
                return f"MMRM not fitted: no data in arm {arm} at visit {visit}"
    return ""


def _parallel(
    outcome: str, frame: pd.DataFrame, study: Study, settings: _Settings
) -> tuple[list[dict], dict, _Model, MMRMResults | None]:
    covariates = settings.covariates
    reference = study.reference_arm.id
    in_frame = set(frame["arm"].dropna().unique())
    others = [a for a in study.arm_ids if a in in_frame and a != reference]
    post = [v.id for v in study.post_baseline]
    baseline = (
        frame.loc[frame["visit"] == study.baseline.id, ["participant_id", "value"]]
        .dropna()
        .drop_duplicates("participant_id")
        .rename(columns={"value": "baseline"})
    )
    data = frame.loc[frame["visit"].isin(post)].drop(columns=["baseline"], errors="ignore")
    data = data.merge(baseline, on="participant_id", how="left")
    data = data.dropna(subset=["value", "baseline", "arm", *covariates])
    n_model = data["participant_id"].nunique()
    in_data = set(data["visit"].unique())
    present_visits = [v for v in post if v in in_data]
    base = "value ~ baseline + arm * visit"
    if study.analysis.mmrm.baseline_by_visit:
        base += " + baseline:visit"
    model = _Model(
        outcome=outcome,
        data=data,
        formula=_formula(base, covariates),
        visit_scope="post_baseline",
        visits=present_visits,
        estimand=settings.estimand or ESTIMAND_PARALLEL,
        reference={"arm": reference},
        factors=("arm", "visit"),
        baseline=data.drop_duplicates("participant_id")[["participant_id", "arm", "baseline"]],
    )
    contrasts = [(v, arm) for v in post for arm in (others or study.arm_ids[1:])]
    why = _parallel_problem(data, reference, present_visits)
    result, tried = None, ()
    if not why:
        result, why, tried = _fit(model, settings.control)
    fit = _fit_row(model, result, why, tried, settings)
    if result is None:
        return (
            [
                _empty(v, between_contrast(arm, reference), "", n_model, why)
                for v, arm in contrasts
            ],
            fit,
            model,
            None,
        )
    note = _note(result, model)
    diffs = result.lsmean_diffs("arm", by="visit", reference=reference, alpha=settings.alpha)
    rows = []
    for _, item in diffs.iterrows():
        label = between_contrast(item["level"], reference)
        rows.append(_row(item["visit"], label, "", item, model, note))
    modelled = set(data["arm"].unique())
    for v in post:
        for arm in others:
            if arm not in modelled:
                rows.append(_empty(v, between_contrast(arm, reference), "", 0, "no data in arm"))
            elif v not in present_visits:
                rows.append(_empty(v, between_contrast(arm, reference), "", 0, "no data at visit"))
    return rows, fit, model, result


def _single_arm(
    outcome: str, frame: pd.DataFrame, study: Study, settings: _Settings
) -> tuple[list[dict], dict, _Model, MMRMResults | None]:
    covariates = settings.covariates
    group = study.arms[0].id if study.arms else ""
    base = study.baseline.id
    visits = study.visit_ids
    data = frame.loc[frame["visit"].isin(visits)].dropna(subset=["value", *covariates])
    n_model = data["participant_id"].nunique()
    at_baseline = data.loc[data["visit"] == base].drop_duplicates("participant_id")
    pairs = [(v.id, base) for v in study.post_baseline]
    eot, fu = study.end_of_treatment, study.follow_up
    if eot is not None and fu is not None:
        pairs.append((fu.id, eot.id))
    in_data = set(data["visit"].unique())
    present = [v for v in visits if v in in_data]
    model = _Model(
        outcome=outcome,
        data=data,
        formula=_formula("value ~ visit", covariates),
        visit_scope="all",
        visits=present,
        estimand=settings.estimand or ESTIMAND_SINGLE_ARM,
        reference={"visit": base},
        factors=("visit",),
        baseline=at_baseline[["participant_id", "arm"]].assign(
            baseline=at_baseline["value"].to_numpy(float)
        ),
    )
    usable = [(a, b) for a, b in pairs if a in present and b in present]
    result, why, tried = None, "MMRM not fitted: needs baseline and a later visit", ()
    if base in present and len(present) > 1:
        result, why, tried = _fit(model, settings.control)
    fit = _fit_row(model, result, why, tried, settings)
    if result is None:
        return (
            [_empty(a, within_contrast(a, b), group, n_model, why) for a, b in pairs],
            fit,
            model,
            None,
        )
    note = _note(result, model)
    grid, lc = result.lsmeans_matrix(["visit"])
    index = {v: i for i, v in enumerate(grid["visit"])}
    table = result.contrast(
        np.array([lc[index[a]] - lc[index[b]] for a, b in usable]), alpha=settings.alpha
    )
    rows = []
    for (a, b), (_, item) in zip(usable, table.iterrows(), strict=True):
        rows.append(_row(a, within_contrast(a, b), group, item, model, note))
    for a, b in pairs:
        if (a, b) not in usable:
            rows.append(_empty(a, within_contrast(a, b), group, n_model, "no data"))
    return rows, fit, model, result


def inference_text(method: str, ddf: str) -> str:
    """How the MMRM was estimated, in words: ``REML; Kenward-Roger df and adjusted SE``."""
    return f"{method}; {_DDF_TEXT[ddf]}"


def covariance_label(name: str) -> str:
    """Printed name of a covariance structure, e.g. ``unstructured (UN)``."""
    return get_structure(name, 1).label
