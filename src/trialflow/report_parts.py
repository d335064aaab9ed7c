"""Parts of the HTML report that need more than a template: figures at screen resolution,
the summary (the declared primary result, sample sizes, flow) and one section per outcome.

Which figures are embedded (a choice, documented in the README): the flow diagram (inline
SVG), the forest plot and each outcome's trajectory, as palette PNGs at screen resolution
(:data:`SCREEN_WIDTH` pixels wide, :data:`PALETTE_COLOURS` colours), each linking to its 300-dpi file beside the report; the
change and Q-Q figures are links only. That keeps the report of the default studies under
2 MB.
"""

from __future__ import annotations

import base64
import io
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
from markupsafe import Markup
from PIL import Image

from trialflow.config import Study
from trialflow.reported import outcome_labels
from trialflow.stats.contract import has_flag
from trialflow.tables import Table, table_html
from trialflow.tables.cells import arm_labels, effect_cell

__all__ = [
    "EMBEDDED_KINDS",
    "SCREEN_WIDTH",
    "figure_links",
    "flow_summary",
    "outcome_sections",
    "primary_summary",
    "screen_png_uri",
    "table_fragment",
]

SCREEN_WIDTH = 720
#: colours of the embedded PNGs' palette: plot colours and anti-aliased text survive at 32
PALETTE_COLOURS = 32
#: figure kinds embedded in the report; the others are linked
EMBEDDED_KINDS = ("consort", "forest", "trajectory", "tipping_point")
_ANALYSIS_NAMES = {"ancova": "ANCOVA", "mmrm": "MMRM", "responder": "responder analysis"}
_STAGES = {
    "randomised": "Randomised",
    "received_allocation": "Received the allocated intervention",
    "discontinued_intervention": "Discontinued the intervention",
    "withdrawn": "Withdrawn",
    "lost_to_follow_up": "Lost to follow-up",
    "excluded_from_analysis": "Excluded from the primary analysis",
    "analysed_primary": "Analysed (primary analysis)",
    "adverse_events": "Participants with an adverse event",
}


def screen_png_uri(path: str | Path, width: int = SCREEN_WIDTH) -> str:
    """A figure's PNG shrunk to ``width`` pixels and reduced to a small palette, as a
    ``data:`` URI (deterministic: same file, same bytes)."""
    with Image.open(path) as image:
        image = image.convert("RGB")
        if image.width > width:
            height = round(image.height * width / image.width)
            image = image.resize((width, height), Image.Resampling.LANCZOS)
        image = image.quantize(colors=PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def figure_links(figures: Sequence[Mapping], figures_dir: Path, report_dir: Path) -> list[dict]:
    """The manifest rows with ``href`` (the 300-dpi PNG, or the SVG when only SVG was
    written, relative to the report) and, for the embedded kinds, ``png_uri`` (a
    screen-resolution PNG, or the SVG itself, as a ``data:`` URI)."""
    out = []
    for fig in figures:
        row = dict(fig)
        file = figures_dir / f"{fig['stem']}.{fig.get('format', 'png')}"
        row["href"] = Path(os.path.relpath(file, report_dir)).as_posix()
        if fig["kind"] in EMBEDDED_KINDS and file.exists():
            row["png_uri"] = (
                screen_png_uri(file) if file.suffix == ".png" else _svg_uri(file.read_bytes())
            )
        out.append(row)
    return out


def _svg_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def primary_summary(study: Study, results: pd.DataFrame, outcomes: pd.DataFrame) -> list[str]:
    """One sentence per confirmatory row flagged ``primary``: outcome, visit, analysis,
    contrast, estimate with CI and p."""
    labels = outcome_labels(outcomes)
    visits = {v.id: v.label for v in study.visits}
    names = arm_labels(study)
    rows = results.loc[results["flags"].map(lambda f: has_flag(f, "primary"))]
    rows = rows.loc[rows["analysis_set"].eq(study.analysis.analysis_set)]
    sentences = []
    for _, row in rows.iterrows():
        contrast = str(row["contrast"]).split(" (")[0]
        parts = [names.get(p, visits.get(p, p)) for p in contrast.split(" - ")]
        what = " minus ".join(parts)
        cell = effect_cell(row, 2)
        sentences.append(
            f"{labels.get(row['outcome'], row['outcome'])} at {visits.get(row['visit'], row['visit'])}"
            f", {_ANALYSIS_NAMES.get(row['analysis'], row['analysis'])} ({what}): {cell}"
        )
    if not sentences:
        sentences.append("No primary analysis is declared (analysis.primary): all exploratory.")
    return sentences


def flow_summary(flow: pd.DataFrame | None, study: Study) -> pd.DataFrame | None:
    """The participant flow per stage (rows) and arm (columns), stages by name, the
    adverse-event note as its cell text when there are no counts."""
    if flow is None or flow.empty:
        return None
    names = arm_labels(study)
    rows = []
    for stage, label in _STAGES.items():
        here = flow.loc[flow["stage"] == stage]
        if here.empty:
            continue
        row = {"Stage": label}
        for arm in study.arm_ids:
            mine = here.loc[here["arm"] == arm]
            n = int(mine["n"].sum())
            notes = sorted({str(r) for r in mine["reason"].fillna("") if str(r)})
            if stage == "adverse_events" and notes:
                row[names[arm]] = "; ".join(notes)
            else:
                row[names[arm]] = str(n) + (f" ({'; '.join(notes)})" if notes else "")
        rows.append(row)
    return pd.DataFrame(rows)


def table_fragment(page: str) -> Markup:
    """The ``<table class="tf-table">`` of a table's HTML file."""
    found = re.search(r'<table class="tf-table".*?</table>', page, re.S)
    return Markup(found.group(0) if found else "")


def outcome_sections(
    study: Study, table2: Table, figures: Sequence[Mapping], outcomes: pd.DataFrame
) -> list[dict]:
    """One section per outcome in Table 2's order: its Table 2 rows and its figures."""
    labels = outcome_labels(outcomes)
    by_label = {label: outcome for outcome, label in labels.items()}
    planned = {p.outcome for p in study.analysis.planned}
    sections = []
    for label in dict.fromkeys(table2.frame["Outcome"]):
        outcome = by_label.get(label, label)
        rows = table2.frame.loc[table2.frame["Outcome"] == label].drop(columns="Outcome")
        part = Table(f"rows-{outcome}", f"{label}: Table 2 rows", rows.reset_index(drop=True))
        sections.append(
            {
                "outcome": outcome,
                "label": label,
                "open": outcome in planned,
                "table": Markup(table_html(part)),
                "figures": [f for f in figures if f["outcome"] == outcome],
            }
        )
    return sections
