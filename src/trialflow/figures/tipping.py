"""The tipping-point figure (``results/<study>/figures/tipping_point.png``), drawn from the
``tipping_point`` rows of ``results.csv``, not by re-running the analysis.

The rows are turned back into the engine's
:class:`~trialflow.stats.imputation.TippingPointResult` (the estimate, CI and p-value at
each delta; the tipping delta from the row flagged ``tipping_point``) and drawn by
:func:`trialflow.stats.imputation.plot_tipping_point`, at the study's primary visit (the
last post-baseline visit when the rows have none there) for the contrast of the shifted arm.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from trialflow.config import Study
from trialflow.stats.contract import (
    TIPPING_ANALYSIS,
    TIPPING_POINT,
    between_contrast,
    has_flag,
    typed_results,
)
from trialflow.stats.imputation import TippingPointResult, plot_tipping_point

from .plots import no_data_figure
from .style import save_figure

__all__ = ["TIPPING_STEM", "tipping_point_from_results", "write_tipping_point_figure"]

TIPPING_STEM = "tipping_point"


def tipping_point_from_results(
    results: pd.DataFrame, study: Study, higher_is_better: bool = True
) -> TippingPointResult:
    """The tipping-point analysis of ``results.csv`` as a :class:`TippingPointResult`.

    ``table``: ``visit, contrast`` (``<arm> - <first arm>``), ``delta``, ``estimate``,
    ``ci_low``, ``ci_high``, ``p_value`` of every delta row; ``tipping``: ``visit, contrast,
    tipping_delta`` of the rows flagged ``tipping_point``.
    """
    frame = typed_results(results)
    rows = frame.loc[frame["analysis"] == TIPPING_ANALYSIS].copy()
    rows["contrast"] = rows["contrast"].str.replace(r" \([^()]*\)$", "", regex=True)
    marked = rows["flags"].map(lambda f: has_flag(f, TIPPING_POINT)).to_numpy(bool)
    columns = ["visit", "contrast", "delta", "estimate", "ci_low", "ci_high", "p_value"]
    table = rows.loc[~marked, columns].reset_index(drop=True)
    tipping = rows.loc[marked, ["visit", "contrast", "delta"]].rename(
        columns={"delta": "tipping_delta"}
    )
    options = study.analysis.tipping_point
    arm = options.arm if options is not None else ""
    return TippingPointResult(
        table, tipping.reset_index(drop=True), arm, study.analysis.alpha, higher_is_better
    )


def write_tipping_point_figure(
    study: Study, results: pd.DataFrame, outcomes: pd.DataFrame, outdir: str | Path
) -> list[Path]:
    """Draw ``<outdir>/tipping_point.png`` from the results rows."""
    options = study.analysis.tipping_point
    if options is None:
        raise ValueError(f"study {study.id} declares no analysis.tipping_point")
    higher = outcomes.drop_duplicates("outcome").set_index("outcome")["higher_is_better"]
    found = tipping_point_from_results(results, study, bool(higher.get(options.outcome, True)))
    contrast = between_contrast(options.arm, study.reference_arm.id)
    table = found.table.loc[found.table["contrast"] == contrast]
    visits = [v.id for v in study.post_baseline if v.id in set(table["visit"])]
    stem = Path(outdir) / TIPPING_STEM
    visit = study.primary_visit.id if study.primary_visit.id in visits else visits[-1:]
    drawable = table.loc[table["visit"].isin([visit] if isinstance(visit, str) else visit)]
    if not np.isfinite(drawable["estimate"].to_numpy(float)).any():
        title = f"Tipping point: {options.outcome}"
        return save_figure(no_data_figure(title, "the imputation model could not be fitted"), stem)
    return plot_tipping_point(found, str(drawable["visit"].iloc[0]), stem, contrast)
