"""Publication tables: Table 1, outcomes by visit, and the classic-test layouts.

Every table is built as a :class:`Table` of display strings (numbers rounded for reading)
and written as CSV, Markdown, HTML and Word. ``results.csv`` keeps full precision; the
rounding here is for people. All writers are deterministic: identical input gives
byte-identical files.

Modules: :mod:`~trialflow.tables.format` (numbers as printed), :mod:`~trialflow.tables.table`
(the table object), :mod:`~trialflow.tables.baseline` (Table 1),
:mod:`~trialflow.tables.cells` (cells and notes the outcome tables share),
:mod:`~trialflow.tables.build` (Tables 2 and 3), :mod:`~trialflow.tables.classic` (the
source papers' layouts), :mod:`~trialflow.tables.responders`,
:mod:`~trialflow.tables.categorical` (bands and grades by visit, shift tables),
:mod:`~trialflow.tables.mmrm_appendix`, :mod:`~trialflow.tables.writers` (files).
"""

from .baseline import table1_table
from .build import (
    DEGENERATE_MARK,
    NONPARAMETRIC_MARK,
    SUPPLEMENTARY_TABLES,
    between_arm_table,
    build_study_tables,
    build_supplementary_tables,
    outcomes_by_visit_table,
    single_arm_table,
    within_arm_table,
)
from .format import (
    MISSING,
    decimals_for,
    format_ci,
    format_mean_sd,
    format_number,
    format_p,
)
from .table import TABLE_FORMATS, Table
from .writers import (
    fixed_datetime,
    table_html,
    table_markdown,
    write_docx,
    write_study_tables,
    write_supplementary_tables,
    write_table,
)

__all__ = [
    "DEGENERATE_MARK",
    "MISSING",
    "NONPARAMETRIC_MARK",
    "SUPPLEMENTARY_TABLES",
    "TABLE_FORMATS",
    "Table",
    "between_arm_table",
    "build_study_tables",
    "build_supplementary_tables",
    "decimals_for",
    "fixed_datetime",
    "format_ci",
    "format_mean_sd",
    "format_number",
    "format_p",
    "outcomes_by_visit_table",
    "single_arm_table",
    "table1_table",
    "table_html",
    "table_markdown",
    "write_docx",
    "write_study_tables",
    "write_supplementary_tables",
    "within_arm_table",
    "write_table",
]
