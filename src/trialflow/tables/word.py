"""Word documents of tables, as journals want them: each table under a real Word caption
("Caption" style, number from a ``SEQ Table`` field, so Word can cross-reference and list
them), three-line (booktabs-like) rules instead of a grid, the notes below in small type, and
each table on a page of its own orientation (landscape for wide tables).

Byte-identical for identical input: fixed core-property dates and zip timestamps
(:func:`trialflow.tables.writers.fixed_datetime`).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from datetime import datetime

from trialflow.safe_text import spreadsheet_safe

from .table import Table

__all__ = ["LANDSCAPE_COLUMNS", "deterministic_zip", "docx_bytes"]

#: a table with more columns than this gets a landscape page
LANDSCAPE_COLUMNS = 6
_TABLE_NUMBER = re.compile(r"^Table \d+\.\s*")  # the caption's SEQ field numbers it
_RULE_HEAVY, _RULE_LIGHT = "12", "6"  # eighths of a point: 1.5 pt outer rules, 0.75 pt


def deterministic_zip(data: bytes, when: datetime) -> bytes:
    """Rewrite a zip with fixed member timestamps and attributes, members in original order."""
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def _element(tag: str, **attributes: str):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    element = OxmlElement(tag)
    for key, value in attributes.items():
        element.set(qn(f"w:{key}"), value)
    return element


def _caption(document, number: int, text: str) -> None:
    """``Table <SEQ Table>. text`` in the Caption style; the field's cached result is
    ``number`` so the document reads right before Word updates its fields."""
    paragraph = document.add_paragraph(style="Caption")
    paragraph.paragraph_format.keep_with_next = True
    paragraph.add_run("Table ")
    for kind, content in (
        ("begin", None),
        ("instr", " SEQ Table \\* ARABIC "),
        ("separate", None),
        ("text", str(number)),
        ("end", None),
    ):
        run = paragraph.add_run()
        if kind == "instr":
            instruction = _element("w:instrText")
            instruction.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
            instruction.text = content
            run._r.append(instruction)
        elif kind == "text":
            run.text = content
        else:
            run._r.append(_element("w:fldChar", fldCharType=kind))
    paragraph.add_run(". " + text)


def _borders(element, **edges: str) -> None:
    """Set the given edges (top, bottom, ...) to a single rule of that width; a table's other
    edges get none."""
    borders = _element("w:tblBorders" if element.tag.endswith("tblPr") else "w:tcBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        if not element.tag.endswith("tblPr") and edge not in edges:
            continue  # a cell sets only its own rules and keeps the table's others
        size = edges.get(edge)
        attributes = {"val": "single", "sz": size, "space": "0", "color": "000000"}
        borders.append(_element(f"w:{edge}", **(attributes if size else {"val": "nil"})))
    # the schema fixes the order of a tblPr's / tcPr's children: borders before these
    later = {"shd", "tblLayout", "tblCellMar", "tblLook", "tblCaption", "tblDescription"}
    later |= {"noWrap", "tcMar", "textDirection", "tcFitText", "vAlign", "hideMark"}
    follower = next((c for c in element if c.tag.split("}")[-1] in later), None)
    if follower is None:
        element.append(borders)
    else:
        follower.addprevious(borders)


def _three_line_table(document, table: Table, size):
    """The table with a heavy rule above and below and a light one under the header."""
    frame = table.display_frame()
    grid = document.add_table(rows=1, cols=max(1, frame.shape[1]))
    _borders(grid._tbl.tblPr, top=_RULE_HEAVY, bottom=_RULE_HEAVY)
    header = grid.rows[0]
    # repeat the header row on every page of a long table
    header._tr.get_or_add_trPr().append(_element("w:tblHeader", val="true"))
    for cell, name in zip(header.cells, frame.columns, strict=False):
        run = cell.paragraphs[0].add_run(str(spreadsheet_safe(str(name))))
        run.bold = True
        run.font.size = size
        _borders(cell._tc.get_or_add_tcPr(), bottom=_RULE_LIGHT)
    for values in frame.itertuples(index=False):
        cells = grid.add_row().cells
        for cell, value in zip(cells, values, strict=False):
            # Word tables are pasted into spreadsheets: formula-like text gets its '
            cell.paragraphs[0].add_run(str(spreadsheet_safe(str(value)))).font.size = size
    return grid


def _page(document, first: bool, landscape: bool) -> None:
    """Start the table's page: a new section (first table: the document's own) in the
    orientation it needs, with narrow margins."""
    from docx.enum.section import WD_ORIENT, WD_SECTION
    from docx.shared import Pt

    section = document.sections[0] if first else document.add_section(WD_SECTION.NEW_PAGE)
    wanted = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    if section.orientation != wanted:
        section.orientation = wanted
        section.page_width, section.page_height = section.page_height, section.page_width
    section.left_margin = section.right_margin = Pt(36)


def docx_bytes(tables: Sequence[Table], title: str | None, when: datetime) -> bytes:
    """A Word document of ``tables``, one per page, numbered by SEQ fields from 1.

    Parameters
    ----------
    tables : sequence of Table
    title : str or None
        Document title (core property); default the first table's title.
    when : datetime
        The fixed creation and modification time.

    Returns
    -------
    bytes
    """
    from docx import Document
    from docx.shared import Pt

    document = Document()
    props = document.core_properties
    props.author = "trialflow"
    props.last_modified_by = "trialflow"
    props.created = props.modified = props.last_printed = when
    props.revision = 1
    props.title = title or (tables[0].title if tables else "")
    props.comments = ""
    for number, table in enumerate(tables, start=1):
        wide = table.frame.shape[1] > LANDSCAPE_COLUMNS
        _page(document, number == 1, wide)
        _caption(document, number, _TABLE_NUMBER.sub("", table.title))
        _three_line_table(document, table, Pt(8 if wide else 9))
        for note in table.footnotes:
            paragraph = document.add_paragraph()
            paragraph.paragraph_format.space_after = Pt(0)
            paragraph.add_run(note).font.size = Pt(8)
    buffer = io.BytesIO()
    document.save(buffer)
    return deterministic_zip(buffer.getvalue(), when)
