"""Table 1: baseline characteristics by arm, as declared in the config (``table1``), with
missing counts and no significance tests (CONSORT)."""

from __future__ import annotations

import pandas as pd

from trialflow import instruments
from trialflow.config import Study
from trialflow.labels import label
from trialflow.reported import outcome_labels
from trialflow.stats.between import NON_VARIABLES
from trialflow.stats.table1 import CONDUCT_COLUMNS, declared_table1

from .format import MISSING
from .table import Table

__all__ = ["ALL_ARMS", "SUMMARY_LABELS", "VARIABLE_LABELS", "table1_table", "table1_variables"]


VARIABLE_LABELS = {
    "age": "Age (years)",
    "sex": "Sex",
    "height_cm": "Height (cm)",
    "weight_kg": "Weight (kg)",
    "bmi": "Body-mass index (kg/m²)",
    "ethnicity": "Ethnicity (GLI-2012 group)",
}
SUMMARY_LABELS = {
    "mean_sd": "mean (SD)",
    "median_iqr": "median [Q1, Q3]",
    "n_pct": "n (%)",
    "missing": "missing, n",
}
ALL_ARMS = "all"


def table1_variables(study: Study, participants: pd.DataFrame) -> list[str]:
    """The variables of Table 1: ``table1.variables`` as declared, else the study's
    covariates and the roster fields its instruments read (those in the roster), else every
    roster column other than identifiers, disposition and conduct columns."""
    if study.table1.variables is not None:
        return list(study.table1.variables)
    wanted = list(study.covariates)
    for spec in study.instruments:
        wanted += instruments.roster_columns(spec.type)
    present = [c for c in dict.fromkeys(wanted) if c in participants.columns]
    if present:
        return present
    skip = set(NON_VARIABLES) | set(CONDUCT_COLUMNS)
    return [c for c in participants.columns if c not in skip]


def _declared(study: Study, participants: pd.DataFrame, analysis) -> pd.DataFrame:
    try:
        return declared_table1(
            participants,
            study,
            table1_variables(study, participants),
            dict(study.table1.summary),
            analysis,
        )
    except ValueError as err:
        raise ValueError(f"studies.{study.id}.table1: {err}") from None


def table1_table(
    study: Study,
    participants: pd.DataFrame,
    long: pd.DataFrame | None = None,
    outcomes: pd.DataFrame | None = None,
    analysis: pd.DataFrame | None = None,
) -> Table:
    """Table 1 (baseline characteristics by arm) in wide display form.

    Parameters
    ----------
    study : Study
    participants : pandas.DataFrame
        The roster; gives the n in each column header.
    long : pandas.DataFrame, optional
        Tidy Table 1 (``variable, level, summary, arm, text``; ``summary`` the kind of
        summary, ``text`` the cell); by default the declared one
        (:func:`trialflow.stats.table1.declared_table1` with :func:`table1_variables` and
        ``table1.summary``). A frame whose ``summary`` column already holds the display
        strings (no ``text`` column) is accepted too.
    outcomes : pandas.DataFrame, optional
        Outcome metadata, to label baseline outcome variables.
    analysis : pandas.DataFrame, optional
        Long analysis data, for outcome ids declared in ``table1.variables`` (their
        baseline values).

    Returns
    -------
    Table
    """
    long = _declared(study, participants, analysis) if long is None else long.copy()
    long["level"] = _level_labels(long, study)
    if "text" in long.columns:
        cells = long["text"]
        kinds = long["summary"].map(lambda k: SUMMARY_LABELS.get(k, k))
    else:
        cells, kinds = long["summary"], pd.Series("", index=long.index)
    labels = dict(VARIABLE_LABELS)
    if outcomes is not None:
        labels.update({o: f"{lbl}, baseline" for o, lbl in outcome_labels(outcomes).items()})
    long["Characteristic"] = [
        labels.get(v, str(v).replace("_", " ").capitalize()) + (f", {k}" if k else "")
        for v, k in zip(long["variable"], kinds, strict=True)
    ]
    long["cell"] = cells.astype(object).fillna("").astype(str)
    arm_labels = {a.id: a.label for a in study.arms}
    roster = participants[participants["arm"].isin(study.arm_ids)]
    counts = roster["arm"].value_counts()
    in_long = set(long["arm"].unique())
    arms = [a for a in study.arm_ids if a in in_long]
    arms += [ALL_ARMS] if len(arms) > 1 and ALL_ARMS in in_long else []

    def header(arm: str) -> str:
        if arm == ALL_ARMS:
            return f"Total (n = {len(roster)})"
        return f"{arm_labels[arm]} (n = {int(counts.get(arm, 0))})"

    long = long[long["arm"].isin(arms)]
    keys = long[["Characteristic", "level"]].drop_duplicates()
    wide = long.pivot_table(
        index=["Characteristic", "level"],
        columns="arm",
        values="cell",
        aggfunc="first",
        sort=False,
    )
    frame = keys.set_index(["Characteristic", "level"]).join(wide).reset_index()
    frame = frame[["Characteristic", "level", *arms]].fillna(MISSING)
    frame.columns = ["Characteristic", "Level", *[header(a) for a in arms]]
    return Table(
        name="table1_baseline",
        title=f"Table 1. Baseline characteristics by arm: {study.title}",
        frame=frame.astype(str).reset_index(drop=True),
        footnotes=(
            "Summaries as declared in the analysis plan (table1): mean (SD), median [Q1, Q3] "
            "or n (%) of those recorded; missing, n: participants without a value. No "
            "significance tests (CONSORT).",
        ),
        group_column="Characteristic",
    )


def _level_labels(long: pd.DataFrame, study: Study) -> list[str]:
    """Category codes (F, ne_asian) as readers name them (:mod:`trialflow.labels`; the
    config may add its own)."""
    levels = long["level"].astype(object).fillna("").astype(str)
    return [
        label(str(v), level, study) if level else level
        for v, level in zip(long["variable"], levels, strict=True)
    ]
