"""The look of every trialflow figure, and saving it deterministically.

Figures are :class:`matplotlib.figure.Figure` objects (no pyplot state, so nothing depends
on the interactive backend), saved as PNG at 300 dpi and SVG with a fixed SVG hash salt, no
date or software stamps, text kept as text in SVG, and DejaVu Sans (shipped with
matplotlib) for every label: identical input gives identical bytes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import seaborn as sns
from matplotlib import rc_context
from matplotlib.figure import Figure

__all__ = ["DPI", "FIGURE_FORMATS", "arm_palette", "figure_rc", "figure_style", "save_figure"]

DPI = 300
FIGURE_FORMATS = ("png", "svg")


def figure_rc() -> dict:
    """Matplotlib settings for every trialflow figure (style plus determinism)."""
    rc = dict(sns.axes_style("ticks"))
    rc.update(
        {
            "font.family": "DejaVu Sans",
            "font.size": 9,
            "axes.titlesize": 9,
            "axes.labelsize": 9,
            "legend.fontsize": 8,
            "xtick.labelsize": 8,
            "ytick.labelsize": 8,
            "axes.spines.top": False,
            "axes.spines.right": False,
            # a fixed salt makes SVG ids repeatable; text stays editable text in the SVG
            "svg.hashsalt": "trialflow",
            "svg.fonttype": "none",
            "savefig.dpi": DPI,
        }
    )
    return rc


@contextmanager
def figure_style() -> Iterator[None]:
    """Draw (and save) inside this context to get :func:`figure_rc`'s settings."""
    with rc_context(figure_rc()):
        yield


def save_figure(fig: Figure, stem: str | Path) -> list[Path]:
    """Save ``fig`` as ``<stem>.png`` (300 dpi) and ``<stem>.svg``, byte-identical on rerun.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    stem : path-like
        Output path without extension; the parent directory is created.

    Returns
    -------
    list of pathlib.Path
        The PNG and the SVG.
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    with figure_style():
        fig.savefig(png, dpi=DPI, format="png", metadata={"Software": None})
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return [png, svg]


def arm_palette(arm_ids: Sequence[str]) -> dict[str, tuple[float, float, float]]:
    """Colour-blind-safe colour per arm, reference arm grey-blue first."""
    colours = sns.color_palette("colorblind", max(3, len(arm_ids)))
    order = [7, 0, 1, 2, 3, 4, 5, 6, 8, 9] if len(colours) >= 10 else list(range(len(colours)))
    return {arm: tuple(colours[order[i % len(order)]]) for i, arm in enumerate(arm_ids)}
