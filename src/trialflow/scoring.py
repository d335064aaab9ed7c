"""Apply the instruments to a study: long scores, outcome metadata and a scoring summary."""

from __future__ import annotations

import pandas as pd

from trialflow import instruments
from trialflow.assemble import position_in
from trialflow.config import Study

SCORE_COLUMNS = ("participant_id", "visit", "instrument", "outcome", "value")
META_COLUMNS = (
    "outcome",
    "instrument",
    "instrument_type",
    "score",
    "label",
    "unit",
    "higher_is_better",
    "algorithm",
)
SUMMARY_COLUMNS = (
    "instrument",
    "instrument_type",
    "visit",
    "n_rows",
    "items_missing",
    "rows_with_missing_items",
    "scores_scored",
    "scales_not_scored",
    "rows_fully_scored",
    "algorithm",
)


def _with_roster(
    frame: pd.DataFrame, participants: pd.DataFrame, columns: tuple[str, ...]
) -> pd.DataFrame:
    """The item frame with the roster columns the instrument reads, matched on participant_id."""
    present = [c for c in columns if c in participants.columns]
    if not present:
        return frame
    roster = participants[["participant_id", *present]].drop_duplicates("participant_id")
    joined = frame.drop(columns=[c for c in present if c in frame.columns]).merge(
        roster, on="participant_id", how="left", validate="many_to_one"
    )
    joined.index = frame.index
    return joined


def score_study(
    frames: dict[str, pd.DataFrame], study: Study, participants: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Score every instrument of a study.

    Parameters
    ----------
    frames : dict of str to pandas.DataFrame
        Instrument id -> validated wide item frame (``participant_id``, ``visit``, the
        instrument's columns, optionally ``source_file``/``source_row``).
    study : trialflow.config.Study
        Gives each instrument's type and scorer options, and the visit order.
    participants : pandas.DataFrame
        The validated roster; the roster columns each instrument reads are joined on
        ``participant_id``.

    Returns
    -------
    scores_long : pandas.DataFrame
        ``participant_id, visit, instrument, outcome, value`` with ``outcome`` =
        ``<instrument id>_<score>``, analysed scores only, scored cells only (a score left
        missing has no row), sorted by outcome, participant and visit order.
    outcomes_meta : pandas.DataFrame
        One row per analysed outcome: ``outcome, instrument, instrument_type, score, label,
        unit, higher_is_better, algorithm``, in config order.
    summary : pandas.DataFrame
        Per instrument and study visit: ``n_rows``, ``items_missing`` (blank item cells),
        ``rows_with_missing_items``, ``scores_scored`` and ``scales_not_scored`` (analysed
        score cells computed / left missing, e.g. because too few items were answered),
        ``rows_fully_scored`` and the ``algorithm`` string.

    Raises
    ------
    trialflow.errors.InputError
        When an instrument's answers fall outside its allowed responses.
    """
    long_parts, meta_parts, summary_rows = [], [], []
    for spec in study.instruments:
        if spec.id not in frames:
            continue
        frame = frames[spec.id]
        options = spec.scorer_options()
        roster = instruments.roster_columns(spec.type)
        scored = instruments.score(spec.type, _with_roster(frame, participants, roster), **options)
        meta = instruments.outcomes(spec.type, **options)
        analysed = meta[meta["analysed"]]
        meta_parts.append(_outcome_metadata(spec, analysed))
        values = scored[list(analysed["score"])].astype(float)
        melted = (
            pd.concat([frame[["participant_id", "visit"]], values], axis=1)
            .melt(id_vars=["participant_id", "visit"], var_name="score", value_name="value")
            .dropna(subset=["value"])
        )
        melted["instrument"] = spec.id
        melted["outcome"] = spec.id + "_" + melted["score"]
        long_parts.append(melted[list(SCORE_COLUMNS)])
        algorithm = "; ".join(dict.fromkeys(analysed["algorithm"]))
        summary_rows += _summary_rows(spec, frame, values, study, options, algorithm)

    scores_long = (
        pd.concat(long_parts, ignore_index=True)
        if long_parts
        else pd.DataFrame(columns=list(SCORE_COLUMNS))
    )
    scores_long["value"] = scores_long["value"].astype(float)
    scores_long = scores_long.sort_values(
        ["outcome", "participant_id", "visit"],
        key=lambda column: (
            position_in(column, study.visit_ids) if column.name == "visit" else column
        ),
        kind="mergesort",
    ).reset_index(drop=True)
    outcomes_meta = (
        pd.concat(meta_parts, ignore_index=True)
        if meta_parts
        else pd.DataFrame(columns=list(META_COLUMNS))
    )
    summary = pd.DataFrame(summary_rows, columns=list(SUMMARY_COLUMNS))
    return scores_long, outcomes_meta, summary


def _outcome_metadata(spec, analysed: pd.DataFrame) -> pd.DataFrame:
    """One row per analysed score of an instrument: ``outcome = <instrument id>_<score>``."""
    score_names = list(analysed["score"])
    return pd.DataFrame(
        {
            "outcome": [f"{spec.id}_{s}" for s in score_names],
            "instrument": spec.id,
            "instrument_type": spec.type,
            "score": score_names,
            "label": analysed["label"].to_numpy(),
            "unit": analysed["unit"].to_numpy(),
            "higher_is_better": analysed["higher_is_better"].astype(bool).to_numpy(),
            "algorithm": analysed["algorithm"].to_numpy(),
        }
    )


def _summary_rows(
    spec, frame: pd.DataFrame, values: pd.DataFrame, study: Study, options, algorithm: str
) -> list[dict]:
    """Per visit: blank item cells and score cells scored or left missing."""
    item_columns = [
        c for c in instruments.items(spec.type, **options)["column"] if c in frame.columns
    ]
    blank = frame[item_columns].isna()
    rows = []
    for visit in study.visit_ids:
        in_visit = (frame["visit"] == visit).to_numpy()
        scored_cells = values[in_visit].notna()
        rows.append(
            {
                "instrument": spec.id,
                "instrument_type": spec.type,
                "visit": visit,
                "n_rows": int(in_visit.sum()),
                "items_missing": int(blank[in_visit].sum().sum()),
                "rows_with_missing_items": int(blank[in_visit].any(axis=1).sum()),
                "scores_scored": int(scored_cells.sum().sum()),
                "scales_not_scored": int((~scored_cells).sum().sum()),
                "rows_fully_scored": int(scored_cells.all(axis=1).sum()),
                "algorithm": algorithm,
            }
        )
    return rows
