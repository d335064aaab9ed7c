"""The self-contained HTML report of a study (``results/<study>/report.html``).

One file with everything embedded: figures as base64 ``data:`` URIs of their SVGs (the flow
diagram inline as ``<svg>``), the tables as HTML, a methods section generated from the study
configuration (the analysis plan) and the results (:mod:`trialflow.methods`), the
data-quality and scoring summaries, and the software versions. No timestamps or absolute
paths, so identical inputs give identical bytes.
"""

from __future__ import annotations

import base64
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
from trialflow.reported import outcome_labels
from trialflow.tables import Table, build_study_tables, table_html

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
    """Read the figures written by :func:`trialflow.figures.write_study_figures`.

    Parameters
    ----------
    figures_dir : path-like
        Directory holding ``figures.csv`` and the ``<stem>.svg`` files.

    Returns
    -------
    list of dict
        Manifest rows (``kind, outcome, stem, title, caption``) plus ``data_uri`` (base64 SVG)
        and ``inline_svg`` (markup for embedding directly).
    """
    figures_dir = Path(figures_dir)
    manifest = pd.read_csv(figures_dir / MANIFEST, dtype=str, keep_default_na=False)
    figures = []
    for row in manifest.to_dict("records"):
        svg = (figures_dir / f"{row['stem']}.svg").read_text(encoding="utf-8")
        encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
        row["data_uri"] = f"data:image/svg+xml;base64,{encoded}"
        row["inline_svg"] = Markup(_inline_svg(svg))
        figures.append(row)
    return figures


def tipping_point_figure(figures_dir: str | Path, study: Study) -> list[dict]:
    """The tipping-point figure (``tipping_point.svg``) as a figure row of kind
    ``tipping_point``, when the study declares ``analysis.tipping_point`` (else none)."""
    options = study.analysis.tipping_point
    if options is None:
        return []
    svg = (Path(figures_dir) / "tipping_point.svg").read_text(encoding="utf-8")
    encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    caption = (
        f"Tipping point of {options.outcome}: the difference {options.arm} - "
        f"{study.reference_arm.id} with its {100 * (1 - study.analysis.alpha):g}% CI (left) "
        f"and the two-sided p-value (right) when delta is added to every imputed post-event "
        f"value of {options.arm} ({options.method.replace('_', ' ')}, "
        f"{options.analysis.strategy_text}); the vertical line marks the tipping delta."
    )
    return [
        {
            "kind": "tipping_point",
            "outcome": "",
            "stem": "tipping_point",
            "title": "Tipping-point analysis",
            "caption": caption,
            "data_uri": f"data:image/svg+xml;base64,{encoded}",
            "inline_svg": Markup(_inline_svg(svg)),
        }
    ]


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
) -> str:
    """The report as one HTML string.

    Parameters
    ----------
    study : Study
    tables : sequence of Table
        From :func:`trialflow.tables.build_study_tables`.
    figures : sequence of mapping
        From :func:`load_figures`.
    results : pandas.DataFrame
        ``results.csv`` rows, for the methods section.
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

    Returns
    -------
    str
    """
    versions = dict(versions) if versions is not None else software_versions()
    labels = outcome_labels(outcomes)
    groups: dict[str, list[Mapping]] = {}
    for fig in figures:
        if fig["outcome"]:
            groups.setdefault(fig["outcome"], []).append(fig)
    outcome_figures = [
        {"outcome": o, "label": labels.get(o, o), "figures": figs} for o, figs in groups.items()
    ]
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
    return template.render(
        study=study,
        design_text=design,
        versions=versions,
        methods=methods_paragraphs(study, results, versions, model_fits, labels),
        tables=[{"name": t.name, "title": t.title, "html": Markup(table_html(t))} for t in tables],
        figures=list(figures),
        outcome_figures=outcome_figures,
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
        The directory :func:`trialflow.figures.write_study_figures` wrote.
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

    Returns
    -------
    pathlib.Path
    """
    tables = build_study_tables(
        study, outcomes, participants, results, descriptives, analysis=analysis, table1=table1
    )
    text = render_report(
        study,
        tables,
        load_figures(figures_dir) + tipping_point_figure(figures_dir, study),
        results,
        outcomes,
        data_quality,
        scoring_summary,
        versions,
        model_fits,
        provenance,
    )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8", newline="\n")
    return out
