"""Text from the data in outputs: no spreadsheet formula, no raw HTML (issue 10, class 5)."""

import zipfile

import pandas as pd
import pytest

from trialflow.io import write_csv
from trialflow.safe_text import markdown_safe, spreadsheet_safe
from trialflow.tables import Table
from trialflow.tables.writers import table_markdown, write_table

PAYLOADS = ['=HYPERLINK("http://x","y")', "+cmd", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)"]
PAYLOADS += ["\tlead tab", "\rlead cr"]


@pytest.mark.parametrize("text", PAYLOADS)
def test_formula_like_text_gets_a_quote(text):
    assert spreadsheet_safe(text) == "'" + text


@pytest.mark.parametrize(
    "value",
    [-2.5, "-2.5", "-1e-05", "-1.55 (-1.65 to -1.40)‡; p < 0.001; adj. p < 0.001", "normal", ""],
)
def test_numbers_and_plain_text_are_left_alone(value):
    assert spreadsheet_safe(value) == value


def test_csv_outputs_quote_text_cells_but_never_numbers(tmp_path):
    frame = pd.DataFrame(
        {"level": ["=1+1", "-cmd", "F"], "estimate": [-2.5, -0.25, 1.0], "n": [3, 4, 5]}
    )
    write_csv(frame, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text() == (
        "level,estimate,n\n'=1+1,-2.5,3\n'-cmd,-0.25,4\nF,1,5\n"
    )


def _table():
    frame = pd.DataFrame(
        {
            "Characteristic": ["Site, n (%)", "Site, n (%)"],
            "Level": ['=HYPERLINK("http://evil","x")', "<b>bold</b> & <script>x</script>"],
            "+Arm (n = 2)": ["-1 (50.0%)", "1 (50.0%)"],
        }
    )
    return Table("t", "Table <i>1</i>", frame, footnotes=("a | b",), group_column="Characteristic")


def test_table_csv_markdown_and_word_are_safe(tmp_path):
    paths = write_table(_table(), tmp_path)
    csv = paths[0].read_text()
    assert "'=HYPERLINK" in csv and "'+Arm (n = 2)" in csv
    assert ",-1 (50.0%)" in csv  # a formatted number is not text to quote
    markdown = table_markdown(_table())
    assert "<b>" not in markdown and "<script>" not in markdown and "<i>" not in markdown
    assert "&lt;b>bold&lt;/b> & &lt;script>" in markdown
    assert "a \\| b" in markdown
    with zipfile.ZipFile(paths[3]) as docx:
        body = docx.read("word/document.xml").decode()
    assert "&apos;=HYPERLINK" in body or "'=HYPERLINK" in body
    assert "'+Arm" in body or "&apos;+Arm" in body


def test_markdown_keeps_p_value_text_readable():
    assert markdown_safe("p < 0.001; adj. p > 0.5") == "p < 0.001; adj. p > 0.5"
