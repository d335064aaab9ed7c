"""Questionnaire items from latent health, using the instruments' own item tables."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from trialflow.instruments import items as item_table
from trialflow.instruments._base import load_definition
from trialflow.simulate._core import Cohort, blank_cells, latent_to_items, stream


def not_applicable_codes(name: str) -> dict[str, tuple]:
    """Column to "not applicable" codes declared in the instrument's definition file.

    Such codes are allowed responses but not points on the ordinal scale, so they must be
    kept out of the latent-to-response mapping.
    """
    try:
        definition = load_definition(name)
    except FileNotFoundError:
        return {}
    codes = {}
    for number, spec in (definition.get("items") or {}).items():
        if isinstance(spec, Mapping) and spec.get("not_applicable") is not None:
            codes[f"q{number}"] = (spec["not_applicable"],)
    return codes


def as_item_column(values: pd.Series) -> pd.Series:
    """Integer-coded answers as nullable integers (blank = NA); text codes unchanged."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("Int64")
    return values.astype(object)


# Over 80 lines only through its numpydoc docstring; the code itself is shorter.
def questionnaire(
    cohort: Cohort,
    seed: int,
    study: str,
    name: str,
    scales: Mapping[str, tuple[float, float, Mapping[str, Mapping[str, float]]]],
    general: np.ndarray,
    *,
    options: Mapping | None = None,
    shared: float = 0.5,
    visit_sd: float = 0.25,
    heterogeneity: float = 0.3,
    item_sd: float = 0.8,
    missing_rate: float = 0.0,
    not_applicable_rate: float = 0.1,
) -> pd.DataFrame:
    """Simulate one item-level questionnaire for a cohort.

    Latent health of participant i on scale s at visit t (logit scale, higher = healthier) is
    ``location_s + spread_s * (sqrt(shared) * general_i + sqrt(1 - shared) * own_is)
    + effect_s[arm][t] * (1 + heterogeneity * responder_i) + visit_sd * noise``; answers
    follow from :func:`trialflow.simulate._core.latent_to_items`.

    Parameters
    ----------
    cohort : Cohort
    seed : int
    study : str
    name : str
        Instrument type (``items()`` name).
    scales : mapping
        Scale name to ``(location, spread, {arm: {visit: effect}})`` on the logit scale.
    general : ndarray
        Per-participant general health (standard normal) shared by the scales.
    options : mapping, optional
        Options for ``items()``.
    shared : float
        Share of the person variance that is common to all scales.
    visit_sd, heterogeneity, item_sd : float
        Visit-level noise, spread of individual responses, answer noise.
    missing_rate : float
        Probability that an answer is left blank.
    not_applicable_rate : float
        Share of participants for whom an item with a "not applicable" code does not apply
        (e.g. no garden); the same at every visit.

    Returns
    -------
    DataFrame
        ``participant_id, visit, q1..qN`` for attended visits, sorted.
    """
    # 84 lines, half of them the docstring of the simulation model; the body is kept whole
    # because the order of the random draws below fixes the committed simulated data
    rng = stream(seed, study, name)
    table = item_table(name, **(options or {}))
    table = table[table["kind"] == "categorical"]
    n, t = cohort.n, len(cohort.visits)
    health = {}
    for scale, (location, spread, effects) in scales.items():
        own = rng.standard_normal(n)
        person = np.sqrt(shared) * general + np.sqrt(1 - shared) * own
        eta = (
            location
            + spread * person[:, None]
            + cohort.effect_matrix(effects) * (1 + heterogeneity * cohort.responder[:, None])
            + visit_sd * rng.standard_normal((n, t))
        )
        health[scale] = eta.ravel()
    na_codes = not_applicable_codes(name)
    answers = latent_to_items(
        health,
        table,
        rng,
        stream(seed, study, f"{name}:item_offsets"),
        item_sd=item_sd,
        exclude=na_codes,
    )
    for column, codes in na_codes.items():
        if column in answers:
            does_not_apply = np.repeat(rng.random(n) < not_applicable_rate, t)
            answers[column] = np.where(does_not_apply, codes[0], answers[column])
    frame = cohort.long(answers)
    columns = list(table["column"])
    for column in columns:
        frame[column] = as_item_column(frame[column])
    return blank_cells(frame, columns, missing_rate, rng) if missing_rate > 0 else frame
