"""Fixtures shared by the test suite: study and cohort factories, reference data.

Helpers live in the ``tests/helpers`` package; test modules use these fixtures or import from
``helpers``, never from one another.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers.reference import read_long, reference_file
from helpers.report_inputs import parallel_inputs, single_arm_inputs
from helpers.studies import TIES_STUDY, make_study

from trialflow.config import Study, studies_from_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def study_factory() -> Callable[..., Study]:
    """:func:`helpers.studies.make_study`: a study from arm ids and ``(id, week, role)``."""
    return make_study


@pytest.fixture(scope="session")
def ties_study() -> Study:
    """The two-arm study of ``tests/reference/ties_missing_long.csv`` (covariates, MIDs)."""
    return TIES_STUDY


@pytest.fixture(scope="session")
def ties_data() -> dict[str, pd.DataFrame]:
    """The tied, incomplete reference data: long ``analysis`` and ``participants``."""
    return {
        "analysis": read_long("ties_missing_long.csv"),
        "participants": pd.read_csv(
            reference_file("ties_missing_participants.csv"), dtype={"participant_id": str}
        ),
    }


@pytest.fixture(scope="session")
def config_studies() -> dict[str, Study]:
    """The studies of the repository's ``config.yaml``."""
    return studies_from_config(yaml.safe_load((ROOT / "config.yaml").read_text()))


@pytest.fixture(scope="session")
def cohort(config_studies) -> Callable[[str], dict]:
    """A default cohort's committed analysis data: ``cohort("spine_rct")`` gives its study,
    long ``analysis``, ``participants`` and ``outcomes`` (``tests/reference/cohort_*``)."""

    def load(study_id: str) -> dict:
        return {
            "study": config_studies[study_id],
            "analysis": read_long(f"cohort_{study_id}_long.csv"),
            "participants": pd.read_csv(
                reference_file(f"cohort_{study_id}_participants.csv"),
                dtype={"participant_id": str},
            ),
            "outcomes": pd.read_csv(reference_file(f"cohort_{study_id}_outcomes.csv")),
        }

    return load


@pytest.fixture(scope="session")
def fev() -> pd.DataFrame:
    """The R mmrm package's ``fev_data`` (``tests/reference/mmrm/fev_data.csv``)."""
    return pd.read_csv(reference_file("mmrm", "fev_data.csv"))


@pytest.fixture
def report_inputs() -> Callable[..., dict]:
    """Inputs of the output stage: ``report_inputs("parallel", test_selection="auto")`` or
    ``report_inputs("single_arm")`` (study, roster, analysis, outcomes, descriptives,
    results, model_fits)."""

    def make(design: str = "parallel", **options) -> dict:
        return parallel_inputs(**options) if design == "parallel" else single_arm_inputs()

    return make
