"""The missing-data sensitivity analyses of a study as rows of ``results.csv``.

The wiring between the config (``analysis.sensitivity``, ``analysis.tipping_point``;
:mod:`trialflow.sensitivity_config`) and the imputation engine
(:mod:`trialflow.stats.imputation`), called by
:func:`trialflow.stats.study_analysis.analyse_planned_study` on the declared analysis set:

* the data of one outcome as the engine takes them (:func:`imputation_frame`: per
  participant the baseline value, the values at the post-baseline visits, the covariates);
* the intercurrent events (:func:`ice_table`): the roster's ``ice_visit`` (and ``ice_type``
  for a strategy per type) when the roster has the column; otherwise the engine takes the
  first visit of each participant's trailing run of missing visits (a monotone dropout);
* what happens to values observed after an event (:func:`post_ice_handling`): kept as
  observed when the outcome's planned analysis declares the treatment-policy strategy for
  every event (treatment-policy estimand), otherwise set aside and imputed (hypothetical);
* the rows: ``analysis = cmi_<strategy>`` or ``bmi_<strategy>``, one per post-baseline visit
  and contrast ``<arm> - <first arm>`` (whatever ``reference_arm`` is), flagged
  ``sensitivity`` (outside the testing strategy and the exploratory families), with the
  number of imputations, the seed and the Monte Carlo SE in their columns; the tipping
  point's rows ``analysis = tipping_point``, one per delta (``contrast`` ``exercise -
  control (delta=-2.5)``, ``delta`` the number) and one per visit and contrast for the
  tipping delta itself (``contrast`` ``... (tipping point)``, flag ``tipping_point``,
  ``delta`` the tipping delta, the numbers at that delta).

Data from which the engine cannot fit the imputation model (an arm without participants, a
singular design) give rows with empty numbers and the reason in ``note``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..config import RESERVED_COLUMNS, Study
from ..errors import InputError, InputProblem
from ..sensitivity_config import SensitivityAnalysis, TippingPointOptions
from .contract import (
    SENSITIVITY,
    TIPPING_ANALYSIS,
    TIPPING_POINT,
    between_contrast,
    delta_contrast,
    empty_numbers,
    empty_results,
    keyed_rows,
)
from .effect_sizes import merge_effect_size, standardised_difference
from .estimands import intercurrent_events
from .imputation import (
    REFERENCE_BASED,
    ImputationFitError,
    ImputationResult,
    bootstrap_mi,
    conditional_mean,
    resolve_strategies,
    tipping_point,
)

__all__ = [
    "ice_table",
    "imputation_frame",
    "post_ice_handling",
    "run_imputation",
    "sensitivity_results",
]

_METHOD_TEXT = {
    "conditional_mean": "conditional mean imputation, jackknife SE (normal approximation)",
    "bootstrap_mi": "bootstrapped-REML multiple imputation, Rubin's rules (Barnard-Rubin df)",
}


def imputation_frame(data: pd.DataFrame, study: Study, outcome: str) -> pd.DataFrame:
    """One outcome's long data as the engine takes them: ``participant_id, arm, visit,
    value, baseline`` and the study's covariates (every participant with a row, also those
    with no post-baseline value)."""
    covariates = covariates_of(data, study)
    rows = data.loc[data["outcome"] == outcome]
    baseline = (
        rows.loc[rows["visit"] == study.baseline.id, ["participant_id", "value"]]
        .dropna()
        .drop_duplicates("participant_id")
        .rename(columns={"value": "baseline"})
    )
    frame = rows[["participant_id", "arm", "visit", "value", *covariates]]
    return frame.merge(baseline, on="participant_id", how="left")


def covariates_of(data: pd.DataFrame, study: Study) -> list[str]:
    """The study's covariates present in ``data`` (as the MMRM and ANCOVA use them)."""
    return [c for c in study.covariates if c in data.columns and c not in RESERVED_COLUMNS]


def ice_table(
    roster: pd.DataFrame, study: Study, strategy: str | Mapping[str, str], where: str
) -> pd.DataFrame | None:
    """``participant_id, ice_visit[, ice_type], strategy`` from the roster, or None when the
    roster has no ``ice_visit`` column (the engine then takes monotone dropout as the ICE).

    Raises
    ------
    InputError
        A strategy per ICE type without ``ice_visit`` in the roster, or an ``ice_type``
        the mapping does not name.
    """
    # data_dir is not part of the analyse stage's config: the roster names its file
    files = roster.get("source_file", pd.Series(dtype=object))
    source = str(files.iloc[0]) if len(files) else "participants.csv"
    if "ice_visit" not in roster.columns:
        if isinstance(strategy, str):
            return None
        raise InputError(
            [
                InputProblem(
                    source, 1, "ice_visit", None,
                    f"columns ice_visit and ice_type ({where}.strategy is given per ice_type)",
                )
            ]
        )  # fmt: skip
    events = intercurrent_events(roster, study)[["participant_id", "ice_visit", "ice_type"]]
    table = roster[["participant_id"]].merge(events, on="participant_id", how="left")
    return resolve_strategies(table, strategy, source=source)


def post_ice_handling(study: Study, outcome: str) -> str:
    """``keep`` (treatment policy: observed post-ICE values analysed as observed) when the
    outcome's planned analysis lists intercurrent events all handled by the treatment-policy
    strategy, else ``impute`` (hypothetical: set aside and imputed)."""
    for planned in study.analysis.planned:
        estimand = planned.estimand
        if planned.outcome != outcome or estimand is None:
            continue
        events = estimand.intercurrent_events
        if events and all(e.strategy == "treatment_policy" for e in events):
            return "keep"
    return "impute"


def run_imputation(
    spec: SensitivityAnalysis,
    data: pd.DataFrame,
    roster: pd.DataFrame,
    study: Study,
    outcome: str,
    where: str,
    delta_arm: str | None = None,
) -> ImputationResult:
    """The engine's analysis of ``outcome`` as ``spec`` declares it (the study's covariates,
    post-baseline visits, arms and alpha)."""
    ice = ice_table(roster, study, spec.strategy, where)
    common = {
        "visits": [v.id for v in study.post_baseline],
        "arms": study.arm_ids,
        "strategy": spec.strategy if isinstance(spec.strategy, str) else "mar",
        "ice": ice,
        "reference_arm": spec.reference_arm or None,
        "covariates": covariates_of(data, study),
        "post_ice": post_ice_handling(study, outcome),
        "alpha": study.analysis.alpha,
        "delta_arm": delta_arm,
    }
    frame = imputation_frame(data, study, outcome)
    if spec.method == "conditional_mean":
        return conditional_mean(frame, **common)
    return bootstrap_mi(frame, n_imputations=spec.n_imputations, seed=spec.seed, **common)


def sensitivity_results(
    data: pd.DataFrame, roster: pd.DataFrame, outcomes: pd.DataFrame, study: Study
) -> pd.DataFrame:
    """Every row of ``analysis.sensitivity`` and ``analysis.tipping_point``.

    Parameters
    ----------
    data : DataFrame
        Long analysis data of the analysis set, with the covariates.
    roster : DataFrame
        The analysis set's roster (``ice_visit``, ``ice_type`` when present).
    outcomes : DataFrame
        Outcome metadata (``higher_is_better``: the tipping point's unfavourable direction).
    study : Study

    Returns
    -------
    DataFrame
        Contract rows, ``analysis_set`` the study's.
    """
    rows: list[dict] = []
    for i, spec in enumerate(study.analysis.sensitivity):
        for outcome in spec.outcomes:
            rows += _analysis_rows(spec, data, roster, study, outcome, f"sensitivity[{i}]")
    tipping = study.analysis.tipping_point
    if tipping is not None:
        rows += _tipping_rows(tipping, data, roster, outcomes, study)
    if not rows:
        return empty_results()
    out = keyed_rows(rows)
    out["analysis_set"] = study.analysis.analysis_set
    return out


def _analysis_rows(spec, data, roster, study: Study, outcome: str, where: str) -> list[dict]:
    where = f"analysis.{where}"
    try:
        result = run_imputation(spec, data, roster, study, outcome, where)
    except InputError:
        raise
    except (ImputationFitError, ValueError) as err:
        return _failed_rows(spec.name, study, outcome, f"not estimable: {err}")
    note = _note(spec, result, "ice_visit" in roster.columns)
    return [
        _row(spec.name, study, outcome, record, result, note, flags=SENSITIVITY)
        for record in result.table.to_dict("records")
    ]


def _failed_rows(name: str, study: Study, outcome: str, note: str) -> list[dict]:
    ref = study.reference_arm.id
    return [
        {
            "study": study.id,
            "outcome": outcome,
            "visit": visit.id,
            "analysis": name,
            "contrast": between_contrast(arm, ref),
            "group": "",
            **empty_numbers(note, flags=SENSITIVITY),
        }
        for visit in study.post_baseline
        for arm in study.arm_ids[1:]
    ]


def _note(spec: SensitivityAnalysis, result: ImputationResult, from_roster: bool) -> str:
    data = result.setup.data
    reference = data.arms[data.reference]
    strategy = spec.strategy_text.upper() if isinstance(spec.strategy, str) else spec.strategy_text
    parts = [f"missing-data sensitivity analysis: {_METHOD_TEXT[spec.method]} under {strategy}"]
    strategies = {spec.strategy} if isinstance(spec.strategy, str) else set(spec.strategy.values())
    if strategies & set(REFERENCE_BASED):
        parts.append(f"reference arm {reference}")
    if spec.method == "bootstrap_mi":
        parts.append(f"M = {spec.n_imputations} imputations, seed {spec.seed}")
        if strategies - {"mar"}:
            parts.append("Rubin's variance is conservative under reference-based imputation")
    source = (
        "the roster's ice_visit"
        if from_roster
        else "the first missing visit of a monotone dropout"
    )
    parts.append(f"intercurrent events: {source} ({int((data.ice < data.n_times).sum())})")
    parts.append(
        "post-event values kept as observed (treatment policy)"
        if result.setup.post_ice == "keep"
        else "post-event values set aside and imputed (hypothetical)"
    )
    covariates = ", ".join(["baseline", *data.covariates])
    parts.append(f"ANCOVA of each completed data set adjusted for {covariates}")
    parts.append("not part of the testing strategy")
    return "; ".join([*parts, *result.notes])


def _row(
    name: str,
    study: Study,
    outcome: str,
    record: Mapping,
    result: ImputationResult,
    note: str,
    flags: str,
    contrast: str | None = None,
    delta: float = math.nan,
) -> dict:
    numbers = empty_numbers(
        note,
        n=record["n"],
        estimate=record["estimate"],
        se=record["se"],
        df=record["df"],
        ci_low=record["ci_low"],
        ci_high=record["ci_high"],
        statistic=record["statistic"],
        p_value=record["p_value"],
        delta=delta,
        mc_se=record["mc_se"],
        n_imputations=math.nan if record["n_imputations"] is None else record["n_imputations"],
        seed=math.nan if record["seed"] is None else record["seed"],
        flags=flags,
    )
    data = result.setup.data
    effect = standardised_difference(
        float(record["estimate"]),
        float(record["ci_low"]),
        float(record["ci_high"]),
        pd.Series(data.x[:, data.x_names.index("baseline")]),
        pd.Series(np.array(data.arms, dtype=object)[data.arm]),
    )
    return {
        "study": study.id,
        "outcome": outcome,
        "visit": record["visit"],
        "analysis": name,
        "contrast": contrast or record["contrast"],
        "group": "",
    } | merge_effect_size(numbers, effect)


def _tipping_rows(
    tipping: TippingPointOptions, data, roster, outcomes: pd.DataFrame, study: Study
) -> list[dict]:
    spec, outcome = tipping.analysis, tipping.outcome
    try:
        result = run_imputation(
            spec, data, roster, study, outcome, "analysis.tipping_point", tipping.arm
        )
    except InputError:
        raise
    except (ImputationFitError, ValueError) as err:
        return _failed_rows(TIPPING_ANALYSIS, study, outcome, f"not estimable: {err}")
    higher = outcomes.drop_duplicates("outcome").set_index("outcome")["higher_is_better"]
    found = tipping_point(result, tipping.deltas, bool(higher.get(outcome, True)))
    note = f"tipping point: delta added to every imputed post-event value of {tipping.arm}; "
    note += _note(spec, result, "ice_visit" in roster.columns)
    ref = study.reference_arm.id
    rows = []
    for record in found.table.to_dict("records"):
        label = delta_contrast(record["arm"], ref, record["delta"])
        rows.append(
            _row(TIPPING_ANALYSIS, study, outcome, record, result, note, SENSITIVITY, label,
                 record["delta"])
        )  # fmt: skip
    for point in found.tipping.to_dict("records"):
        rows.append(_tipping_delta_row(point, result, study, outcome, note, tipping))
    return rows


def _tipping_delta_row(point, result, study: Study, outcome: str, note: str, tipping) -> dict:
    """The row of the tipping delta of one visit and contrast (empty where the grid has
    no crossing)."""
    arm = point["contrast"].split(" - ")[0]
    label = delta_contrast(arm, study.reference_arm.id, None)
    flags = f"{SENSITIVITY};{TIPPING_POINT}"
    delta = float(point["tipping_delta"])
    alpha = study.analysis.alpha
    if not np.isfinite(delta):
        why = (
            f"p = {point['p_at_zero']:.4g} >= alpha at delta 0: no significance to lose"
            if point["p_at_zero"] >= alpha
            else f"p stays below alpha = {alpha:g} over the deltas "
            f"{', '.join(f'{d:g}' for d in tipping.deltas)} in the {point['direction']} "
            "direction; widen the grid"
        )
        return {
            "study": study.id,
            "outcome": outcome,
            "visit": point["visit"],
            "analysis": TIPPING_ANALYSIS,
            "contrast": label,
            "group": "",
            **empty_numbers(f"no tipping point: {why}; {note}", flags=flags),
        }
    table = result.table_at(delta)
    record = table.loc[
        (table["visit"] == point["visit"]) & (table["contrast"] == point["contrast"])
    ].iloc[0]
    where = (
        f"tipping delta: nearest 0 in the {point['direction']} direction (unfavourable to "
        f"{tipping.arm}) where the two-sided p reaches alpha = {alpha:g}, between the grid "
        f"points {point['bracket_low']:g} and {point['bracket_high']:g}; "
    )
    return _row(
        TIPPING_ANALYSIS, study, outcome, record.to_dict(), result, where + note, flags, label,
        delta,
    )  # fmt: skip
