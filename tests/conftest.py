"""Fixtures shared by the test suite: studies and cohorts, and the reference data they use.

Factories and readers live in the ``tests/helpers`` package (``helpers.studies.make_study``,
``helpers.report_inputs``, ``helpers.reference``); test modules use these fixtures or import
from ``helpers``, never from one another.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers.reference import read_long, reference_file
from helpers.tiny_study import CONFIG, GRIP, PARTICIPANTS, TUG, run_snakemake, write_tiny_study

from trialflow.config import Study, studies_from_config

ROOT = Path(__file__).resolve().parents[1]


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


@pytest.fixture(scope="session")
def tiny_study():
    """``write_tiny_study(workdir)``: the tiny study's config and raw files into ``workdir``."""
    return write_tiny_study


@pytest.fixture(scope="session")
def snakemake_run():
    """``run_snakemake(workdir, *args)``: the workflow of this checkout on ``workdir``."""
    return run_snakemake


@pytest.fixture(scope="session")
def tiny_raw():
    """The tiny study's raw texts, for tests that edit one of them."""
    return {"config": CONFIG, "participants": PARTICIPANTS, "tug": TUG, "grip": dict(GRIP)}
