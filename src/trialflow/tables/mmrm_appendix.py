"""The MMRM appendix table (``mmrm_appendix``): per planned MMRM, the model, the covariance
structures tried, the within-subject covariance and correlation, the Type 3 F tests and the
LS-means per arm and visit (:mod:`trialflow.stats.mmrm_appendix`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trialflow.config import Study
from trialflow.labels import label
from trialflow.stats.mmrm_analysis import inference_text
from trialflow.stats.mmrm_appendix import MMRMDetails, mmrm_appendix_models

from .cells import arm_labels, ci_label
from .format import MISSING, format_ci, format_number, format_p
from .table import Table

__all__ = ["mmrm_appendix_table"]

COLUMNS = ("Outcome", "Section", "Item", "Value", "SE", "df", "Statistic", "p")


def _significant(value: float, digits: int = 4) -> str:
    """``value`` to ``digits`` significant figures (covariances span many scales)."""
    if value is None or not np.isfinite(value):
        return MISSING
    return f"{float(value):.{digits}g}"


def _term_label(term: str, names: dict[str, str]) -> str:
    """``arm:visit`` -> ``Arm × visit``; covariate names as they are."""
    words = [names.get(part, part) for part in term.split(":")]
    text = " × ".join(words)
    return text[:1].upper() + text[1:]


def _model_rows(details: MMRMDetails, name: str, study: Study) -> list[dict]:
    fit = details.fit
    rows = [
        ("Formula", f"{fit['formula']} (visits: {str(fit['visits']).replace(';', ', ')})"),
        ("Estimation", inference_text(fit["method"], fit["ddf"])),
        ("Subjects / observations", f"{fit['n_subjects']} / {fit['n_observations']}"),
    ]
    if details.result is None:
        rows.append(("Status", f"not fitted: {fit['note']}"))
    else:
        rows += [
            ("Covariance structure used", label("covariance", fit["covariance"], study)),
            ("Iterations", str(int(fit["iterations"]))),
            ("-2 REML log-likelihood", format_number(fit["minus2_loglik"], 3)),
            ("AIC / BIC", f"{format_number(fit['aic'], 3)} / {format_number(fit['bic'], 3)}"),
        ]
    out = [{"Section": "Model", "Item": item, "Value": value} for item, value in rows]
    for _, attempt in details.attempts().iterrows():
        status = "converged" if attempt["converged"] else f"failed: {attempt['message']}"
        out.append(
            {
                "Section": "Covariance structures tried (in order)",
                "Item": label("covariance", attempt["structure"], study),
                "Value": status,
            }
        )
    return [{"Outcome": name} | row for row in out]


def _covariance_rows(details: MMRMDetails, heading: str, visits: dict[str, str]) -> list[dict]:
    rows = []
    for _, cell in details.covariance().iterrows():
        first, second = visits.get(cell["visit_1"]), visits.get(cell["visit_2"])
        if cell["visit_1"] == cell["visit_2"]:
            item, value = f"Variance, {first}", _significant(cell["covariance"])
        else:
            item = f"Covariance, {first} and {second}"
            value = (
                f"{_significant(cell['covariance'])} "
                f"(correlation {format_number(cell['correlation'], 3)})"
            )
        rows.append(
            {"Outcome": heading, "Section": "Within-subject covariance", "Item": item}
            | {"Value": value}
        )
    return rows


def _type3_rows(details: MMRMDetails, heading: str, names: dict[str, str]) -> list[dict]:
    return [
        {
            "Outcome": heading,
            "Section": "Type 3 tests of fixed effects",
            "Item": _term_label(test["term"], names),
            "df": f"{test['num_df']:g}, {format_number(test['den_df'], 1)}",
            "Statistic": f"F = {format_number(test['f_value'], 2)}",
            "p": format_p(test["p_value"]),
        }
        for _, test in details.type3().iterrows()
    ]


def _lsmean_rows(details: MMRMDetails, heading: str, study: Study) -> list[dict]:
    arms = arm_labels(study)
    visits = {v.id: v.label for v in study.visits}
    found = details.lsmeans(study.analysis.alpha)
    rows = []
    for _, cell in found.iterrows():
        where = [visits.get(cell["visit"], cell["visit"])]
        if "arm" in found.columns:
            where.insert(0, arms.get(cell["arm"], cell["arm"]))
        rows.append(
            {
                "Outcome": heading,
                "Section": f"LS-means ({ci_label(study)})",
                "Item": ", ".join(where),
                "Value": format_ci(cell["estimate"], cell["ci_low"], cell["ci_high"], 3),
                "SE": format_number(cell["se"], 3),
                "df": format_number(cell["df"], 1),
            }
        )
    return rows


def mmrm_appendix_table(
    study: Study, analysis: pd.DataFrame, participants: pd.DataFrame, outcomes: pd.DataFrame
) -> Table:
    """The MMRM appendix: every planned MMRM in detail.

    Parameters
    ----------
    study : Study
    analysis : pandas.DataFrame
        The long analysis data.
    participants : pandas.DataFrame
        The validated roster.
    outcomes : pandas.DataFrame
        Outcome metadata (labels).

    Returns
    -------
    Table
        Long: ``Outcome, Section, Item, Value, SE, df, Statistic, p``.
    """
    labels = dict(zip(outcomes["outcome"], outcomes["label"], strict=False))
    names = {"arm": "arm", "visit": "visit", "baseline": "baseline value"}
    visits = {v.id: v.label for v in study.visits}
    rows = []
    found = mmrm_appendix_models(analysis, participants, study)
    for details in found:
        heading = f"{labels.get(details.outcome, details.outcome)} ({details.role})"
        rows += _model_rows(details, heading, study)
        rows += _covariance_rows(details, heading, visits)
        rows += _type3_rows(details, heading, names)
        rows += _lsmean_rows(details, heading, study)
    frame = pd.DataFrame(rows, columns=list(COLUMNS)).fillna(MISSING)
    notes = [
        "The model of each MMRM analysis of the plan, fitted on the data of its analysis set "
        "and estimand (the same fit as results.csv and model_fits.csv); without a planned "
        "MMRM, the primary outcome's exploratory MMRM.",
        "Covariance structures are tried in the configured order (analysis.mmrm.covariance); "
        "the first that converges is used. Type 3 F tests with Kenward-Roger denominator df "
        "(as SAS PROC MIXED DDFM=KR); LS-means average over the other factors with equal "
        "weights and set numeric covariates to their mean.",
    ]
    if not found:
        notes = ["No MMRM: the study has no primary analysis."]
    return Table(
        name="mmrm_appendix",
        title=f"Appendix: MMRM model details: {study.title}",
        frame=frame,
        footnotes=tuple(notes),
        group_column="Outcome",
    )
