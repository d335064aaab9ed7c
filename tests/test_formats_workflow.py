"""End to end: the default studies in the formats cohorts arrive in give the CSV run's
analysis dataset and results byte for byte, and ``trialflow init`` scaffolds configs that
run (issue 15).

Three workflow runs up to ``results.csv`` (not tables, figures or report), each holding both
default studies: the CSVs as shipped; the spine study in SPSS (value labels for arm and sex),
Stata, SAS transport, parquet and Excel (two sheets of one workbook) with the knee study as
a REDCap records export with a repeating event, a wide file and HSS categories coded in
SPSS; and the configs ``trialflow init`` writes for the two data folders.
"""

import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from helpers.formats import knee_as_redcap, spine_in_mixed_formats
from helpers.tiny_study import ROOT

from trialflow.config import studies_from_config
from trialflow.stage_config import resolved_study

STUDIES = ("spine_rct", "knee_sarcopenia")
TARGETS = [f"results/{s}/tables/results.csv" for s in STUDIES]


def run_to_results(workdir, snakemake_run, studies=STUDIES):
    targets = [f"results/{s}/tables/results.csv" for s in studies]
    run = snakemake_run(workdir, *targets)
    assert run.returncode == 0, run.stderr[-5000:]


@pytest.fixture(scope="module")
def csv_run(tmp_path_factory, snakemake_run):
    workdir = tmp_path_factory.mktemp("csv")
    shutil.copytree(ROOT / "data" / "raw", workdir / "data" / "raw")
    shutil.copy(ROOT / "config.yaml", workdir / "config.yaml")
    run_to_results(workdir, snakemake_run)
    return workdir


@pytest.fixture(scope="module")
def formats_run(tmp_path_factory, snakemake_run):
    workdir = tmp_path_factory.mktemp("formats")
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    spine, knee = config["studies"]["spine_rct"], config["studies"]["knee_sarcopenia"]
    raw = ROOT / "data" / "raw"
    spine.update(spine_in_mixed_formats(raw / "spine_rct", workdir / "spine"))
    knee.update(knee_as_redcap(raw / "knee_sarcopenia", workdir / "knee", knee))
    for study in (spine, knee):
        study["data_dir"] = str((workdir / study["data_dir"]).relative_to(workdir))
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    run_to_results(workdir, snakemake_run)
    return workdir


@pytest.mark.slow
@pytest.mark.parametrize("study", STUDIES)
def test_other_formats_give_byte_identical_analysis_data_and_results(csv_run, formats_run, study):
    for path in (
        f"data/processed/{study}/analysis.parquet",
        f"results/{study}/tables/results.csv",
    ):
        assert (formats_run / path).read_bytes() == (csv_run / path).read_bytes(), path
    files = sorted(p.name for p in (formats_run / study.split("_")[0]).iterdir())
    expected = {
        "spine_rct": [
            "back_extensor.dta",
            "endurance.xpt",
            "mobility.parquet",
            "participants.sav",
            "questionnaires.xlsx",
            "spirometry.xlsx",
        ],
        "knee_sarcopenia": ["hss.sav", "knee_wide.csv", "participants.csv", "redcap_export.csv"],
    }
    assert files == expected[study]


@pytest.mark.slow
def test_the_quality_table_and_hashes_name_the_files_read(csv_run, formats_run):
    from trialflow.provenance import input_records

    config = yaml.safe_load((formats_run / "config.yaml").read_text())
    validated = formats_run / "data/processed/spine_rct/validated"
    sf36 = pd.read_parquet(validated / "sf36.parquet")
    assert sf36["source_file"].unique().tolist() == ["spine/questionnaires.xlsx"]
    assert sf36["source_row"].tolist()[:3] == [2, 3, 4]  # sheet rows under the header
    roster = pd.read_parquet(validated / "participants.parquet")
    assert roster["source_row"].tolist()[:3] == [1, 2, 3]  # SPSS record numbers
    assert set(roster["arm"]) == {"control", "exercise"}  # value labels of the codes
    quality = pd.read_csv(formats_run / "results/knee_sarcopenia/tables/data_quality.csv")
    counts = quality[quality["finding"].isna()]
    assert set(counts["instrument"]) == set(config["studies"]["knee_sarcopenia"]["instruments"])
    csv = pd.read_csv(csv_run / "results/knee_sarcopenia/tables/data_quality.csv")
    csv = csv[csv["finding"].isna()]
    same = ["instrument", "visit", "rows", "columns", "blank_cells", "rows_with_blanks"]
    # the same rows and cells as from the CSVs (only the number of files differs: the TUG
    # folder of one CSV per participant is one REDCap export)
    pd.testing.assert_frame_equal(counts[same], csv[same])
    studies = studies_from_config(config)
    here = os.getcwd()
    os.chdir(formats_run)
    try:
        hashed = set(input_records(studies["knee_sarcopenia"]))
    finally:
        os.chdir(here)
    assert hashed == {
        "knee/hss.sav",
        "knee/knee_wide.csv",
        "knee/participants.csv",
        "knee/redcap_export.csv",
    }


# ------------------------------------------------------------------------ trialflow init


def init_config(data_dir: str, study: str, cwd) -> str:
    command = [sys.executable, "-m", "trialflow", "init", data_dir, "--study", study]
    run = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return run.stdout


@pytest.fixture(scope="module")
def init_run(tmp_path_factory, snakemake_run):
    workdir = tmp_path_factory.mktemp("init")
    shutil.copytree(ROOT / "data" / "raw", workdir / "data" / "raw")
    studies = {}
    for study in STUDIES:
        text = init_config(f"data/raw/{study}", study, workdir)
        studies.update(yaml.safe_load(text)["studies"])
        (workdir / f"{study}.yaml").write_text(text)
    (workdir / "config.yaml").write_text(yaml.safe_dump({"studies": studies}, sort_keys=False))
    run_to_results(workdir, snakemake_run)
    return workdir


def differences(scaffold: dict, written: dict) -> list[str]:
    """What the scaffolded study leaves to the user, compared with the hand-written one:
    instruments matched by type, every resolved key compared."""
    ours = resolved_study(studies_from_config({"studies": {"s": scaffold}})["s"])
    theirs = resolved_study(studies_from_config({"studies": {"s": written}})["s"])
    found = []
    by_type = {spec["type"]: key for key, spec in ours["instruments"].items()}
    for key, spec in theirs["instruments"].items():
        mine = by_type[spec["type"]]
        if mine != key:
            found.append(f"instrument id: {mine} (written: {key})")
        for field in sorted(set(spec) | set(ours["instruments"][mine])):
            if field != "file" and spec.get(field) != ours["instruments"][mine].get(field):
                found.append(f"instruments.{key}.{field}")
    if list(by_type) != [s["type"] for s in theirs["instruments"].values()]:
        found.append("instrument order")
    for field in ("title", "simulated", "design", "arms", "visits", "covariates", "analysis"):
        if ours[field] != theirs[field]:
            found.append(field)
    return found


@pytest.mark.slow
def test_init_configs_validate_run_and_recognise_the_questionnaires(init_run):
    config = yaml.safe_load((init_run / "config.yaml").read_text())
    check = subprocess.run(
        [sys.executable, "-m", "trialflow", "check-config", "config.yaml"],
        cwd=init_run,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout
    types = {
        s: {k: v["type"] for k, v in config["studies"][s]["instruments"].items()} for s in STUDIES
    }
    assert types["spine_rct"] == {
        "back_extensor": "back_extensor",
        "loaded_standing": "loaded_standing",
        "qualeffo41": "qualeffo41",
        "sf36": "sf36",
        "spinal_mobility": "spinal_mobility",
        "spirometry": "spirometry",
    }
    assert types["knee_sarcopenia"]["hads"] == "hads"
    assert config["studies"]["knee_sarcopenia"]["instruments"]["hads"]["options"] == {
        "coding": "score"
    }
    assert set(types["knee_sarcopenia"].values()) == {
        "gait_speed",
        "hads",
        "hss",
        "knee_rom",
        "proprioception",
        "quadriceps",
        "tug",
        "vas_pain",
    }
    results = pd.read_csv(init_run / "results/spine_rct/tables/results.csv")
    assert {"sf36_pcs", "qualeffo41_total", "loaded_standing_time"} <= set(results["outcome"])
    assert "TODO" in (init_run / "spine_rct.yaml").read_text()


@pytest.mark.slow
def test_init_lists_what_differs_from_the_hand_written_config(init_run):
    config = yaml.safe_load((init_run / "config.yaml").read_text())
    written = yaml.safe_load((ROOT / "config.yaml").read_text())["studies"]
    # what a user still has to edit: ids, labels, the title, simulated, covariates, MIDs;
    # the instruments' types, options and directions, the design and the visit schedule
    # (ids, weeks, roles) are recognised
    assert differences(config["studies"]["spine_rct"], written["spine_rct"]) == [
        "instrument id: loaded_standing (written: endurance)",
        "instrument id: spinal_mobility (written: mobility)",
        "instrument order",
        "title",
        "simulated",
        "arms",
        "covariates",
        "analysis",
    ]
    assert differences(config["studies"]["knee_sarcopenia"], written["knee_sarcopenia"]) == [
        "instrument id: knee_rom (written: knee)",
        "instrument id: vas_pain (written: pain)",
        "instrument id: gait_speed (written: gait)",
        "instrument order",
        "title",
        "simulated",
        "arms",
        "visits",
        "analysis",
    ]


def test_init_never_overwrites_and_prints_without_out(tmp_path):
    target = tmp_path / "my.yaml"
    target.write_text("keep me\n")
    command = [sys.executable, "-m", "trialflow", "init", str(ROOT / "data/raw/spine_rct")]
    run = subprocess.run(
        [*command, "--study", "s", "--out", str(target)], capture_output=True, text=True
    )
    assert run.returncode == 1
    assert "init never overwrites a config" in run.stderr
    assert target.read_text() == "keep me\n"
    printed = subprocess.run(
        [*command, "--study", "s"], cwd=tmp_path, capture_output=True, text=True
    )
    assert printed.returncode == 0, printed.stderr
    assert yaml.safe_load(printed.stdout)["studies"]["s"]["design"] == "parallel"
    assert printed.stdout.startswith("# Scaffolded by `trialflow init`")
