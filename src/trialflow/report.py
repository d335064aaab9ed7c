"""The self-contained HTML report of a study (``results/<study>/report.html``).

One file that navigates (a sidebar of contents, a summary first, a collapsible section per
outcome) with the tables as HTML, a methods section generated from the study configuration
(the analysis plan) and the results (:mod:`trialflow.methods`), the data-quality and scoring
summaries and the software versions. The flow diagram, the forest plot and the trajectories are
embedded as screen-resolution PNGs (the SVG itself when only SVG was written), each linking to
its file beside the report; the other figures are links
(:mod:`trialflow.report_parts`). No timestamps or absolute paths, so identical inputs give identical bytes.
"""

from __future__ import annotations

import html
import platform
import re
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from trialflow.config import Study
from trialflow.figures import MANIFEST
from trialflow.methods import methods_paragraphs, mmrm_covariance_used
from trialflow.report_parts import (
    figure_links,
    flow_summary,
    outcome_sections,
    primary_summary,
    table_fragment,
)
from trialflow.reported import outcome_labels
from trialflow.tables import SUPPLEMENTARY_TABLES, Table, build_study_tables, table_html

__all__ = [
    "SOFTWARE",
    "frame_html",
    "load_figures",
    "methods_paragraphs",
    "mmrm_covariance_used",
    "render_report",
    "software_versions",
    "tipping_point_figure",
    "write_report",
]

TEMPLATES = Path(__file__).parent / "report_templates"
SOFTWARE = (
    "trialflow",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "pingouin",
    "pyspiro",
    "matplotlib",
    "seaborn",
    "snakemake",
)


def software_versions(packages: Sequence[str] = SOFTWARE) -> dict[str, str]:
    """Python and package versions of the running environment (``"not installed"`` if absent)."""
    versions = {"python": platform.python_version()}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def frame_html(frame: pd.DataFrame | None, empty: str = "Not available.") -> Markup:
    """Any DataFrame as an escaped HTML table (missing values blank); ``empty`` if none."""
    if frame is None or frame.empty:
        return Markup(f"<p>{html.escape(empty)}</p>")
    esc = html.escape

    def cell(v: object) -> str:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            return ""
        if isinstance(v, float):
            return f"{v:.6g}"
        return str(v)

    head = "".join(f"<th>{esc(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(cell(v))}</td>" for v in row) + "</tr>\n"
        for row in frame.itertuples(index=False)
    )
    return Markup(
        f'<div class="table-wrap"><table class="tf-frame"><thead><tr>{head}</tr></thead>'
        f"<tbody>\n{body}</tbody></table></div>"
    )


def _inline_svg(svg: str) -> str:
    # the XML prolog and doctype are not allowed inside HTML
    svg = re.sub(r"<\?xml[^>]*\?>", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>", "", svg, flags=re.S)
    return svg.strip()


def load_figures(figures_dir: str | Path) -> list[dict]:
    """Read the manifest of the figures written by
    :func:`trialflow.figures.write_study_figures`.

    Parameters
    ----------
    figures_dir : path-like
        Directory holding ``figures.csv`` and the ``<stem>.png`` (or ``<stem>.svg``) files.

    Returns
    -------
    list of dict
        Manifest rows (``kind, outcome, stem, title, caption``) plus ``format`` (``png``
        when the PNG exists, else ``svg``) and ``inline_svg`` (the SVG's markup for the flow
        diagram when only SVG was written; empty otherwise).
    """
    figures_dir = Path(figures_dir)
    manifest = pd.read_csv(figures_dir / MANIFEST, dtype=str, keep_default_na=False)
    figures = []
    for row in manifest.to_dict("records"):
        png = (figures_dir / f"{row['stem']}.png").exists()
        row.update(format="png" if png else "svg", inline_svg=Markup(""))
        if not png and row["kind"] == "consort":
            svg = (figures_dir / f"{row['stem']}.svg").read_text(encoding="utf-8")
            row["inline_svg"] = Markup(_inline_svg(svg))
        figures.append(row)
    return figures


def tipping_point_figure(figures_dir: str | Path, study: Study) -> list[dict]:
    """The tipping-point figure (``tipping_point.png``) as a figure row of kind
    ``tipping_point``, when the study declares ``analysis.tipping_point`` (else none)."""
    options = study.analysis.tipping_point
    if options is None:
        return []
    caption = (
        f"Tipping point of {options.outcome}: the difference {options.arm} - "
        f"{study.reference_arm.id} with its {100 * (1 - study.analysis.alpha):g}% CI (left) "
        f"and the two-sided p-value (right) when delta is added to every imputed post-event "
        f"value of {options.arm} ({options.method.replace('_', ' ')}, "
        f"{options.analysis.strategy_text}); the vertical line marks the tipping delta."
    )
    row = {"kind": "tipping_point", "outcome": "", "stem": "tipping_point", "format": "png"}
    return [dict(row, title="Tipping-point analysis", caption=caption, inline_svg=Markup(""))]


def render_report(
    study: Study,
    tables: Sequence[Table],
    figures: Sequence[Mapping],
    results: pd.DataFrame,
    outcomes: pd.DataFrame,
    data_quality: pd.DataFrame | None = None,
    scoring_summary: pd.DataFrame | None = None,
    versions: Mapping[str, str] | None = None,
    model_fits: pd.DataFrame | None = None,
    provenance: Mapping | None = None,
    participant_flow: pd.DataFrame | None = None,
    extra_tables: Sequence[Mapping] = (),
) -> str:
    """The report as one HTML string.

    Parameters
    ----------
    study : Study
    tables : sequence of Table
        From :func:`trialflow.tables.build_study_tables`.
    figures : sequence of mapping
        From :func:`load_figures` (with ``href`` and, for embedded kinds, ``png_uri``:
        :func:`trialflow.report_parts.figure_links`).
    results : pandas.DataFrame
        ``results.csv`` rows, for the summary and the methods section.
    outcomes : pandas.DataFrame
        Outcome metadata, for headings.
    data_quality, scoring_summary : pandas.DataFrame, optional
        Rendered as they are (every column).
    versions : mapping, optional
        Software versions; :func:`software_versions` when not given.
    model_fits : pandas.DataFrame, optional
        ``model_fits.csv``, for the methods section.
    provenance : mapping, optional
        From :func:`trialflow.provenance.provenance_summary`: the Provenance section.
    participant_flow : pandas.DataFrame, optional
        ``participant_flow.csv``, for the summary.
    extra_tables : sequence of mapping
        ``name, title, html`` of the supplementary tables (responders, categorical, harms,
        MMRM appendix), as written beside the report.

    Returns
    -------
    str
    """
    versions = dict(versions) if versions is not None else software_versions()
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    template = env.get_template("report.html.j2")
    design = (
        "parallel-group randomised trial" if study.design == "parallel" else "single-arm study"
    )
    table2 = next(t for t in tables if t.name == "table2_outcomes_by_visit")
    shown = [{"name": t.name, "title": t.title, "html": Markup(table_html(t))} for t in tables]
    return template.render(
        study=study,
        design_text=design,
        versions=versions,
        methods=methods_paragraphs(study, results, versions, model_fits, outcome_labels(outcomes)),
        primary=primary_summary(study, results, outcomes),
        flow=frame_html(flow_summary(participant_flow, study)),
        tables=[*shown, *extra_tables],
        figures=list(figures),
        outcome_sections=outcome_sections(study, table2, figures, outcomes),
        data_quality=frame_html(data_quality),
        scoring_summary=frame_html(scoring_summary),
        provenance=provenance,
    )


def write_report(
    study: Study,
    out: str | Path,
    *,
    analysis: pd.DataFrame,
    outcomes: pd.DataFrame,
    participants: pd.DataFrame,
    results: pd.DataFrame,
    descriptives: pd.DataFrame | None,
    figures_dir: str | Path,
    data_quality: pd.DataFrame | None = None,
    scoring_summary: pd.DataFrame | None = None,
    versions: Mapping[str, str] | None = None,
    table1: pd.DataFrame | None = None,
    model_fits: pd.DataFrame | None = None,
    provenance: Mapping | None = None,
    participant_flow: pd.DataFrame | None = None,
    tables_dir: str | Path | None = None,
) -> Path:
    """Build the tables, read the figures and write ``report.html``.

    Parameters
    ----------
    study : Study
    out : path-like
        Output file, e.g. ``results/<study>/report.html``.
    analysis, outcomes, participants, results, descriptives
        As for :func:`trialflow.tables.write_study_tables`.
    figures_dir : path-like
        The directory :func:`trialflow.figures.write_study_figures` wrote; the report links
        to its files (relative to ``out``).
    data_quality, scoring_summary : pandas.DataFrame, optional
        ``data_quality.csv`` and ``scoring_summary.csv``.
    versions : mapping, optional
        Software versions; :func:`software_versions` when not given.
    table1 : pandas.DataFrame, optional
        Long Table 1 from ``trialflow.stats.table1``.
    model_fits : pandas.DataFrame, optional
        ``model_fits.csv`` (the MMRM facts the methods section states).
    provenance : mapping, optional
        The report's Provenance section (:func:`trialflow.provenance.provenance_summary`).
    participant_flow : pandas.DataFrame, optional
        ``participant_flow.csv`` (the summary's flow table).
    tables_dir : path-like, optional
        Where the supplementary tables' HTML files are (:data:`SUPPLEMENTARY_TABLES`);
        those found are shown after Tables 1-4.

    Returns
    -------
    pathlib.Path
    """
    out = Path(out)
    tables = build_study_tables(
        study, outcomes, participants, results, descriptives, analysis=analysis, table1=table1
    )
    extra = _supplementary(tables_dir) if tables_dir is not None else []
    figures = load_figures(figures_dir) + tipping_point_figure(figures_dir, study)
    figures = figure_links(figures, Path(figures_dir), out.parent)
    text = render_report(
        study,
        tables,
        figures,
        results,
        outcomes,
        data_quality,
        scoring_summary,
        versions,
        model_fits,
        provenance,
        participant_flow,
        extra,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8", newline="\n")
    return out


def _supplementary(tables_dir: str | Path) -> list[dict]:
    """``name, title, html`` of the supplementary tables written in ``tables_dir``."""
    found = []
    for name in SUPPLEMENTARY_TABLES:
        page = Path(tables_dir) / f"{name}.html"
        if page.exists():
            fragment = table_fragment(page.read_text(encoding="utf-8"))
            title = re.search(r"<caption>(.*?)</caption>", fragment, re.S)
            found.append(
                {"name": name, "title": html.unescape(title.group(1)) if title else name}
                | {"html": fragment}
            )
    return found
