"""The analysis dataset for reviewers: as CSV, and as a CDISC-flavoured long (BDS) dataset.

``results/<study>/data/analysis.csv`` is ``analysis.parquet`` as CSV. ``adam_bds.csv`` holds
the same values with ADaM Basic Data Structure variable names, so a reviewer can reanalyse
in SAS or R with the names they know:

======== ==============================================================================
STUDYID  the study id
USUBJID  ``<study>-<participant_id>`` (unique across studies)
SUBJID   the participant id
TRT01P   planned treatment: the arm's label
AVISIT   the visit's label
AVISITN  the visit's week
PARAMCD  the outcome id of ``results.csv`` (longer than ADaM's 8 characters, so it joins
         the results without a lookup)
PARAM    the outcome's label and unit
AVAL     the value
BASE     the participant's baseline value of the outcome
CHG      AVAL - BASE after baseline; empty at baseline
ABLFL    ``Y`` on the baseline record
ANL01FL  ``Y`` on records with a value, the records the analyses use
======== ==============================================================================

"Flavoured": the names and meanings follow ADaM BDS, but this is not a submission-ready
dataset (no define.xml, no controlled terminology for PARAMCD, no SAS transport file).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from trialflow.config import Study

__all__ = ["BDS_COLUMNS", "CHUNK_ROWS", "bds_chunks", "bds_dataset"]

#: rows of the BDS dataset built at a time: its 13 text and number columns for all 7 million
#: rows of a 100,000-participant study would hold about 2 GiB at once
CHUNK_ROWS = 500_000

BDS_COLUMNS = (
    "STUDYID",
    "USUBJID",
    "SUBJID",
    "TRT01P",
    "AVISIT",
    "AVISITN",
    "PARAMCD",
    "PARAM",
    "AVAL",
    "BASE",
    "CHG",
    "ABLFL",
    "ANL01FL",
)


def bds_dataset(analysis: pd.DataFrame, outcomes: pd.DataFrame, study: Study) -> pd.DataFrame:
    """The analysis dataset as a long BDS-style dataset (see the module docstring).

    Parameters
    ----------
    analysis : pandas.DataFrame
        ``participant_id, arm, visit, week, outcome, value`` (``analysis.parquet``).
    outcomes : pandas.DataFrame
        ``outcome, label, unit`` (``outcomes.parquet``).
    study : Study
        Arm and visit labels (the report stage's config slice).

    Returns
    -------
    pandas.DataFrame
        :data:`BDS_COLUMNS`, one row per row of ``analysis``, in its order.
    """
    return next(bds_chunks(analysis, outcomes, study, rows=max(len(analysis), 1)))


def bds_chunks(
    analysis: pd.DataFrame, outcomes: pd.DataFrame, study: Study, rows: int = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """:func:`bds_dataset` in consecutive pieces of at most ``rows`` rows (at least one
    piece, empty for an empty ``analysis``), so that a large study is written without
    holding the whole dataset; the pieces concatenated are :func:`bds_dataset`."""
    arms = {arm.id: arm.label for arm in study.arms}
    visits = {visit.id: visit.label for visit in study.visits}
    params = {
        row.outcome: f"{row.label} ({row.unit})" if _text(row.unit) else str(row.label)
        for row in outcomes.itertuples(index=False)
    }
    is_baseline = (analysis["visit"] == study.baseline.id).to_numpy()
    baseline = (
        analysis.loc[is_baseline]
        .drop_duplicates(["participant_id", "outcome"])
        .set_index(["participant_id", "outcome"])["value"]
        .astype(float)
    )
    keys = pd.MultiIndex.from_frame(analysis[["participant_id", "outcome"]])
    base = baseline.reindex(keys).to_numpy()  # every row's baseline, once for all pieces
    for first in range(0, max(len(analysis), 1), rows):
        piece = slice(first, first + rows)
        part = analysis.iloc[piece]
        value = part["value"].astype(float)
        at_baseline = is_baseline[piece]
        yield pd.DataFrame(
            {
                "STUDYID": study.id,
                "USUBJID": study.id + "-" + part["participant_id"].astype(str),
                "SUBJID": part["participant_id"].astype(str),
                "TRT01P": part["arm"].map(arms),
                "AVISIT": part["visit"].map(visits),
                "AVISITN": part["week"].astype(float),
                "PARAMCD": part["outcome"],
                "PARAM": part["outcome"].map(params),
                "AVAL": value,
                "BASE": base[piece],
                "CHG": np.where(at_baseline, np.nan, value.to_numpy() - base[piece]),
                "ABLFL": np.where(at_baseline, "Y", ""),
                "ANL01FL": np.where(value.notna(), "Y", ""),
            },
            columns=list(BDS_COLUMNS),
        )


def _text(value) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value)) and value != ""
