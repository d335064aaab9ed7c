"""A seeded two-arm trial with three post-baseline visits and monotone dropout, as the
analyse stage receives it, for the missing-data sensitivity analyses of the pipeline."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from trialflow.config import AnalysisOptions, MMRMOptions, PlannedAnalysis, Study
from trialflow.sensitivity_config import (
    sensitivity_from_mapping,
    tipping_point_from_mapping,
    with_defaults,
)

from .studies import make_study

VISITS = (
    ("baseline", 0, "baseline"),
    ("week4", 4, "treatment"),
    ("week8", 8, "treatment"),
    ("week12", 12, "end_of_treatment"),
)


def dropout_trial(n_per_arm: int = 40, seed: int = 13) -> dict:
    """``study`` (no sensitivity analysis declared yet), long ``analysis`` data (covariate
    ``age``), ``participants`` (the roster) and ``outcomes`` of one outcome ``score``
    (higher is better): the control arm improves by 1 per visit, the exercise arm by 2.5;
    about a quarter drop out (monotone), more in the exercise arm."""
    rng = np.random.default_rng(seed)
    n = 2 * n_per_arm
    ids = [f"P{i:03d}" for i in range(n)]
    arm = np.repeat(["control", "exercise"], n_per_arm)
    age = rng.integers(50, 80, n).astype(float)
    base = 50 + 0.1 * (age - 65) + rng.normal(0, 5, n)
    slope = np.where(arm == "exercise", 2.5, 1.0)
    subject = rng.normal(0, 3, n)
    values = [base]
    for t in range(1, 4):
        values.append(base + slope * t + subject + rng.normal(0, 2, n))
    y = np.column_stack(values)
    drop = rng.uniform(size=n) < np.where(arm == "exercise", 0.3, 0.2)
    first = rng.integers(1, 4, n)
    for i in np.flatnonzero(drop):
        y[i, first[i] :] = np.nan
    visit_ids = [v[0] for v in VISITS]
    long = pd.DataFrame(
        {
            "participant_id": np.repeat(ids, 4),
            "arm": np.repeat(arm, 4),
            "visit": np.tile(visit_ids, n),
            "week": np.tile([v[1] for v in VISITS], n).astype(float),
            "outcome": "score",
            "value": y.reshape(-1),
            "age": np.repeat(age, 4),
        }
    )
    roster = pd.DataFrame({"participant_id": ids, "arm": arm, "age": age})
    outcomes = pd.DataFrame(
        {
            "outcome": ["score"],
            "instrument": ["score"],
            "label": ["Score"],
            "unit": ["points"],
            "higher_is_better": [True],
        }
    )
    analysis = AnalysisOptions(
        primary=PlannedAnalysis("score", "week12", "ancova"),
        mmrm=MMRMOptions(covariance=("unstructured",), baseline_by_visit=True, tolerance=1e-12),
    )
    study = make_study("dropout", ["control", "exercise"], VISITS, covariates=("age",))
    study = replace(study, analysis=analysis)
    return {"study": study, "analysis": long, "participants": roster, "outcomes": outcomes}


def with_sensitivity(study: Study, sensitivity=(), tipping_point=None) -> Study:
    """``study`` with ``analysis.sensitivity`` and ``analysis.tipping_point`` declared as in
    the config (mappings), defaults filled in as :func:`trialflow.config.study_from_mapping`
    fills them."""
    entries, tipping = with_defaults(
        sensitivity_from_mapping(sensitivity),
        tipping_point_from_mapping(tipping_point),
        study.arm_ids,
        study.analysis.primary.outcome if study.analysis.primary else None,
    )
    analysis = replace(study.analysis, sensitivity=entries, tipping_point=tipping)
    return replace(study, analysis=analysis)
