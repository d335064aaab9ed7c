"""The config rules JSON Schema cannot express, each as ``<key path>: <what is wrong>``.

:func:`config_problems` runs them all per study: the design's cross-field rules here, the
rules of issue 10 in :mod:`trialflow.config_rules`, the analysis plan's in
:mod:`trialflow.plan_problems`. :func:`trialflow.config.config_problems` calls it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trialflow.config import RESERVED_COLUMNS, covariate_entries, study_outcome_ids

__all__ = ["config_problems"]


def config_problems(config: Mapping[str, Any]) -> list[str]:
    """Rules JSON Schema cannot express, each as ``<key path>: <what is wrong>``.

    Cross-field rules (arms for the design, unique ids, increasing weeks, the primary
    visit), minimal important differences that name no outcome of the study, covariates
    named like a column trialflow makes itself (:data:`RESERVED_COLUMNS`), and the analysis
    plan (:func:`trialflow.plan_problems.plan_problems`).
    """
    from trialflow import config_rules  # the rules of issue 10, kept in their own module

    problems = []
    for sid, raw in config["studies"].items():
        key = f"studies.{sid}"
        problems += _design_problems(key, raw)
        problems += _analysis_problems(key, raw)
        problems += config_rules.study_rule_problems(key, raw)
        problems += _plan_problems(key, raw)
    return problems


def _plan_problems(key: str, raw: Mapping[str, Any]) -> list[str]:
    from trialflow.plan_problems import plan_problems

    try:
        analysed = study_outcome_ids(raw, analysed_only=True)
    except ValueError:  # reported by _analysis_problems
        analysed = None
    return plan_problems(key, raw, analysed)


def _design_problems(key: str, raw: Mapping[str, Any]) -> list[str]:
    problems = []
    arm_ids = [a["id"] for a in raw["arms"]]
    visit_ids = [v["id"] for v in raw["visits"]]
    if raw["design"] == "single_arm" and len(arm_ids) != 1:
        problems.append(f"{key}.arms: a single_arm design has exactly one arm, got {len(arm_ids)}")
    if raw["design"] == "parallel" and len(arm_ids) < 2:
        problems.append(f"{key}.arms: a parallel design needs at least two arms")
    for name, ids in (("arms", arm_ids), ("visits", visit_ids)):
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            problems.append(f"{key}.{name}: duplicate id(s) {', '.join(duplicates)}")
    weeks = [float(v["week"]) for v in raw["visits"]]
    if weeks != sorted(weeks) or len(set(weeks)) != len(weeks):
        problems.append(f"{key}.visits: weeks must increase from visit to visit, got {weeks}")
    if raw["visits"][0]["role"] != "baseline":
        problems.append(f"{key}.visits: the first visit must have role baseline")
    return problems


def _analysis_problems(key: str, raw: Mapping[str, Any]) -> list[str]:
    problems = []
    visit_ids = [v["id"] for v in raw["visits"]]
    analysis = raw.get("analysis") or {}
    primary = analysis.get("primary_visit")
    if primary is not None and primary not in visit_ids:
        problems.append(
            f"{key}.analysis.primary_visit: '{primary}' is not one of the visits {visit_ids}"
        )
    for i, (covariate, _) in enumerate(covariate_entries(raw.get("covariates"))):
        if covariate in RESERVED_COLUMNS:
            problems.append(
                f"{key}.covariates[{i}]: '{covariate}' is a column trialflow makes itself "
                f"({', '.join(RESERVED_COLUMNS)}); rename the roster column"
            )
    mid = analysis.get("minimal_important_difference") or {}
    try:
        known = study_outcome_ids(raw)
    except ValueError:  # an instrument's options are wrong: config_rules names the key
        return problems
    for outcome in mid:
        if outcome not in known:
            problems.append(
                f"{key}.analysis.minimal_important_difference.{outcome}: no outcome of this "
                f"study has this id; its outcomes are {', '.join(known)}"
            )
    return problems
