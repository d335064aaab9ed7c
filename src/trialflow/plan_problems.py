"""Checks of the analysis plan in the config that JSON Schema cannot express.

Each problem is one string ``<key path>: <plain sentence>``, as
:func:`trialflow.config.config_problems` reports them: the declared primary and key secondary
analyses (outcomes, visits and methods the study has), their estimands, analysis sets,
responder thresholds, the MMRM options, Table 1, the within-arm table and the flow counts.
Every message has a test in ``tests/test_plan_config.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trialflow.config import REPLACED_KEYS

__all__ = ["plan_problems"]


def plan_problems(key: str, raw: Mapping[str, Any], outcomes: list[str] | None) -> list[str]:
    """Problems of one study's analysis plan.

    Parameters
    ----------
    key : str
        ``studies.<id>``.
    raw : mapping
        The study's validated config mapping.
    outcomes : list of str or None
        The study's analysed outcome ids (None when the instruments' options are wrong, in
        which case outcome ids are not checked).

    Returns
    -------
    list of str
    """
    analysis = raw.get("analysis") or {}
    where = f"{key}.analysis"
    problems = _replaced_key_problems(where, analysis)
    problems += _declaration_problems(where, raw, analysis)
    for path, planned in _planned_entries(where, analysis):
        problems += _planned_problems(path, planned, raw, analysis, outcomes)
    problems += _same_model_problems(where, analysis)
    problems += _set_problems(where, analysis)
    problems += _responder_problems(where, analysis, outcomes)
    problems += _output_problems(key, raw)
    problems += _imputation_problems(where, raw, analysis, outcomes)
    return problems


def _replaced_key_problems(where: str, analysis: Mapping[str, Any]) -> list[str]:
    return [
        f"{where}.{old}: this key was replaced by analysis.{new}; write "
        f"`mmrm: {{covariance: [...]}}` instead"
        for old, new in REPLACED_KEYS.items()
        if old in analysis
    ]


def _single_arm(raw: Mapping[str, Any]) -> bool:
    return raw["design"] == "single_arm" or len(raw["arms"]) == 1


def _declaration_problems(where: str, raw: Mapping[str, Any], analysis) -> list[str]:
    problems = []
    primary = analysis.get("primary")
    exploratory = bool(analysis.get("exploratory_only", False))
    if primary is None and not exploratory and raw["design"] == "parallel":
        problems.append(
            f"{where}.primary: a parallel-group study needs a declared primary analysis "
            "(outcome, visit, method); if the study has none, set "
            "analysis.exploratory_only: true"
        )
    if primary is not None and exploratory:
        problems.append(
            f"{where}.exploratory_only: it is true, but analysis.primary is declared; "
            "remove one of them"
        )
    if primary is None and analysis.get("key_secondary"):
        problems.append(
            f"{where}.key_secondary: key secondary analyses are tested after the primary "
            "one; declare analysis.primary first"
        )
    return problems


def _planned_entries(where: str, analysis: Mapping[str, Any]) -> list[tuple[str, Mapping]]:
    entries = []
    if analysis.get("primary") is not None:
        entries.append((f"{where}.primary", analysis["primary"]))
    for i, entry in enumerate(analysis.get("key_secondary") or ()):
        entries.append((f"{where}.key_secondary[{i}]", entry))
    return entries


def _describe(planned: Mapping[str, Any]) -> str:
    return f"{planned['outcome']} at {planned['visit']} by {planned['method']}"


def _planned_problems(
    path: str, planned, raw: Mapping[str, Any], analysis, outcomes: list[str] | None
) -> list[str]:
    problems = []
    post = [v["id"] for v in raw["visits"] if v["role"] != "baseline"]
    if outcomes is not None and planned["outcome"] not in outcomes:
        problems.append(
            f"{path}.outcome: '{planned['outcome']}' is not an analysed outcome of this "
            f"study; its outcomes are {', '.join(outcomes)}"
        )
    if planned["visit"] not in post:
        problems.append(
            f"{path}.visit: '{planned['visit']}' is not a post-baseline visit of this study; "
            f"expected one of {', '.join(post)}"
        )
    method = planned["method"]
    if _single_arm(raw) and method != "mmrm":
        problems.append(
            f"{path}.method: {method} compares arms, and this study has one arm; its "
            "analysis is the within-arm change from baseline by mmrm"
        )
    if method == "responder" and planned["outcome"] not in _thresholds(analysis):
        problems.append(
            f"{path}.method: responder needs a responder threshold for "
            f"'{planned['outcome']}' (analysis.responders.thresholds or "
            "analysis.minimal_important_difference)"
        )
    problems += _estimand_problems(f"{path}.estimand", planned.get("estimand"), method)
    return problems


def _thresholds(analysis: Mapping[str, Any]) -> set[str]:
    responders = (analysis.get("responders") or {}).get("thresholds") or {}
    return set(responders) | set(analysis.get("minimal_important_difference") or {})


def _estimand_problems(path: str, estimand: Mapping[str, Any] | None, method: str) -> list:
    if not estimand:
        return []
    problems = []
    seen: set[str] = set()
    for i, event in enumerate(estimand.get("intercurrent_events") or ()):
        here = f"{path}.intercurrent_events[{i}]"
        if event["type"] in seen:
            problems.append(f"{here}.type: '{event['type']}' is listed twice")
        seen.add(event["type"])
        strategy = event["strategy"]
        if strategy == "principal_stratum":
            problems.append(
                f"{here}.strategy: principal_stratum is not supported; use "
                "treatment_policy, hypothetical, while_on_treatment or (responder analyses) "
                "composite"
            )
        elif strategy == "composite" and method != "responder":
            problems.append(
                f"{here}.strategy: composite counts the event as non-response and needs "
                f"method responder; method {method} analyses the value itself"
            )
    return problems


def _same_model_problems(where: str, analysis: Mapping[str, Any]) -> list[str]:
    """Two entries that are one analysis, or one MMRM with two estimands."""
    problems = []
    entries = _planned_entries(where, analysis)
    for i, (path, planned) in enumerate(entries):
        for earlier_path, earlier in entries[:i]:
            same_model = (planned["outcome"], planned["method"]) == (
                earlier["outcome"],
                earlier["method"],
            )
            if same_model and planned["visit"] == earlier["visit"]:
                problems.append(
                    f"{path}: the same analysis as {earlier_path.split('.', 2)[-1]} "
                    f"({_describe(planned)})"
                )
            elif (
                same_model
                and planned["method"] == "mmrm"
                and planned.get("estimand") != earlier.get("estimand")
            ):
                problems.append(
                    f"{path}.estimand: {planned['outcome']} by mmrm is one model for every "
                    f"visit, and {earlier_path.split('.', 2)[-1]} declares another estimand "
                    "for it; give both the same estimand"
                )
    return problems


def _set_problems(where: str, analysis: Mapping[str, Any]) -> list[str]:
    problems = []
    main = analysis.get("analysis_set", "full_analysis")
    sensitivity = list(analysis.get("sensitivity_sets") or ())
    if main in sensitivity:
        problems.append(
            f"{where}.sensitivity_sets: '{main}' is the primary analysis set "
            "(analysis.analysis_set); list only other sets"
        )
    if sensitivity and analysis.get("primary") is None:
        problems.append(
            f"{where}.sensitivity_sets: sensitivity analyses repeat the primary and key "
            "secondary analyses on other sets, and none is declared"
        )
    return problems


def _responder_problems(where: str, analysis, outcomes: list[str] | None) -> list[str]:
    if outcomes is None:
        return []
    thresholds = (analysis.get("responders") or {}).get("thresholds") or {}
    return [
        f"{where}.responders.thresholds.{outcome}: no analysed outcome of this study has "
        f"this id; its outcomes are {', '.join(outcomes)}"
        for outcome in thresholds
        if outcome not in outcomes
    ]


def _output_problems(key: str, raw: Mapping[str, Any]) -> list[str]:
    problems = []
    analysis = raw.get("analysis") or {}
    if _single_arm(raw) and (analysis.get("mmrm") or {}).get("baseline_by_visit"):
        problems.append(
            f"{key}.analysis.mmrm.baseline_by_visit: a single-arm MMRM models baseline as a "
            "visit (value ~ visit) and has no baseline covariate; remove the key"
        )
    if _single_arm(raw) and (raw.get("tables") or {}).get("within_arm") is False:
        problems.append(
            f"{key}.tables.within_arm: a single-arm study's analyses are within-arm changes "
            "(Table 3); the table cannot be turned off"
        )
    flow = raw.get("flow") or {}
    excluded = sum((flow.get("excluded") or {}).values())
    if flow.get("excluded") and flow.get("screened") is None:
        problems.append(
            f"{key}.flow.excluded: exclusions are counted among the screened; give "
            "flow.screened too"
        )
    elif flow.get("screened") is not None and excluded > flow["screened"]:
        problems.append(
            f"{key}.flow.excluded: the exclusions add up to {excluded}, more than the "
            f"{flow['screened']} screened"
        )
    table1 = raw.get("table1") or {}
    declared = table1.get("variables")
    for variable in table1.get("summary") or {}:
        if declared is not None and variable not in declared:
            problems.append(
                f"{key}.table1.summary.{variable}: '{variable}' is not one of table1.variables"
            )
    return problems


def _imputation_entries(where: str, analysis: Mapping[str, Any]) -> list[tuple[str, Mapping]]:
    entries = [
        (f"{where}.sensitivity[{i}]", entry)
        for i, entry in enumerate(analysis.get("sensitivity") or ())
    ]
    if analysis.get("tipping_point") is not None:
        entries.append((f"{where}.tipping_point", analysis["tipping_point"]))
    return entries


def _imputation_problems(where: str, raw, analysis, outcomes: list[str] | None) -> list[str]:
    """``analysis.sensitivity`` and ``analysis.tipping_point``: design, arms, outcomes,
    the bootstrap's options, and two entries with the same name for one outcome."""
    problems = []
    arms = [a["id"] for a in raw["arms"]]
    primary = (analysis.get("primary") or {}).get("outcome")
    seen: dict[tuple[str, str], str] = {}
    for path, entry in _imputation_entries(where, analysis):
        problems += _imputation_entry_problems(path, entry, raw, arms)
        tipping = path.endswith("tipping_point")
        key = "outcome" if tipping else "outcomes"
        declared = (
            [entry["outcome"]] if entry.get("outcome") else list(entry.get("outcomes") or ())
        )
        if not declared and primary is None:
            problems.append(
                f"{path}.{key}: no primary analysis is declared, so there is no default "
                f"outcome; name the {key}"
            )
        for outcome in declared:
            if outcomes is not None and outcome not in outcomes:
                problems.append(
                    f"{path}.{key}: '{outcome}' is not an analysed outcome of this study; its "
                    f"outcomes are {', '.join(outcomes)}"
                )
        if tipping:
            continue
        name = _imputation_name(entry)
        for outcome in declared or [primary]:
            if (name, outcome) in seen:
                problems.append(
                    f"{path}: the same analysis ({name} of {outcome}) as "
                    f"{seen[(name, outcome)].split('.', 2)[-1]}; results rows are named by "
                    "method and strategy, so declare each once"
                )
            seen[(name, outcome)] = path
    return problems


def _imputation_name(entry: Mapping[str, Any]) -> str:
    from trialflow.sensitivity_config import analysis_name

    return analysis_name(entry["method"], entry["strategy"])


def _imputation_entry_problems(path: str, entry, raw, arms: list[str]) -> list[str]:
    problems = []
    strategy = entry["strategy"]
    used = {strategy} if isinstance(strategy, str) else set(strategy.values())
    if _single_arm(raw):
        departing = sorted(used - {"mar"})
        problems.append(
            f"{path}.strategy: {', '.join(departing)} imputes from another arm "
            "(reference-based) and needs design: parallel; this study is single-arm"
            if departing
            else f"{path}: imputation sensitivity analyses compare arms and need design: "
            "parallel; this study is single-arm"
        )
    for field_name in ("reference_arm", "arm"):
        arm = entry.get(field_name)
        if arm is not None and arm not in arms:
            problems.append(
                f"{path}.{field_name}: '{arm}' is not an arm of this study; its arms are "
                f"{', '.join(arms)}"
            )
    if entry["method"] == "bootstrap_mi":
        problems += [
            f"{path}.{option}: bootstrap_mi needs {what}"
            for option, what in (
                ("n_imputations", "the number of imputations (e.g. 100)"),
                ("seed", "a seed (a non-negative integer), so that its draws are reproducible"),
            )
            if entry.get(option) is None
        ]
    else:
        problems += [
            f"{path}.{option}: conditional_mean is deterministic and takes no {option}; "
            "remove it (or use method bootstrap_mi)"
            for option in ("n_imputations", "seed")
            if entry.get(option) is not None
        ]
    return problems
