"""The self-contained HTML report of a study (``results/<study>/report.html``).

One file with everything embedded: figures as base64 ``data:`` URIs of their PNGs (of their
SVGs when only SVG was written, the flow diagram then inline as ``<svg>``), the tables as HTML, a methods section generated from the study
configuration and the results, the data-quality and scoring summaries, and the software
versions. No timestamps or absolute paths, so identical inputs give identical bytes.
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
from trialflow.reported import TEST_NAMES, outcome_labels
from trialflow.stats.contract import MODEL_FIT_COLUMNS, typed_results
from trialflow.stats.mmrm_analysis import covariance_label, inference_text
from trialflow.tables import Table, build_study_tables, table_html

__all__ = [
    "SOFTWARE",
    "frame_html",
    "load_figures",
    "methods_paragraphs",
    "mmrm_covariance_used",
    "render_report",
    "software_versions",
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


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def mmrm_covariance_used(model_fits: pd.DataFrame | None) -> dict[str, int]:
    """Covariance structures the converged MMRMs used, from ``model_fits.csv``.

    Returns
    -------
    dict
        Printed structure name (e.g. ``unstructured (UN)``) to the number of outcomes whose
        model used it, in outcome order.
    """
    used: dict[str, int] = {}
    for name in _converged(model_fits)["covariance"]:
        label = covariance_label(name)
        used[label] = used.get(label, 0) + 1
    return used


def _converged(model_fits: pd.DataFrame | None) -> pd.DataFrame:
    if model_fits is None:
        return pd.DataFrame(columns=list(MODEL_FIT_COLUMNS))
    fits = model_fits[model_fits["analysis"] == "mmrm"]
    return fits[fits["status"] == "converged"]


def methods_paragraphs(
    study: Study,
    results: pd.DataFrame,
    versions: Mapping[str, str],
    model_fits: pd.DataFrame | None = None,
) -> list[str]:
    """The methods section, generated from the configuration and what the analysis found.

    Parameters
    ----------
    study : Study
    results : pandas.DataFrame
        ``results.csv`` rows (which analyses ran).
    versions : mapping
        Package name to version, e.g. from :func:`software_versions`.
    model_fits : pandas.DataFrame, optional
        ``model_fits.csv`` (the MMRM's formula, covariance used and estimand).

    Returns
    -------
    list of str
        Plain-text paragraphs (escaped by the template).
    """
    res = typed_results(results)
    used = set(res["analysis"])
    paragraphs = [
        _design_paragraph(study, model_fits),
        _classic_paragraph(study, used),
        _models_paragraph(study, res, model_fits),
        _responders_paragraph(study, used),
        _multiplicity_paragraph(study),
        _missing_data_paragraph(used),
        _standardised_paragraph(study),
        _analyses_paragraph(used),
        _software_paragraph(versions),
    ]
    return [p for p in paragraphs if p]


def _design_paragraph(study: Study, model_fits: pd.DataFrame | None) -> str:
    """Design and estimand (the MMRM's estimand when a model was fitted)."""
    arms = [a.label for a in study.arms]
    ref = study.reference_arm.label
    visits = _join(
        [f"{v.label} (week {v.week:g}, {v.role.replace('_', ' ')})" for v in study.visits]
    )
    primary = study.primary_visit.label
    if study.design == "parallel":
        design = (
            f"Design: parallel-group trial with {len(arms)} arms ({_join(arms)}; reference "
            f"{ref}); visits {visits}."
        )
        estimand = (
            f"Estimand: the difference between each arm and {ref} in the mean outcome at "
            f"{primary}, adjusted for the baseline value, in randomised participants with a "
            "baseline value; missing outcomes are assumed missing at random."
        )
    else:
        design = f"Design: single-arm study ({_join(arms)}); visits {visits}."
        persisted = (
            f", and whether it persisted at {study.follow_up.label}." if study.follow_up else "."
        )
        estimand = (
            f"Estimand: the mean change from baseline to {primary} in enrolled participants"
            + persisted
        )
    estimands = list(dict.fromkeys(_converged(model_fits)["estimand"]))
    if estimands:
        estimand = "Estimand (as fitted by the MMRM): " + "; ".join(estimands) + "."
    return f"{design} {estimand}"


def _classic_paragraph(study: Study, used: set[str]) -> str:
    opts = study.analysis
    selection = {
        "auto": (
            "chosen per comparison by the Shapiro-Wilk test of the analysed values "
            f"(non-parametric when p < {opts.alpha:g})"
        ),
        "parametric": "parametric throughout (test_selection = parametric)",
        "nonparametric": "non-parametric throughout (test_selection = nonparametric)",
    }[opts.test_selection]
    classic = []
    if used & {"paired_t", "wilcoxon_signed_rank"}:
        classic.append(
            "within-arm changes with the paired t-test or the Wilcoxon signed-rank test"
        )
    if used & {"welch_t", "mann_whitney"}:
        classic.append("between-arm differences with Welch's t-test or the Mann-Whitney U test")
    if used & {"rm_anova", "friedman"}:
        classic.append("change over all visits with repeated-measures ANOVA or the Friedman test")
    if not classic:
        return ""
    return (
        f"Classic tests: {_join(classic)}; the parametric or non-parametric version was "
        f"{selection}. Two-sided tests at alpha = {opts.alpha:g}."
    )


def _models_paragraph(study: Study, res: pd.DataFrame, model_fits: pd.DataFrame | None) -> str:
    used = set(res["analysis"])
    models = []
    if "ancova" in used:
        covs = ", ".join(study.covariates)
        models.append(
            f"ANCOVA of the value at each post-baseline visit on arm, adjusted for the baseline "
            f"value{' and ' + covs if covs else ''}"
        )
    if "mmrm" in used:
        models.append(_mmrm_sentence(study, res, model_fits))
    return "Models: " + "; ".join(models) + "." if models else ""


def _mmrm_sentence(study: Study, res: pd.DataFrame, model_fits: pd.DataFrame | None) -> str:
    """``a mixed model for repeated measures (MMRM: <model>; <covariance>; ...)``."""
    candidates = _join(list(study.analysis.mmrm_covariance))
    found = mmrm_covariance_used(model_fits)
    if found:
        cov = "covariance structure used: " + _join(
            [
                f"{name} ({count} {'outcome' if count == 1 else 'outcomes'})"
                for name, count in found.items()
            ]
        )
    else:
        cov = f"covariance structure chosen from {candidates}"
    fits = _converged(model_fits)
    scope = {"post_baseline": "post-baseline visits", "all": "all visits"}
    model = _join(
        list(
            dict.fromkeys(
                f"{f} over {scope[v]}"
                for f, v in zip(fits["formula"], fits["visit_scope"], strict=True)
            )
        )
    )
    inference = list(
        dict.fromkeys(
            inference_text(m, d) for m, d in zip(fits["method"], fits["ddf"], strict=True)
        )
    )
    details = "; ".join(filter(None, [model, cov, *inference]))
    mmrm_rows = res[res["analysis"] == "mmrm"]
    not_fitted = 0
    if model_fits is not None:
        unfitted = set(model_fits.loc[model_fits["status"] != "converged", "outcome"])
        not_fitted = int(mmrm_rows["outcome"].isin(unfitted).sum())
    return (
        f"a mixed model for repeated measures (MMRM: {details}; candidate structures in "
        f"order of preference: {candidates}"
        + (f"; {not_fitted} comparisons not fitted, see results.csv" if not_fitted else "")
        + ")"
    )


def _responders_paragraph(study: Study, used: set[str]) -> str:
    if "responder" not in used:
        return ""
    mids = ", ".join(f"{k} {v:g}" for k, v in study.analysis.minimal_important_difference.items())
    return (
        "Responders: the proportion of participants whose change from baseline reached the "
        "minimal important difference"
        + (f" ({mids})" if mids else "")
        + (" was compared between arms." if study.design == "parallel" else ", with its CI.")
    )


def _multiplicity_paragraph(study: Study) -> str:
    multiplicity = study.analysis.multiplicity
    if multiplicity.method == "none":
        return "Multiplicity: p-values are not adjusted for multiple comparisons."
    method = {"holm": "Holm", "fdr_bh": "Benjamini-Hochberg false-discovery-rate"}[
        multiplicity.method
    ]
    return (
        f"Multiplicity: {method} adjustment within the family "
        f"'{multiplicity.family.replace('_', ' ')}' (adjusted p printed as adj. p)."
    )


def _missing_data_paragraph(used: set[str]) -> str:
    complete = _join(
        [n for a, n in (("paired_t", "classic tests"), ("ancova", "ANCOVA")) if a in used]
    )
    missing = "Missing data: no values were imputed."
    if complete:
        missing += (
            f" The {complete} use the participants observed at the visits compared (complete "
            "cases; n per comparison in results.csv)."
        )
    if "mmrm" in used:
        missing += (
            " The MMRM uses every observed visit, which is valid when data are missing at random."
        )
    return missing


def _standardised_paragraph(study: Study) -> str:
    return "Standardised effects (forest plot): " + (
        "mean change divided by the baseline SD."
        if study.design == "single_arm"
        else "the between-arm difference divided by the pooled baseline SD of the two arms "
        "(a Cohen's d on the baseline scale), signed so that positive means improvement."
    )


def _analyses_paragraph(used: set[str]) -> str:
    names = sorted(TEST_NAMES.get(a, a.replace("_", " ")) for a in used if a)
    return "Analyses in results.csv: " + ", ".join(names) + "." if names else ""


def _software_paragraph(versions: Mapping[str, str]) -> str:
    software = ", ".join(f"{k} {v}" for k, v in versions.items() if k != "python")
    return f"Software: Python {versions.get('python', '')}; {software}."


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
        Directory holding ``figures.csv`` and the ``<stem>.png`` (or ``<stem>.svg``) files.

    Returns
    -------
    list of dict
        Manifest rows (``kind, outcome, stem, title, caption``) plus ``format`` (``png``
        when the PNG exists, else ``svg``), ``data_uri`` (base64) and, for SVG,
        ``inline_svg`` (markup for embedding directly; empty for PNG).
    """
    figures_dir = Path(figures_dir)
    manifest = pd.read_csv(figures_dir / MANIFEST, dtype=str, keep_default_na=False)
    figures = []
    for row in manifest.to_dict("records"):
        png = figures_dir / f"{row['stem']}.png"
        if png.exists():
            encoded = base64.b64encode(png.read_bytes()).decode("ascii")
            row.update(format="png", data_uri=f"data:image/png;base64,{encoded}")
            row["inline_svg"] = Markup("")
        else:
            svg = (figures_dir / f"{row['stem']}.svg").read_text(encoding="utf-8")
            encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
            row.update(format="svg", data_uri=f"data:image/svg+xml;base64,{encoded}")
            row["inline_svg"] = Markup(_inline_svg(svg))
        figures.append(row)
    return figures


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
        methods=methods_paragraphs(study, results, versions, model_fits),
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
        load_figures(figures_dir),
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
