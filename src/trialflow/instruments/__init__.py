"""Instrument scoring: one module per instrument type, structure kept in definition files.

Every function takes the instrument type name (``sf36``, ``qualeffo41``, ``hads``, ``hss``,
``spirometry``, ``back_extensor``, ``loaded_standing``, ``spinal_mobility``, ``knee_rom``,
``proprioception``, ``quadriceps``, ``vas_pain``, ``tug``, ``gait_speed``, ``measures``)
and the scorer options of the study config. See docs/architecture.md for the contracts.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pandas as pd

from trialflow.errors import InputProblem
from trialflow.instruments import (
    back_extensor,
    gait_speed,
    hads,
    hss,
    knee_rom,
    loaded_standing,
    measures,
    proprioception,
    quadriceps,
    qualeffo41,
    sf36,
    spinal_mobility,
    spirometry,
    tug,
    vas_pain,
)
from trialflow.instruments._base import Instrument

_MODULES: dict[str, ModuleType] = {
    "sf36": sf36,
    "qualeffo41": qualeffo41,
    "hads": hads,
    "hss": hss,
    "spirometry": spirometry,
    "back_extensor": back_extensor,
    "loaded_standing": loaded_standing,
    "spinal_mobility": spinal_mobility,
    "knee_rom": knee_rom,
    "proprioception": proprioception,
    "quadriceps": quadriceps,
    "vas_pain": vas_pain,
    "tug": tug,
    "gait_speed": gait_speed,
    "measures": measures,
}

#: the built-in instrument types
TYPES: tuple[str, ...] = tuple(_MODULES)


def instrument(name: str) -> Instrument:
    """The scorer object of an instrument type.

    Raises
    ------
    ValueError
        For an unknown type name.
    """
    try:
        return _MODULES[name].INSTRUMENT
    except KeyError:
        raise ValueError(
            f"unknown instrument type {name!r}; known types: {', '.join(TYPES)}"
        ) from None


def score(name: str, items: pd.DataFrame, **options: Any) -> pd.DataFrame:
    """Score item-level answers.

    Parameters
    ----------
    name : str
        Instrument type.
    items : pandas.DataFrame
        One row per participant and visit: ``participant_id``, ``visit``, the instrument's
        columns (see :func:`items`), the roster columns of :func:`roster_columns`, and
        optionally ``source_file``/``source_row`` for error messages. Blank (NaN) is missing.
    **options
        Scorer options (e.g. ``norms="us1990"`` for SF-36, ``coding="position"`` for HADS).

    Returns
    -------
    pandas.DataFrame
        One row per input row (same index), ``participant_id`` and ``visit`` when present,
        then one column per score in the order of :func:`outcomes`.

    Raises
    ------
    trialflow.errors.InputError
        Listing every answer outside an item's allowed responses and every missing column.
    """
    return instrument(name).score(items, **options)


def items(name: str, **options: Any) -> pd.DataFrame:
    """The input columns of an instrument: one row per CSV column.

    Returns
    -------
    pandas.DataFrame
        ``column``, ``required``, ``kind`` (categorical | numeric | text), ``responses``
        (tuple of allowed values for categorical items, else None), ``min``, ``max`` (numeric
        range, else NaN), ``better`` (high | low: the healthier end of the response scale;
        for text categories the order of ``responses``), ``scales`` (scores the item feeds).
    """
    return instrument(name).items(**options)


def outcomes(name: str, **options: Any) -> pd.DataFrame:
    """Score metadata: ``score, label, unit, higher_is_better, algorithm, analysed``."""
    return instrument(name).outcomes(**options)


def check_items(name: str, items: pd.DataFrame, **options: Any) -> list[InputProblem]:
    """The answer checks :func:`score` applies, returned instead of raised.

    Problems name ``source_file``/``source_row`` when the frame has them, else ``"<items>"``
    and the frame position + 2 (the CSV line of a file with a header).
    """
    return instrument(name).check_items(items, **options)


def roster_columns(name: str) -> tuple[str, ...]:
    """Roster columns the instrument reads as extra columns of the item frame."""
    return tuple(instrument(name).roster)


__all__ = ["TYPES", "check_items", "instrument", "items", "outcomes", "roster_columns", "score"]
