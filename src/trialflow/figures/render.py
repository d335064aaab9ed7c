"""Drawing every figure of a study, one outcome per task, in parallel processes.

The figures of a study are split into tasks: the flow diagram, the forest plot, and one task
per outcome (its trajectory, change and Q-Q figures). Tasks that small keep the workers
equally busy to the end (a task per instrument left one worker drawing spirometry's 42
figures alone). With ``processes > 1`` the tasks run in a pool of worker processes forked from the
job's process after the data are read and split per outcome, so the imports, the
matplotlib start-up and the data are paid for once per job, and the workers share them
copy-on-write. A figure's bytes depend only on its data, never on the process that drew it
or on the order the tasks finish in, so ``--cores 1`` and ``--cores 4`` write the same files.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from textwrap import wrap

import numpy as np
import pandas as pd

from trialflow.config import Study
from trialflow.membership import is_in
from trialflow.reported import ReportedResults, outcome_labels
from trialflow.stats.flow import participant_flow as flow_from_roster

from .data import outcome_wide, qq_cells, standardised_effects
from .plots import (
    change_figure,
    consort_figure,
    forest_figure,
    no_data_figure,
    trajectory_figure,
)
from .qq import qq_figure
from .records import MANIFEST, MANIFEST_COLUMNS, FigureRecord, figure_records
from .style import save_figure

__all__ = ["FigureTask", "figure_tasks", "write_study_figures"]

log = logging.getLogger("trialflow")


@dataclass(frozen=True)
class FigureTask:
    """Figures drawn together by one worker: a study-level figure or an outcome's figures."""

    name: str
    records: tuple[FigureRecord, ...]


@dataclass
class _Inputs:
    """Everything a task reads; built once per job, inherited by forked workers."""

    study: Study
    analysis: pd.DataFrame
    outcomes: pd.DataFrame
    participants: pd.DataFrame
    results: pd.DataFrame
    outdir: Path
    participant_flow: pd.DataFrame | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    reported: ReportedResults | None = None
    by_outcome: Mapping[str, pd.DataFrame] = field(default_factory=dict)


_INPUTS: _Inputs | None = None  # set in the parent before the pool forks


def figure_tasks(records: Sequence[FigureRecord]) -> list[FigureTask]:
    """Group figure records into tasks: the study-level figures, then one per outcome.

    The study-level figures (flow diagram, forest plot) come first in report order, so that
    the longest single figure, the forest plot, starts early; outcomes follow in report
    order.
    """
    study_level = [FigureTask(r.kind, (r,)) for r in records if not r.outcome]
    by_outcome: dict[str, list[FigureRecord]] = {}
    for record in records:
        if record.outcome:
            by_outcome.setdefault(record.outcome, []).append(record)
    return study_level + [FigureTask(name, tuple(rs)) for name, rs in by_outcome.items()]


def write_study_figures(
    study: Study,
    analysis: pd.DataFrame,
    outcomes: pd.DataFrame,
    participants: pd.DataFrame,
    results: pd.DataFrame,
    outdir: str | Path,
    processes: int = 1,
    participant_flow: pd.DataFrame | None = None,
) -> list[Path]:
    """Draw and write every figure of a study, plus the manifest ``figures.csv``.

    Files in ``outdir``, each figure in every format of ``study.figures.formats`` (PNG at
    ``study.figures.dpi``, SVG): ``consort/consort``, ``forest/forest``, and per analysed
    outcome ``trajectory/<outcome>``, ``change/<outcome>`` and ``qq/<outcome>`` (one
    subdirectory per kind, so that each kind can be one Snakemake ``directory()`` output with its own
    report caption). ``figures.csv`` lists ``kind, outcome, stem, title, caption`` in report
    order; :mod:`trialflow.report` reads it.

    Parameters
    ----------
    study, analysis, outcomes, participants, results
        The study, long analysis data, outcome metadata, roster and ``results.csv`` rows.
    outdir : path-like
        Output directory, created if needed.
    processes : int
        Worker processes drawing outcomes side by side (1: all in this process).
    participant_flow : pandas.DataFrame, optional
        ``participant_flow.csv``, which the flow diagram draws; without it, the roster's
        counts (no analysed numbers) from :func:`trialflow.stats.flow.participant_flow`.

    Returns
    -------
    list of pathlib.Path
        Every file written (figures in manifest order, then the manifest).
    """
    global _INPUTS
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    records = figure_records(study, analysis, outcomes)
    tasks = figure_tasks(records)
    _WIDE.clear()
    _INPUTS = _Inputs(
        study,
        analysis,
        outcomes,
        participants,
        results,
        outdir,
        participant_flow=participant_flow,
        labels=outcome_labels(outcomes),
        reported=ReportedResults(results, study),
        by_outcome=dict(tuple(analysis.groupby("outcome", sort=False, observed=True))),
    )
    try:
        _draw_all(tasks, processes)
    finally:
        _INPUTS = None
        _WIDE.clear()
    for kind in PER_OUTCOME:  # each kind is a directory output, even with no outcome
        (outdir / kind).mkdir(parents=True, exist_ok=True)
    manifest = outdir / MANIFEST
    pd.DataFrame([r.__dict__ for r in records], columns=list(MANIFEST_COLUMNS)).to_csv(
        manifest, index=False, lineterminator="\n"
    )
    formats = study.figures.formats
    return [outdir / f"{r.stem}.{fmt}" for r in records for fmt in formats] + [manifest]


def _draw_all(tasks: Sequence[FigureTask], processes: int) -> None:
    """Draw every task, in a pool of forked workers when ``processes > 1``, and log each."""
    # Everything alive now (the imported libraries, the data) lives as long as the job: out
    # of the collector's sight, so that a collection while drawing scans only the figures'
    # own objects, and a forked worker's collections do not copy the pages it shares with
    # this process. Collections took 8% of the drawing time before, 4% after.
    gc.freeze()
    try:
        workers = max(1, min(int(processes), len(tasks)))
        if workers == 1:
            done = [_draw_task(task) for task in tasks]
        else:
            # fork: the workers inherit the imports and the data instead of loading them again
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                done = list(pool.imap_unordered(_draw_task, tasks))
    finally:
        gc.unfreeze()
    for name, count, seconds, cpu, pid in done:
        log.info(
            "%s: %d figures in %.2f s, %.2f s CPU (process %d)", name, count, seconds, cpu, pid
        )


def _draw_task(task: FigureTask) -> tuple[str, int, float, float, int]:
    """Draw and save one task's figures: ``(name, figures, seconds, CPU seconds, process)``."""
    inputs = _INPUTS
    assert inputs is not None, "write_study_figures sets the inputs before drawing"
    start, cpu = time.perf_counter(), time.process_time()
    options = inputs.study.figures
    for record in task.records:
        fig = _draw(record, inputs)
        save_figure(fig, inputs.outdir / record.stem, options.formats, options.dpi)
    elapsed = (time.perf_counter() - start, time.process_time() - cpu)
    return task.name, len(task.records), *elapsed, os.getpid()


def _draw(record: FigureRecord, inputs: _Inputs):
    study = inputs.study
    if record.kind == "consort":
        flow = inputs.participant_flow
        if flow is None:
            flow = flow_from_roster(inputs.participants, study)
        return consort_figure(study, flow)
    if record.kind == "forest":
        return _forest(inputs, record.title)
    empty = _nothing_to_draw(record, study, inputs.by_outcome.get(record.outcome))
    if empty:
        return no_data_figure(record.title, empty)
    data = inputs.by_outcome[record.outcome]
    label = inputs.labels[record.outcome]
    arm_labels = {a.id: a.label for a in study.arms}
    if record.kind == "trajectory":
        options = study.figures
        return trajectory_figure(
            data,
            record.outcome,
            label,
            study.arm_ids,
            arm_labels,
            sample=options.trajectory_sample,
            seed=options.seed,
        )
    visit_labels = {v.id: v.label for v in study.visits}
    wide = _outcome_wide(record.outcome, data)
    if record.kind == "change":
        return change_figure(
            data,
            record.outcome,
            study.baseline.id,
            label,
            study.arm_ids,
            arm_labels,
            visit_labels,
            wide=wide,
        )
    cells = qq_cells(
        study, data, inputs.results, record.outcome, wide=wide, reported=inputs.reported
    )
    if not cells:
        return no_data_figure(record.title, "no distribution whose normality was tested")
    return qq_figure(cells, label, arm_labels, visit_labels)


_WIDE: dict[str, pd.DataFrame] = {}  # the last outcome's wide table (a task draws in order)


def _outcome_wide(outcome: str, data: pd.DataFrame) -> pd.DataFrame:
    """:func:`outcome_wide` of an outcome, reshaped once for its change and Q-Q figures."""
    if outcome not in _WIDE:
        _WIDE.clear()
        _WIDE[outcome] = outcome_wide(data) if len(data) else pd.DataFrame()
    return _WIDE[outcome]


def _forest(inputs: _Inputs, title: str):
    study = inputs.study
    effects = standardised_effects(
        study, inputs.analysis, inputs.outcomes, inputs.results, by_outcome=inputs.by_outcome
    )
    if not np.isfinite(effects["smd"].to_numpy(dtype=float)).any():
        return no_data_figure(title, "no standardised effect could be estimated")
    ci = f"{100 * (1 - study.analysis.alpha):g}% CI"
    if study.single_arm:
        xlabel, favours = f"Standardised change from baseline ({ci})", ("worse", "better")
    else:
        xlabel = f"Standardised difference at {study.primary_visit.label} ({ci})"
        other = study.arms[1].label if len(study.arms) == 2 else "comparison arm"
        favours = (f"favours {study.reference_arm.label}", f"favours {other}")
    # the order of the n column's numbers, wrapped to the column's width
    n_header = "\n".join(wrap("n (" + " / ".join(arm.label for arm in study.arms) + ")", 24))
    return forest_figure(effects, xlabel, favours, n_header if len(study.arms) > 1 else "n")


#: the per-outcome figure kinds, one directory each
PER_OUTCOME = ("trajectory", "change", "qq")


def _nothing_to_draw(record: FigureRecord, study: Study, data: pd.DataFrame | None) -> str:
    """Why a per-outcome figure has nothing to show (empty when it has)."""
    if data is not None:
        data = data[data["value"].notna()]
    if data is None or data.empty:
        return "no values recorded for this outcome"
    later = data["visit"] != study.baseline.id
    if record.kind == "change" and not (
        later.any()
        and is_in(data.loc[later, "participant_id"], data.loc[~later, "participant_id"]).any()
    ):
        return "no participant has values at baseline and a later visit"
    return ""
