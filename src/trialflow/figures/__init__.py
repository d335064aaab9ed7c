"""Publication figures of a study: what is drawn (``figures.csv``) and writing it all.

Per study: a CONSORT flow diagram, a forest plot of standardised effects, and per analysed
outcome its trajectories, changes from baseline and normal Q-Q plots, each as PNG (300 dpi by
default) and, when ``figures.formats`` asks, SVG. Modules: :mod:`~trialflow.figures.records`
(which figures, ``figures.csv``), :mod:`~trialflow.figures.data` (what a figure shows),
:mod:`~trialflow.figures.plots` (drawing), :mod:`~trialflow.figures.qq` (Q-Q diagnostics), :mod:`~trialflow.figures.style` (look and
deterministic saving), :mod:`~trialflow.figures.render` (drawing them all, in parallel
processes).
"""

from .data import qq_cells, standardised_effects
from .plots import (
    TRAJECTORY_SAMPLE,
    change_figure,
    consort_figure,
    forest_figure,
    strip_offsets,
    trajectory_figure,
)
from .qq import QQ_MAX_POINTS, qq_figure, qq_series
from .records import MANIFEST, FigureRecord, figure_records
from .render import write_study_figures
from .style import (
    DEFAULT_FORMATS,
    DPI,
    FIGURE_FORMATS,
    arm_palette,
    figure_rc,
    figure_style,
    save_figure,
)

__all__ = [
    "DEFAULT_FORMATS",
    "DPI",
    "FIGURE_FORMATS",
    "MANIFEST",
    "QQ_MAX_POINTS",
    "TRAJECTORY_SAMPLE",
    "FigureRecord",
    "arm_palette",
    "change_figure",
    "consort_figure",
    "figure_rc",
    "figure_records",
    "figure_style",
    "forest_figure",
    "qq_cells",
    "qq_figure",
    "qq_series",
    "save_figure",
    "standardised_effects",
    "strip_offsets",
    "trajectory_figure",
    "write_study_figures",
]
