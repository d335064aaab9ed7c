"""The MMRM analysis of a study in the results contract (``analysis = "mmrm"``).

Parallel designs: ``value ~ baseline + arm * visit (+ covariates)`` over the post-baseline
visits; one row per visit and non-reference arm with the LS-mean difference against the
reference arm. Single-arm designs: ``value ~ visit (+ covariates)`` over all visits; one row
per post-baseline visit against baseline, and follow-up against end of treatment.
Covariance: the study's fallback order (``analysis.mmrm_covariance``), REML, Kenward-Roger.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..config import Study
from .contract import RESULT_COLUMNS, between_contrast, within_contrast
from .mmrm import ConvergenceError, MMRMResults, fit_mmrm

__all__ = ["ESTIMAND_PARALLEL", "ESTIMAND_SINGLE_ARM", "mmrm_results"]

ESTIMAND_PARALLEL = (
    "estimand: difference between arms in mean value at the visit (baseline-adjusted), "
    "hypothetical strategy for dropout, estimated under missing at random"
)
ESTIMAND_SINGLE_ARM = (
    "estimand: mean change between the visits, hypothetical strategy for dropout, "
    "estimated under missing at random"
)
_RESERVED = {"participant_id", "arm", "visit", "week", "outcome", "value", "baseline"}


def mmrm_results(analysis: pd.DataFrame, study: Study) -> pd.DataFrame:
    """MMRM rows of ``results.csv`` for every outcome of ``analysis``.

    Parameters
    ----------
    analysis : DataFrame
        Long analysis data: ``participant_id, arm, visit, week, outcome, value``, plus any
        roster covariate named in ``study.covariates`` (used when present).
    study : Study

    Returns
    -------
    DataFrame
        Columns :data:`trialflow.stats.contract.RESULT_COLUMNS`, sorted by outcome, visit
        (study order) and contrast. A model that cannot be fitted gives its rows with empty
        numbers and the reason in ``note``.
    """
    rows: list[dict] = []
    covariates = [c for c in study.covariates if c in analysis.columns and c not in _RESERVED]
    for outcome, frame in analysis.groupby("outcome", sort=True):
        if study.design == "parallel":
            found = _parallel(frame, study, covariates)
        else:
            found = _single_arm(frame, study, covariates)
        for row in found:
            rows.append({"study": study.id, "outcome": outcome, "analysis": "mmrm", **row})
    out = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    if out.empty:
        return out
    order = {visit: i for i, visit in enumerate(study.visit_ids)}
    out["_visit"] = out["visit"].map(order)
    out = out.sort_values(["outcome", "_visit", "contrast"], kind="stable").drop(columns="_visit")
    return out.reset_index(drop=True)


def _formula(base: str, covariates: list[str]) -> str:
    return " + ".join([base, *covariates])


def _fit(data: pd.DataFrame, formula: str, study: Study, reference: dict, levels, factors):
    """Fit, or return the reason it could not be fitted."""
    try:
        return fit_mmrm(
            data,
            formula,
            subject="participant_id",
            time="visit",
            covariance=tuple(study.analysis.mmrm_covariance),
            ddf="kenward-roger",
            reference=reference,
            factors=factors,
            time_levels=levels,
        ), ""
    except ConvergenceError as err:
        return None, f"MMRM not fitted: {err}"
    except (ValueError, KeyError, np.linalg.LinAlgError, ArithmeticError) as err:
        return None, f"MMRM not fitted: {err}"


def _note(result: MMRMResults, model: str, estimand: str) -> str:
    tried = [a.structure for a in result.attempts]
    fallback = ""
    if len(tried) > 1:
        fallback = f" (after {', '.join(tried[:-1])} did not converge)"
    return (
        f"MMRM {model}; covariance {result.covariance_structure.label}{fallback}; "
        f"REML; Kenward-Roger df and adjusted SE; {estimand}"
    )


def _row(visit, contrast, group, n, table_row, effect, note, effect_name="cohen_d_model") -> dict:
    return {
        "visit": visit,
        "contrast": contrast,
        "group": group,
        "n": n,
        "estimate": table_row["estimate"],
        "se": table_row["se"],
        "df": table_row["df"],
        "ci_low": table_row["ci_low"],
        "ci_high": table_row["ci_high"],
        "statistic": table_row["t"],
        "p_value": table_row["p_value"],
        "p_adjusted": math.nan,
        "effect_size": effect,
        "effect_size_name": effect_name if np.isfinite(effect) else "",
        "note": note,
    }


def _empty(visit, contrast, group, n, note) -> dict:
    row = dict.fromkeys(RESULT_COLUMNS, math.nan)
    for key in ("study", "outcome", "analysis"):
        row.pop(key)
    row.update(visit=visit, contrast=contrast, group=group, n=n, effect_size_name="", note=note)
    return row


def _parallel(frame: pd.DataFrame, study: Study, covariates: list[str]) -> list[dict]:
    reference = study.reference_arm.id
    arms = [a for a in study.arm_ids if a in set(frame["arm"].dropna())]
    others = [a for a in arms if a != reference]
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
    counts = data.groupby("visit")["participant_id"].nunique()
    model = _formula("value ~ baseline + arm * visit", covariates)
    contrasts = [(v, arm) for v in post for arm in (others or [a for a in study.arm_ids[1:]])]
    present_visits = [v for v in post if v in set(data["visit"])]
    if reference not in arms or not others or not present_visits:
        note = "MMRM not fitted: needs the reference arm, another arm and post-baseline data"
        return [
            _empty(v, between_contrast(arm, reference), "", int(counts.get(v, 0)), note)
            for v, arm in contrasts
        ]
    result, why = _fit(
        data, model, study, {"arm": reference}, present_visits, factors=("arm", "visit")
    )
    if result is None:
        return [
            _empty(v, between_contrast(arm, reference), "", int(counts.get(v, 0)), why)
            for v, arm in contrasts
        ]
    note = _note(result, f"{model} over post-baseline visits", ESTIMAND_PARALLEL)
    diffs = result.lsmean_diffs("arm", by="visit", reference=reference)
    sigma = result.sigma
    rows = []
    for _, item in diffs.iterrows():
        visit = item["visit"]
        effect = item["estimate"] / math.sqrt(sigma.loc[visit, visit])
        label = between_contrast(item["level"], reference)
        rows.append(_row(visit, label, "", int(counts.get(visit, 0)), item, effect, note))
    for v in post:
        if v not in present_visits:
            for arm in others:
                rows.append(_empty(v, between_contrast(arm, reference), "", 0, "no data at visit"))
    return rows


def _single_arm(frame: pd.DataFrame, study: Study, covariates: list[str]) -> list[dict]:
    group = study.arms[0].id if study.arms else ""
    base = study.baseline.id
    visits = study.visit_ids
    data = frame.loc[frame["visit"].isin(visits)].dropna(subset=["value", *covariates])
    counts = data.groupby("visit")["participant_id"].nunique()
    pairs = [(v.id, base) for v in study.post_baseline]
    eot, fu = study.end_of_treatment, study.follow_up
    if eot is not None and fu is not None:
        pairs.append((fu.id, eot.id))
    present = [v for v in visits if v in set(data["visit"])]
    model = _formula("value ~ visit", covariates)
    usable = [(a, b) for a, b in pairs if a in present and b in present]
    result, why = (None, "MMRM not fitted: needs baseline and a later visit")
    if base in present and len(present) > 1:
        result, why = _fit(data, model, study, {"visit": base}, present, factors=("visit",))
    if result is None:
        return [
            _empty(a, within_contrast(a, b), group, int(counts.get(a, 0)), why) for a, b in pairs
        ]
    note = _note(result, f"{model} over all visits", ESTIMAND_SINGLE_ARM)
    grid, lc = result.lsmeans_matrix(["visit"])
    index = {v: i for i, v in enumerate(grid["visit"])}
    table = result.contrast(np.array([lc[index[a]] - lc[index[b]] for a, b in usable]))
    sigma = result.sigma
    rows = []
    for (a, b), (_, item) in zip(usable, table.iterrows(), strict=True):
        sd_change = math.sqrt(sigma.loc[a, a] + sigma.loc[b, b] - 2 * sigma.loc[a, b])
        effect = item["estimate"] / sd_change
        rows.append(
            _row(
                a,
                within_contrast(a, b),
                group,
                int(counts.get(a, 0)),
                item,
                effect,
                note,
                effect_name="cohen_dz_model",
            )
        )
    for a, b in pairs:
        if (a, b) not in usable:
            rows.append(_empty(a, within_contrast(a, b), group, int(counts.get(a, 0)), "no data"))
    return rows
