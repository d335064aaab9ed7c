"""The input gate's validated files, taken by the validate job instead of validating twice."""

import yaml

from trialflow.config import studies_from_config
from trialflow.input_gate import study_problems
from trialflow.stage_config import stage_params, study_from_params
from trialflow.validate import validate_inputs, with_output_labels
from trialflow.validated_store import KEY_FILE, take_staged, write_validated


def _study(workdir, tiny_study, monkeypatch):
    tiny_study(workdir)
    monkeypatch.chdir(workdir)
    return studies_from_config(yaml.safe_load((workdir / "config.yaml").read_text()))["tiny"]


def _files(directory):
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_the_job_takes_the_gates_files_byte_for_byte(tmp_path, tiny_study, monkeypatch):
    study = _study(tmp_path, tiny_study, monkeypatch)
    assert study_problems(study, key="k1", staged=tmp_path / "staged") == []
    assert (tmp_path / "staged" / "tiny" / KEY_FILE).read_text() == "k1"

    took = take_staged(
        "tiny", "k1", tmp_path / "taken", tmp_path / "taken.csv", tmp_path / "staged"
    )
    assert took
    # what the job writes when it validates for itself, from its own config slice
    job_study = study_from_params(stage_params(study, "validate"))
    validated = with_output_labels(validate_inputs(job_study), job_study)
    write_validated(validated, tmp_path / "own", tmp_path / "own.csv")
    assert _files(tmp_path / "taken") == _files(tmp_path / "own")
    assert set(_files(tmp_path / "own")) == {"participants.parquet", "tug.parquet", "grip.parquet"}
    assert (tmp_path / "taken.csv").read_bytes() == (tmp_path / "own.csv").read_bytes()
    # used once: the stage is gone
    assert not (tmp_path / "staged" / "tiny").exists()
    assert not take_staged(
        "tiny", "k1", tmp_path / "again", tmp_path / "a.csv", tmp_path / "staged"
    )


def test_files_staged_under_another_key_are_not_taken(tmp_path, tiny_study, monkeypatch):
    study = _study(tmp_path, tiny_study, monkeypatch)
    study_problems(study, key="old", staged=tmp_path / "staged")
    assert not take_staged(
        "tiny", "new", tmp_path / "out", tmp_path / "q.csv", tmp_path / "staged"
    )
    assert not (tmp_path / "out").exists()
    assert (tmp_path / "staged" / "tiny" / KEY_FILE).read_text() == "old"


def test_bad_inputs_are_not_staged(tmp_path, tiny_study, monkeypatch):
    study = _study(tmp_path, tiny_study, monkeypatch)
    tug = tmp_path / "raw" / "tiny" / "tug.csv"
    tug.write_text(tug.read_text().replace("U1,baseline,10", "U1,baseline,ten"))
    problems = study_problems(study, key="k", staged=tmp_path / "staged")
    assert [(p.column, p.row) for p in problems] == [("time_s", 2)]
    assert not (tmp_path / "staged").exists()
