"""The roster columns trialflow knows (``participants.csv``): kind and plausible values.

One table for everyone who checks them: :mod:`trialflow.validate` checks the roster file
against it, and the instruments that read roster values (spirometry, back extensor) list
these columns, with the same ranges, in their item tables.

The ranges are wide enough for every population the scorers cover (GLI-2012 spirometry
reference values start at age 3, so children's heights and weights are plausible); they
catch unit and typing errors (a height in metres, a weight in pounds of 500), not outliers.

The columns of the analysis plan (issue 12) are optional: ``ice_visit`` (the first visit an
intercurrent event affects: one of the study's post-baseline visits), ``ice_type`` (free
text, e.g. ``discontinued_treatment``; needs an ``ice_visit``), and the yes/no flags
``per_protocol`` and ``received_allocation`` (:data:`FLAG_TEXT`, any case).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "ETHNICITIES",
    "FLAG_TEXT",
    "PLAN_COLUMNS",
    "ROSTER_COLUMNS",
    "SEXES",
    "RosterColumn",
]

SEXES = ("F", "M")
#: GLI-2012 ethnic groups (pyspiro's names).
ETHNICITIES = ("caucasian", "african_american", "ne_asian", "se_asian", "other")
#: What a yes/no column may hold, compared after stripping blanks and in lower case (as
#: :func:`trialflow.stats.estimands.roster_flag` reads it); blank is missing.
FLAG_TEXT = ("yes", "no", "true", "false", "y", "n", "t", "f", "1", "0", "1.0", "0.0")


@dataclass(frozen=True)
class RosterColumn:
    """One roster column: numbers within ``minimum``-``maximum``, or one of ``responses``.

    ``optional`` columns may be left out even by an instrument that reads them (spirometry
    assumes ``caucasian`` without ``ethnicity``). Kinds: ``numeric``, ``categorical`` (one of
    ``responses``), ``flag`` (yes/no, :data:`FLAG_TEXT`), ``visit`` (a post-baseline visit id
    of the study) and ``text`` (anything).
    """

    name: str
    kind: Literal["numeric", "categorical", "flag", "visit", "text"]
    minimum: float = math.nan
    maximum: float = math.nan
    responses: tuple[str, ...] | None = None
    optional: bool = False


ROSTER_COLUMNS: dict[str, RosterColumn] = {
    column.name: column
    for column in (
        RosterColumn("age", "numeric", 0.0, 120.0),  # years
        RosterColumn("sex", "categorical", responses=SEXES),
        RosterColumn("height_cm", "numeric", 50.0, 250.0),
        RosterColumn("weight_kg", "numeric", 10.0, 400.0),
        RosterColumn("ethnicity", "categorical", responses=ETHNICITIES, optional=True),
        RosterColumn("ice_visit", "visit", optional=True),
        RosterColumn("ice_type", "text", optional=True),
        RosterColumn("per_protocol", "flag", optional=True),
        RosterColumn("received_allocation", "flag", optional=True),
    )
}
#: The roster columns of the analysis plan: conduct, not baseline characteristics.
PLAN_COLUMNS = ("ice_visit", "ice_type", "per_protocol", "received_allocation")
