"""Committed reference files (``tests/reference/``): paths that must exist, and readers.

A reference test compares trialflow with numbers from R or SAS that are committed beside the
script that made them. A missing file is a defect of the checkout, so :func:`reference_file`
fails the test (it never skips).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REFERENCE = Path(__file__).resolve().parents[1] / "reference"
#: Number columns of the classic-test references (R's ``classic_tests.R``).
COMPARED = [
    "n",
    "estimate",
    "se",
    "df",
    "ci_low",
    "ci_high",
    "statistic",
    "p_value",
    "effect_size",
    "effect_size_ci_low",
    "effect_size_ci_high",
    "p_adjusted",
]


def reference_file(*parts: str) -> Path:
    """The path of a committed reference file; fails the test when it is missing."""
    path = REFERENCE.joinpath(*parts)
    if not path.exists():
        pytest.fail(
            f"committed reference file {path.relative_to(REFERENCE.parent)} is missing; "
            "restore it from git or rerun the script beside it (see tests/reference/README.md)"
        )
    return path


def read_long(name: str) -> pd.DataFrame:
    """A long analysis-data reference (``participant_id`` kept as text)."""
    return pd.read_csv(reference_file(name), dtype={"participant_id": str})


def reference(name: str) -> pd.DataFrame:
    """R's classic-test results ``classic_tests_<name>_results.csv`` with numbers as floats."""
    data = pd.read_csv(reference_file(f"classic_tests_{name}_results.csv"), keep_default_na=False)
    for column in [*COMPARED, "hodges_lehmann", "epsilon"]:
        data[column] = pd.to_numeric(data[column].replace("", np.nan))
    return data


def outcomes_of(analysis: pd.DataFrame) -> pd.DataFrame:
    """Minimal outcome metadata for every outcome of ``analysis`` (higher is better)."""
    names = sorted(analysis["outcome"].unique())
    return pd.DataFrame({"outcome": names, "label": names, "unit": "", "higher_is_better": True})
