"""The look of every trialflow figure, and saving it deterministically.

Figures are :class:`matplotlib.figure.Figure` objects (no pyplot state, so nothing depends
on the interactive backend), saved as PNG (300 dpi by default) and, when asked, SVG with a
fixed SVG hash salt, no date or software stamps, text kept as text in SVG, and DejaVu Sans
(shipped with matplotlib) for every label: identical input gives identical bytes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import png
import seaborn as sns
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

__all__ = [
    "DEFAULT_FORMATS",
    "DPI",
    "FIGURE_FORMATS",
    "arm_palette",
    "figure_rc",
    "figure_style",
    "save_figure",
]

DPI = 300
FIGURE_FORMATS = ("png", "svg")  # what save_figure can write
DEFAULT_FORMATS = ("png",)  # what it writes unless asked (figures.formats in the config)
# zlib level of the PNGs: 1 compresses a 300-dpi figure in half the time of the default 6,
# for files about a sixth larger
PNG_COMPRESSION = 1
_INCHES_PER_METRE = 1 / 0.0254


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
            # glyphs as the font draws them: hinting snaps outlines to a screen's pixel grid,
            # which a 300-dpi figure does not need, and costs a tenth of the drawing time
            "text.hinting": "no_hinting",
        }
    )
    return rc


@contextmanager
def figure_style() -> Iterator[None]:
    """Draw (and save) inside this context to get :func:`figure_rc`'s settings."""
    with rc_context(figure_rc()):
        yield


def save_figure(
    fig: Figure, stem: str | Path, formats: Sequence[str] = DEFAULT_FORMATS, dpi: int = DPI
) -> list[Path]:
    """Save ``fig`` as ``<stem>.png`` and/or ``<stem>.svg``, byte-identical on rerun.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    stem : path-like
        Output path without extension; the parent directory is created.
    formats : sequence of str
        Any of :data:`FIGURE_FORMATS`, written in this order.
    dpi : int
        Resolution of the PNG.

    Returns
    -------
    list of pathlib.Path
        The files written, in ``formats`` order.
    """
    unknown = sorted(set(formats) - set(FIGURE_FORMATS))
    if unknown:
        raise ValueError(f"unknown figure format(s) {unknown}; known: {FIGURE_FORMATS}")
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    with figure_style():
        for fmt in formats:
            path = stem.with_suffix(f".{fmt}")
            if fmt == "png":
                _save_png(fig, path, dpi)
            else:
                fig.savefig(path, format="svg", metadata={"Date": None, "Creator": None})
            paths.append(path)
    return paths


def _save_png(fig: Figure, path: Path, dpi: int) -> None:
    """One layout and one drawing pass (``savefig`` draws twice with a layout engine), then
    the opaque image as 8-bit RGB, written by pypng at :data:`PNG_COMPRESSION`.

    pypng writes every row unfiltered (PNG filter type 0), which suits a figure's flat
    colours: a third of the time Pillow takes, which tries every filter on every row, for a
    smaller file. The alpha channel is dropped by Pillow's converter (a C loop; NumPy's copy
    of every fourth byte skipped took as long as the compression), and pypng reads the rows
    as views of that one buffer. The resolution goes in the ``pHYs`` chunk, in pixels per
    metre.
    """
    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    width, height = canvas.get_width_height()
    rgba = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    rgb = memoryview(rgba.convert("RGB").tobytes())
    stride = 3 * width
    per_metre = round(dpi * _INCHES_PER_METRE)
    writer = png.Writer(
        width,
        height,
        greyscale=False,
        bitdepth=8,
        compression=PNG_COMPRESSION,
        x_pixels_per_unit=per_metre,
        y_pixels_per_unit=per_metre,
        unit_is_meter=True,
    )
    with open(path, "wb") as out:
        writer.write(out, (rgb[row * stride : (row + 1) * stride] for row in range(height)))


def arm_palette(arm_ids: Sequence[str]) -> dict[str, tuple[float, float, float]]:
    """Colour-blind-safe colour per arm, reference arm grey-blue first."""
    colours = sns.color_palette("colorblind", max(3, len(arm_ids)))
    order = [7, 0, 1, 2, 3, 4, 5, 6, 8, 9] if len(colours) >= 10 else list(range(len(colours)))
    return {arm: tuple(colours[order[i % len(order)]]) for i, arm in enumerate(arm_ids)}
