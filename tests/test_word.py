"""Word tables (issue 14): real captions (Caption style, SEQ fields), three-line rules,
notes below, a landscape page for a wide table."""

from __future__ import annotations

import zipfile

import pandas as pd
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn

from trialflow.tables import Table, write_docx

NARROW = Table("narrow", "Table 1. Narrow", pd.DataFrame({"A": ["1", "2"], "B": ["3", "4"]}))
WIDE = Table(
    "wide",
    "Wide one",
    pd.DataFrame({f"C{i}": [str(i)] for i in range(8)}),
    footnotes=("‡ a symbol explained.", "Second note."),
)


def test_captions_rules_notes_and_orientation(tmp_path):
    path = write_docx([NARROW, WIDE], tmp_path / "t.docx")
    document = Document(str(path))
    captions = [p for p in document.paragraphs if p.style.name == "Caption"]
    # the number comes from the SEQ field; the title's own "Table 1." is not repeated
    assert [p.text for p in captions] == ["Table 1. Narrow", "Table 2. Wide one"]
    xml = zipfile.ZipFile(path).read("word/document.xml").decode()
    assert xml.count("SEQ Table \\* ARABIC") == 2
    assert "Table Grid" not in xml
    for grid in document.tables:
        borders = grid._tbl.tblPr.find(qn("w:tblBorders"))
        edges = {child.tag.split("}")[1]: child.get(qn("w:val")) for child in borders}
        assert edges == {
            "top": "single",
            "left": "nil",
            "bottom": "single",
            "right": "nil",
            "insideH": "nil",
            "insideV": "nil",
        }
        header = grid.rows[0].cells[0]._tc.tcPr.find(qn("w:tcBorders"))
        assert [c.tag.split("}")[1] for c in header] == ["bottom"]  # the rule under the header
    notes = [p.text for p in document.paragraphs if p.text in WIDE.footnotes]
    assert notes == list(WIDE.footnotes)
    orientations = [s.orientation for s in document.sections]
    assert orientations == [WD_ORIENT.PORTRAIT, WD_ORIENT.LANDSCAPE]
    assert document.sections[1].page_width > document.sections[1].page_height


def test_word_is_byte_identical(tmp_path):
    a = write_docx([NARROW, WIDE], tmp_path / "a.docx").read_bytes()
    b = write_docx([NARROW, WIDE], tmp_path / "b.docx").read_bytes()
    assert a == b
