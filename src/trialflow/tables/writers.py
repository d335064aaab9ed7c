"""Writing tables: CSV, Markdown, HTML and Word, byte-identical for identical input.

The Word file (:mod:`trialflow.tables.word`: captions with SEQ fields, three-line tables) gets
fixed core-property dates and zip timestamps (``SOURCE_DATE_EPOCH`` when set), so that reruns
give the same bytes.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from trialflow.config import Study
from trialflow.safe_text import markdown_safe, spreadsheet_safe_frame

from .build import SUPPLEMENTARY_TABLES, build_study_tables, build_supplementary_tables
from .table import Table
from .word import docx_bytes

__all__ = [
    "fixed_datetime",
    "table_html",
    "table_markdown",
    "write_docx",
    "write_study_tables",
    "write_supplementary_tables",
    "write_table",
]


def fixed_datetime() -> datetime:
    """The timestamp written into Word files: ``SOURCE_DATE_EPOCH`` if set, else 2000-01-01."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC).replace(tzinfo=None)
    return datetime(2000, 1, 1)


def table_markdown(table: Table) -> str:
    """The table as GitHub-flavoured Markdown, with its title and footnotes."""
    frame = table.display_frame()
    body = tabulate(
        [[markdown_safe(v) for v in row] for row in frame.values.tolist()],
        headers=[markdown_safe(c) for c in frame.columns],
        tablefmt="github",
        disable_numparse=True,
        showindex=False,
    )
    notes = "".join(f"\n{markdown_safe(note)}  " for note in table.footnotes)
    return f"**{markdown_safe(table.title)}**\n\n{body}\n{notes}\n"


def _html_cell(value: object) -> str:
    """Escaped cell text that wraps only between its parts ("est (CI)", "p = x", "adj. p")."""
    text = html.escape(str(value))
    text = re.sub(r" (=|&lt;|&gt;|to|±) ", r"&nbsp;\1&nbsp;", text)
    text = re.sub(r"(\d|CI\)?) \(", r"\1&nbsp;(", text)
    return text.replace("adj. p", "adj.&nbsp;p")


def table_html(table: Table) -> str:
    """The table as an HTML ``<table>`` fragment (title as caption, footnotes in ``<tfoot>``)."""
    frame = table.display_frame()
    esc = html.escape
    out = [
        f'<table class="tf-table" id="{esc(table.name)}">',
        f"<caption>{esc(table.title)}</caption>",
    ]
    out.append(
        "<thead><tr>" + "".join(f"<th>{esc(str(c))}</th>" for c in frame.columns) + "</tr></thead>"
    )
    out.append("<tbody>")
    for start, values in zip(table.group_starts(), frame.itertuples(index=False), strict=True):
        cls = ' class="group-start"' if start else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{_html_cell(v)}</td>" for v in values) + "</tr>")
    out.append("</tbody>")
    if table.footnotes:
        span = max(1, frame.shape[1])
        notes = "<br>".join(esc(n) for n in table.footnotes)
        out.append(f'<tfoot><tr><td colspan="{span}">{notes}</td></tr></tfoot>')
    out.append("</table>")
    return "\n".join(out) + "\n"


_HTML_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table.tf-table {{ border-collapse: collapse; font-size: 0.85em; }}
table.tf-table caption {{ text-align: left; font-weight: bold; margin-bottom: 0.5em; }}
table.tf-table th, table.tf-table td {{ border-bottom: 1px solid #ccc; padding: 0.25em 0.6em; vertical-align: top; }}
table.tf-table thead th {{ border-bottom: 2px solid #333; text-align: left; }}
table.tf-table tr.group-start td {{ border-top: 1.5px solid #666; }}
table.tf-table tfoot td {{ font-size: 0.9em; color: #444; border: none; }}
</style>
</head>
<body>
{table}</body>
</html>
"""


def _docx_bytes(tables: Sequence[Table], title: str | None = None) -> bytes:
    return docx_bytes(tables, title, fixed_datetime())


def write_docx(tables: Sequence[Table], path: str | Path, title: str | None = None) -> Path:
    """Write one or more tables to a Word file, byte-identical for identical input.

    Parameters
    ----------
    tables : sequence of Table
        One table per page.
    path : path-like
        Output ``.docx``.
    title : str, optional
        Document title (core property); defaults to the first table's title.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    path.write_bytes(_docx_bytes(tables, title))
    return path


def write_table(table: Table, outdir: str | Path) -> list[Path]:
    """Write one table as ``<name>.csv``, ``.md``, ``.html`` and ``.docx`` into ``outdir``.

    Returns
    -------
    list of pathlib.Path
        The four files, in :data:`TABLE_FORMATS` order.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    stem = outdir / table.name
    csv = stem.with_suffix(".csv")
    spreadsheet_safe_frame(table.frame).to_csv(csv, index=False, lineterminator="\n")
    md = stem.with_suffix(".md")
    md.write_text(table_markdown(table), encoding="utf-8", newline="\n")
    page = stem.with_suffix(".html")
    page.write_text(
        _HTML_PAGE.format(title=html.escape(table.title), table=table_html(table)),
        encoding="utf-8",
        newline="\n",
    )
    docx = write_docx([table], stem.with_suffix(".docx"))
    return [csv, md, page, docx]


def write_study_tables(
    study: Study,
    analysis: pd.DataFrame,
    outcomes: pd.DataFrame,
    participants: pd.DataFrame,
    results: pd.DataFrame,
    descriptives: pd.DataFrame | None,
    outdir: str | Path,
    table1: pd.DataFrame | None = None,
    names: Sequence[str] | None = None,
) -> list[Path]:
    """Build and write every table of a study: ``<name>.{csv,md,html,docx}`` per table.

    Parameters
    ----------
    study : Study
    analysis : pandas.DataFrame
        Long analysis data (used only when ``descriptives`` is None).
    outcomes, participants, results, descriptives
        As for :func:`build_study_tables`.
    outdir : path-like
        Directory for the files; created if needed.
    table1 : pandas.DataFrame, optional
        Long Table 1 from ``trialflow.stats.table1``, if available.
    names : sequence of str, optional
        Write only the tables of these names (e.g. ``table4_within_arm``); default all.

    Returns
    -------
    list of pathlib.Path
        Every file written, table by table in :data:`TABLE_FORMATS` order.
    """
    tables = build_study_tables(
        study, outcomes, participants, results, descriptives, analysis=analysis, table1=table1
    )
    paths: list[Path] = []
    for table in tables:
        if names is None or table.name in names:
            paths += write_table(with_config_hash(table, study), outdir)
    return paths


def with_config_hash(table: Table, study: Study) -> Table:
    """The table with a last footnote naming the SHA-256 of the study's resolved config, so a
    printed table can be traced to the config (and ``provenance.json``) that produced it."""
    from trialflow.stage_config import config_sha256

    note = f"Analysis config SHA-256: {config_sha256(study)} (see provenance.json)."
    return replace(table, footnotes=(*table.footnotes, note))


def write_supplementary_tables(
    study: Study,
    analysis: pd.DataFrame,
    outcomes: pd.DataFrame,
    participants: pd.DataFrame,
    results: pd.DataFrame,
    descriptives: pd.DataFrame | None,
    outdir: str | Path,
    adverse_events: pd.DataFrame | None = None,
) -> list[Path]:
    """Write the supplementary tables (:data:`~trialflow.tables.build.SUPPLEMENTARY_TABLES`)
    as ``<name>.{csv,md,html,docx}``, and ``tables.docx``: every table of the study, Tables
    1-4 first, in one Word document.

    Parameters
    ----------
    study, analysis, outcomes, participants, results, descriptives
        As for :func:`write_study_tables`.
    outdir : path-like
        Directory for the files; created if needed.
    adverse_events : pandas.DataFrame, optional
        The validated ``adverse_events.csv`` (None: not collected).

    Returns
    -------
    list of pathlib.Path
        The supplementary tables' files in :data:`SUPPLEMENTARY_TABLES` order, then
        ``tables.docx``.
    """
    main = build_study_tables(study, outcomes, participants, results, descriptives, analysis)
    extra = build_supplementary_tables(
        study, outcomes, participants, results, analysis, adverse_events
    )
    assert tuple(t.name for t in extra) == SUPPLEMENTARY_TABLES
    paths: list[Path] = []
    for table in extra:
        paths += write_table(with_config_hash(table, study), outdir)
    every = [with_config_hash(table, study) for table in [*main, *extra]]
    paths.append(write_docx(every, Path(outdir) / "tables.docx", title=study.title))
    return paths
