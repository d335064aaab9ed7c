"""Building blocks shared by the study simulators: random streams, outcomes, items, output.

Every participant-level quantity is drawn from a named random stream derived from
``(seed, study, stream name)``, so adding a stream never shifts the values of another, and
every frame is sorted and rounded the same way on every run.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


def stream(seed: int, study: str, name: str) -> np.random.Generator:
    """An independent, reproducible random generator for one part of one study.

    Parameters
    ----------
    seed : int
        The user's seed.
    study : str
        Study name; mixed in so that one seed gives unrelated data for different studies.
    name : str
        The part of the simulation (e.g. ``"roster"``, ``"spirometry"``).

    Returns
    -------
    numpy.random.Generator
    """
    # crc32 rather than hash(): Python's str hash is salted per process.
    key = [int(seed), zlib.crc32(study.encode()), zlib.crc32(name.encode())]
    return np.random.default_rng(np.random.SeedSequence(key))


def expit(x: np.ndarray) -> np.ndarray:
    """The logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class Outcome:
    """How one continuous measurement is generated.

    On the working scale (natural units, or log units when ``log``), a participant's value at
    visit t is ``mean + sd_between * person + effect[arm][t] * (1 + heterogeneity * responder)
    + sd_within * noise``, where ``person`` mixes a study-wide factor (weight ``loading``) with
    an outcome-specific normal deviate. For log outcomes ``mean`` is the median in natural
    units, ``sd_between`` and ``sd_within`` are roughly coefficients of variation and effects are
    ratios.

    Parameters
    ----------
    column : str
        CSV column.
    mean, sd_between, sd_within : float
        Location, between-person SD and visit-to-visit SD on the working scale.
    effects : mapping
        ``{arm: {visit: shift}}`` (additive, or a ratio for log outcomes); missing = no change.
    log : bool
        Generate on the log scale (positive, right-skewed measures such as times).
    loading : float
        Correlation of the person effect with the study-wide factor (sign = direction).
    heterogeneity : float
        Relative spread of individual responses to the intervention.
    decimals : int
        Rounding of the device.
    lower, upper : float
        Physiological limits; values are clipped into them.
    age_slope : float
        Change of the working-scale mean per year of age above the cohort's reference age.
    male : float
        Shift for men on the working scale (a ratio for log outcomes); 0 = none.
    """

    column: str
    mean: float
    sd_between: float
    sd_within: float
    effects: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    log: bool = False
    loading: float = 0.0
    heterogeneity: float = 0.3
    decimals: int = 1
    lower: float = -np.inf
    upper: float = np.inf
    age_slope: float = 0.0
    male: float = 0.0


@dataclass(frozen=True)
class Cohort:
    """The participants shared by every instrument of one simulated study.

    Attributes
    ----------
    roster : DataFrame
        One row per participant (``participants.csv`` columns).
    visits : tuple of str
        Visit ids in time order.
    factor : ndarray
        Study-wide latent capacity per participant (standard normal; higher = healthier).
    responder : ndarray
        Individual strength of response to the intervention (standard normal).
    reference_age : float
        Age at which ``Outcome.age_slope`` is zero.
    """

    roster: pd.DataFrame
    visits: tuple[str, ...]
    factor: np.ndarray
    responder: np.ndarray
    reference_age: float

    @property
    def n(self) -> int:
        return len(self.roster)

    def attended(self) -> np.ndarray:
        """Boolean (participants x visits): visits up to and including ``last_visit``."""
        position = {visit: i for i, visit in enumerate(self.visits)}
        last = self.roster["last_visit"].map(position).to_numpy()
        return np.arange(len(self.visits))[None, :] <= last[:, None]

    def effect_matrix(self, effects: Mapping[str, Mapping[str, float]]) -> np.ndarray:
        """(participants x visits) intervention shifts from ``{arm: {visit: shift}}``."""
        arms = self.roster["arm"].to_numpy()
        out = np.zeros((self.n, len(self.visits)))
        for arm, by_visit in effects.items():
            for j, visit in enumerate(self.visits):
                out[arms == arm, j] = by_visit.get(visit, 0.0)
        return out

    def long(self, values: Mapping[str, np.ndarray]) -> pd.DataFrame:
        """Long frame (participant_id, visit, columns) of attended visits, sorted.

        Parameters
        ----------
        values : mapping of str to ndarray
            Column name to a (participants x visits) array or an already long 1-d array
            (participant-major, visit-minor).
        """
        n, t = self.n, len(self.visits)
        keep = self.attended().ravel()
        frame = {
            "participant_id": np.repeat(self.roster["participant_id"].to_numpy(), t)[keep],
            "visit": np.tile(np.asarray(self.visits, dtype=object), n)[keep],
        }
        for column, array in values.items():
            array = np.asarray(array)
            frame[column] = (array.reshape(n * t) if array.ndim == 2 else array)[keep]
        return pd.DataFrame(frame).reset_index(drop=True)


def participant_ids(prefix: str, n: int, width: int) -> np.ndarray:
    """``n`` participant ids ``prefix`` + a zero-padded number (at least ``width`` digits)."""
    width = max(width, len(str(n)))
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def latent_cohort(
    people: pd.DataFrame,
    seed: int,
    study: str,
    visits: tuple[str, ...],
    reference_age: float,
    general_loading: float,
) -> tuple[Cohort, np.ndarray]:
    """The cohort's latent traits, drawn from the ``"latent"`` stream.

    The study-wide factor falls with age (younger participants tend to be stronger and
    fitter); the general well-being factor of the questionnaires loads on it.

    Parameters
    ----------
    people : DataFrame
        The roster (``participants.csv`` columns).
    seed : int
    study : str
    visits : tuple of str
        Visit ids in time order.
    reference_age : float
        Age at which ``Outcome.age_slope`` is zero.
    general_loading : float
        Correlation of the general well-being factor with the study-wide factor.

    Returns
    -------
    cohort : Cohort
    general : ndarray
        General well-being factor per participant (standard normal).
    """
    n = len(people)
    rng = stream(seed, study, "latent")
    age_z = (people["age"].to_numpy(dtype=float) - reference_age) / 5.0
    factor = -0.3 * age_z + np.sqrt(1 - 0.09) * rng.standard_normal(n)
    cohort = Cohort(people, visits, factor, rng.standard_normal(n), reference_age)
    general = general_loading * factor + np.sqrt(1 - general_loading**2) * rng.standard_normal(n)
    return cohort, general


def simulate_outcomes(
    cohort: Cohort, outcomes: Sequence[Outcome], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Draw each outcome as a (participants x visits) array, rounded and clipped.

    Parameters
    ----------
    cohort : Cohort
    outcomes : sequence of Outcome
    rng : numpy.random.Generator

    Returns
    -------
    dict of str to ndarray
    """
    n, t = cohort.n, len(cohort.visits)
    age = cohort.roster["age"].to_numpy(dtype=float) - cohort.reference_age
    male = (cohort.roster["sex"] == "M").to_numpy()
    out = {}
    for spec in outcomes:
        own = rng.standard_normal(n)
        person = spec.loading * cohort.factor + np.sqrt(1 - spec.loading**2) * own
        centre = np.log(spec.mean) if spec.log else spec.mean
        male_shift = np.log(spec.male) if (spec.log and spec.male) else spec.male
        effect = cohort.effect_matrix(
            {
                arm: {v: (np.log(x) if spec.log else x) for v, x in by_visit.items()}
                for arm, by_visit in spec.effects.items()
            }
        )
        working = (
            centre
            + spec.age_slope * age[:, None]
            + male_shift * male[:, None]
            + spec.sd_between * person[:, None]
            + effect * (1 + spec.heterogeneity * cohort.responder[:, None])
            + spec.sd_within * rng.standard_normal((n, t))
        )
        value = np.exp(working) if spec.log else working
        out[spec.column] = np.round(np.clip(value, spec.lower, spec.upper), spec.decimals)
    return out


def ordinal_responses(item: Mapping, exclude: Sequence = ()) -> list:
    """An item's allowed responses ordered from the least to the most healthy.

    Parameters
    ----------
    item : mapping
        One row of ``trialflow.instruments.items()``.
    exclude : sequence
        Responses outside the ordinal scale (e.g. a "not applicable" code).
    """
    # keep the table's order (ascending codes; text codes are listed healthiest first)
    responses = [r for r in item["responses"] if r not in set(exclude)]
    return responses if item["better"] == "high" else responses[::-1]


def latent_to_items(
    health: Mapping[str, np.ndarray],
    table: pd.DataFrame,
    rng: np.random.Generator,
    item_rng: np.random.Generator,
    *,
    item_sd: float = 0.8,
    offset_sd: float = 0.25,
    exclude: Mapping[str, Sequence] | None = None,
) -> dict[str, np.ndarray]:
    """Turn latent health per scale into item responses.

    For each item, ``p = expit(health[scale] + item offset + item_sd * noise)`` is the
    probability-like health level of that answer and the response is the
    ``floor(p * K)``-th of the item's K options ordered from least to most healthy, so the
    mean recoded answer tracks ``expit(health)``.

    Parameters
    ----------
    health : mapping of str to ndarray
        Latent health (logit scale, higher = healthier) per scale name, each a 1-d array over
        the rows to generate. An item uses the first of its ``scales`` found here, else the
        mean over all scales (items that feed no scale, e.g. SF-36 item 2).
    table : DataFrame
        ``trialflow.instruments.items()`` rows of the categorical items to generate.
    rng : numpy.random.Generator
        Answer noise.
    item_rng : numpy.random.Generator
        Item offsets (item "difficulty"): its own stream so they do not depend on n.
    item_sd, offset_sd : float
        SD of answer noise and of item offsets on the logit scale.
    exclude : mapping, optional
        Column to responses that are not on the ordinal scale.

    Returns
    -------
    dict of str to ndarray
        Column to responses (arrays of the allowed response values).
    """
    exclude = exclude or {}
    overall = np.mean(np.vstack(list(health.values())), axis=0)
    offsets = item_rng.normal(0.0, offset_sd, len(table))
    out = {}
    for offset, item in zip(offsets, table.to_dict("records"), strict=True):
        scale = next((s for s in item["scales"] if s in health), None)
        level = health[scale] if scale is not None else overall
        options = ordinal_responses(item, exclude.get(item["column"], ()))
        p = expit(level + offset + item_sd * rng.standard_normal(level.shape))
        position = np.minimum((p * len(options)).astype(int), len(options) - 1)
        out[item["column"]] = np.asarray(options)[position]
    return out


def blank_cells(
    frame: pd.DataFrame, columns: Sequence[str], rate: float, rng: np.random.Generator
) -> pd.DataFrame:
    """Blank a random ``rate`` of the given cells (unanswered items), at least one cell.

    Parameters
    ----------
    frame : DataFrame
    columns : sequence of str
    rate : float
        Probability of each cell being blank.
    rng : numpy.random.Generator

    Returns
    -------
    DataFrame
        A copy with the chosen cells set to missing.
    """
    frame = frame.copy()
    mask = rng.random((len(frame), len(columns))) < rate
    if not mask.any() and mask.size:
        mask.flat[rng.integers(mask.size)] = True
    for j, column in enumerate(columns):
        frame[column] = frame[column].mask(mask[:, j])
    return frame


def format_column(values: pd.Series, decimals: int) -> pd.Series:
    """CSV text of one numeric column with fixed decimals; missing values become blanks.

    Parameters
    ----------
    values : Series
    decimals : int
        Decimal places (0 = integers).

    Returns
    -------
    Series of str
    """
    missing = values.isna().to_numpy()
    numbers = pd.to_numeric(values, errors="raise").astype(float).to_numpy()
    # round first so that the text does not depend on how the platform rounds halves
    numbers = np.round(np.where(missing, 0.0, numbers), decimals) + 0.0  # + 0.0: no "-0.0"
    text = np.char.mod(f"%.{decimals}f", numbers).astype(object)
    text[missing] = ""
    return pd.Series(text, index=values.index)


def csv_text(frame: pd.DataFrame, decimals: Mapping[str, int]) -> str:
    """The CSV text of a frame with fixed decimals per measurement and ``\\n`` line ends.

    Parameters
    ----------
    frame : DataFrame
    decimals : mapping of str to int
        Column to decimal places. Other columns (ids, text codes, nullable-integer items)
        are written as pandas writes them, missing values as blanks.

    Returns
    -------
    str
    """
    text = frame.copy()
    for column, places in decimals.items():
        if column in text.columns:
            text[column] = format_column(text[column], places)
    return text.to_csv(index=False, lineterminator="\n")
