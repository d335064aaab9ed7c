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

import numpy as np
import pandas as pd

from trialflow.config import Study

__all__ = ["BDS_COLUMNS", "bds_dataset"]

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
    arms = {arm.id: arm.label for arm in study.arms}
    visits = {visit.id: visit.label for visit in study.visits}
    params = {
        row.outcome: f"{row.label} ({row.unit})" if _text(row.unit) else str(row.label)
        for row in outcomes.itertuples(index=False)
    }
    value = analysis["value"].astype(float)
    is_baseline = (analysis["visit"] == study.baseline.id).to_numpy()
    baseline = (
        analysis.loc[is_baseline]
        .drop_duplicates(["participant_id", "outcome"])
        .set_index(["participant_id", "outcome"])["value"]
        .astype(float)
    )
    keys = pd.MultiIndex.from_frame(analysis[["participant_id", "outcome"]])
    base = baseline.reindex(keys).to_numpy()
    change = np.where(is_baseline, np.nan, value.to_numpy() - base)
    return pd.DataFrame(
        {
            "STUDYID": study.id,
            "USUBJID": study.id + "-" + analysis["participant_id"].astype(str),
            "SUBJID": analysis["participant_id"].astype(str),
            "TRT01P": analysis["arm"].map(arms),
            "AVISIT": analysis["visit"].map(visits),
            "AVISITN": analysis["week"].astype(float),
            "PARAMCD": analysis["outcome"],
            "PARAM": analysis["outcome"].map(params),
            "AVAL": value,
            "BASE": base,
            "CHG": change,
            "ABLFL": np.where(is_baseline, "Y", ""),
            "ANL01FL": np.where(value.notna(), "Y", ""),
        },
        columns=list(BDS_COLUMNS),
    )


def _text(value) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value)) and value != ""
