"""Values that used to pass silently or be echoed wrongly (issue 10, classes 1, 4 and 5):
declared missing codes, all-9s sentinels, non-finite numbers, typed covariates,
identifying roster columns; messages echo the cell as typed."""

import copy

import pandas as pd
import pytest

from trialflow.config import study_from_mapping
from trialflow.errors import InputError
from trialflow.validate import validate_inputs

BASE = {
    "title": "tiny",
    "design": "parallel",
    "data_dir": "raw",
    "arms": [{"id": "control"}, {"id": "exercise"}],
    "visits": [
        {"id": "baseline", "week": 0, "role": "baseline"},
        {"id": "week8", "week": 8, "role": "end_of_treatment"},
    ],
    "instruments": {
        "tug": {"type": "tug"},
        "grip": {
            "type": "measures",
            "measures": {
                "grip_kg": {"label": "Grip", "unit": "kg", "higher_is_better": True, "min": 0}
            },
        },
        "hads": {"type": "hads", "options": {"coding": "score"}},
    },
    "covariates": ["age"],
}
ROSTER = "participant_id,arm,age\nP1,control,61\nP2,exercise,58\nP3,exercise,63\n"
TUG = "participant_id,visit,time_s\nP1,baseline,10.5\nP1,week8,9.8\nP2,baseline,11\n"
GRIP = "participant_id,visit,grip_kg\nP1,baseline,20\nP2,baseline,22.5\n"
HADS = "participant_id,visit," + ",".join(f"q{i}" for i in range(1, 15)) + "\n"
HADS += "P1,baseline," + ",".join(["1"] * 14) + "\n"


@pytest.fixture
def study_dir(tmp_path, monkeypatch):
    """``write(**texts, **config edits)`` -> (Study, raw dir) in a working directory."""
    monkeypatch.chdir(tmp_path)

    def write(config=None, roster=ROSTER, tug=TUG, grip=GRIP, hads=HADS):
        raw = tmp_path / "raw"
        raw.mkdir(exist_ok=True)
        for name, text in {"participants": roster, "tug": tug, "grip": grip, "hads": hads}.items():
            (raw / f"{name}.csv").write_text(text)
        mapping = copy.deepcopy(BASE)
        mapping.update(config or {})
        return study_from_mapping("tiny", mapping), raw

    return write


def _problems(study):
    with pytest.raises(InputError) as caught:
        validate_inputs(study)
    return caught.value.problems


def _hashes(raw):
    from trialflow.provenance import sha256_file

    return {p.name: sha256_file(p) for p in raw.iterdir()}


def test_declared_missing_codes_become_blank_and_are_counted(study_dir):
    tug = TUG + "P3,baseline,-99\nP3,week8,999\nP2,week8,999.0\n"
    grip = GRIP + "P3,baseline,-1\n"  # the measure's own code
    study, raw = study_dir(
        {
            "missing_codes": [999, -99],
            "instruments": {
                **BASE["instruments"],
                "grip": {
                    "type": "measures",
                    "measures": {
                        "grip_kg": {
                            "label": "Grip",
                            "unit": "kg",
                            "higher_is_better": True,
                            "min": 0,
                            "missing_codes": [-1],
                        }
                    },
                },
            },
        },
        tug=tug,
        grip=grip,
    )
    before = _hashes(raw)
    validated = validate_inputs(study)
    tug_frame = validated.instruments["tug"]
    assert tug_frame["time_s"].isna().sum() == 3
    assert validated.instruments["grip"]["grip_kg"].isna().sum() == 1
    quality = validated.quality
    counts = quality[quality["finding"].isna()].set_index(["instrument", "visit"])
    assert counts.loc[("tug", "baseline"), "missing_code_cells"] == 1
    assert counts.loc[("tug", "week8"), "missing_code_cells"] == 2
    assert counts.loc[("grip", "baseline"), "missing_code_cells"] == 1
    found = quality[quality["finding"] == "missing_code"]
    assert found[["instrument", "visit", "column", "value", "count"]].values.tolist() == [
        ["tug", "baseline", "time_s", "-99", 1],
        ["tug", "week8", "time_s", "999", 2],
        ["grip", "baseline", "grip_kg", "-1", 1],
    ]
    assert _hashes(raw) == before  # raw data never modified


def test_instrument_option_missing_codes_apply_to_that_instrument_only(study_dir):
    tug = TUG + "P3,baseline,555\n"
    grip = GRIP + "P3,baseline,555\n"
    tug_spec = {"type": "tug", "options": {"missing_codes": [555]}}
    study, _ = study_dir(
        {"instruments": {**BASE["instruments"], "tug": tug_spec}}, tug=tug, grip=grip
    )
    validated = validate_inputs(study)
    assert validated.instruments["tug"]["time_s"].isna().sum() == 1
    assert validated.instruments["grip"]["grip_kg"].tolist()[-1] == 555.0  # not grip's code


def test_an_undeclared_all_nines_maximum_is_a_warning(study_dir):
    grip = GRIP + "P3,baseline,999\nP3,week8,999\n"  # no max: the range lets it through
    study, _ = study_dir(grip=grip)
    validated = validate_inputs(study)
    warning = validated.quality[validated.quality["finding"] == "possible_missing_code"]
    assert warning[["instrument", "column", "value", "count"]].values.tolist() == [
        ["grip", "grip_kg", "999", 2]
    ]
    assert warning["detail"].iloc[0].startswith("warning: 999, the largest value of grip_kg")
    assert validated.instruments["grip"]["grip_kg"].max() == 999.0  # analysed, but flagged


def test_a_nines_value_that_is_not_the_maximum_is_not_flagged(study_dir):
    study, _ = study_dir(grip=GRIP + "P3,baseline,99\nP3,week8,120\n")
    quality = validate_inputs(study).quality
    assert (quality["finding"] == "possible_missing_code").sum() == 0


@pytest.mark.parametrize("text", ["inf", "-inf", "Infinity", "1e999"])
def test_non_finite_numbers_are_input_errors_echoed_as_typed(study_dir, text):
    study, _ = study_dir(tug=TUG + f"P3,baseline,{text}\n")
    (problem,) = _problems(study)
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "raw/tug.csv",
        5,
        "time_s",
        text,
    )


def test_non_finite_covariate_is_an_input_error(study_dir):
    roster = (
        "participant_id,arm,age,bmi\nP1,control,61,24\nP2,exercise,58,inf\nP3,exercise,63,22\n"
    )
    study, _ = study_dir({"covariates": ["age", "bmi"]}, roster=roster)
    (problem,) = _problems(study)
    assert (problem.row, problem.column, problem.value) == (3, "bmi", "inf")


def test_nan_text_is_blank_not_a_number(study_dir):
    study, _ = study_dir(tug=TUG + "P3,baseline,nan\n")
    assert validate_inputs(study).instruments["tug"]["time_s"].isna().sum() == 1


def test_messages_echo_the_cell_as_typed_not_a_parsed_float(study_dir):
    hads = HADS + "P2,baseline," + ",".join(["1"] * 6 + ["7"] + ["1"] * 7) + "\n"
    tug = TUG.replace("P2,baseline,11", "P2,baseline,-5")
    study, _ = study_dir(tug=tug, hads=hads)
    found = {(p.column, p.value) for p in _problems(study)}
    assert found == {("q7", "7"), ("time_s", "-5")}  # not 7.0 and -5.0


def test_a_text_cell_in_a_numeric_covariate_is_an_input_error(study_dir):
    roster = (
        "participant_id,arm,age,bmi\nP1,control,61,24\nP2,exercise,58,n/a\nP3,exercise,63,22\n"
    )
    study, _ = study_dir({"covariates": ["age", "bmi"]}, roster=roster)
    (problem,) = _problems(study)
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "raw/participants.csv",
        3,
        "bmi",
        "n/a",
    )
    assert "the covariate 'bmi' is numeric" in problem.expected


def test_a_declared_categorical_covariate_stays_categories(study_dir):
    roster = "participant_id,arm,age,site\nP1,control,61,1\nP2,exercise,58,2\nP3,exercise,63,1\n"
    covariates = ["age", {"name": "site", "type": "categorical"}]
    study, _ = study_dir({"covariates": covariates}, roster=roster)
    assert study.covariates == ("age", "site")
    assert study.covariate_type("site") == "categorical"
    site = validate_inputs(study).participants["site"]
    assert not pd.api.types.is_numeric_dtype(site)
    assert site.tolist() == ["1", "2", "1"]  # a factor for the models, not a number


def test_identifying_roster_columns_are_refused(study_dir):
    roster = (
        "participant_id,arm,age,patient_name,DOB,e_mail\n"
        "P1,control,61,Ann Lee,1960-01-01,a@x.org\n"
        "P2,exercise,58,Bo Wu,1966-02-02,b@x.org\n"
        "P3,exercise,63,Cy Ro,1961-03-03,c@x.org\n"
    )
    study, _ = study_dir(roster=roster)
    problems = _problems(study)
    assert [(p.row, p.column) for p in problems] == [
        (1, "patient_name"),
        (1, "DOB"),
        (1, "e_mail"),
    ]
    assert "'patient_name' looks like a name" in problems[0].expected
    assert "allow_columns" in problems[0].expected
    study, _ = study_dir({"allow_columns": ["patient_name", "DOB", "e_mail"]}, roster=roster)
    assert "patient_name" in validate_inputs(study).participants.columns


def test_a_symlinked_folder_file_outside_the_working_directory_is_refused(
    study_dir, tmp_path_factory
):
    outside = tmp_path_factory.mktemp("elsewhere") / "K9.csv"
    outside.write_text("participant_id,visit,time_s\nP3,baseline,12\n")
    study, raw = study_dir()
    (raw / "tug.csv").unlink()
    (raw / "tug").mkdir()
    (raw / "tug" / "P1.csv").write_text(TUG)
    (raw / "tug" / "K9.csv").symlink_to(outside)
    (problem,) = _problems(study)
    assert problem.file == "raw/tug/K9.csv"
    assert "links to" in problem.expected and "allow_external_data" in problem.expected
    study, _ = study_dir({"allow_external_data": True})
    (raw / "tug.csv").unlink()
    assert len(validate_inputs(study).instruments["tug"]) == 4


def test_external_data_is_named_without_its_absolute_path_in_outputs(study_dir, tmp_path_factory):
    from trialflow.validate import with_output_labels

    outside = tmp_path_factory.mktemp("cohort")
    for name, text in {"participants": ROSTER, "tug": TUG, "grip": GRIP, "hads": HADS}.items():
        (outside / f"{name}.csv").write_text(text)
    (outside / "tug.csv").write_text(TUG + "P3,baseline,-99\n")
    study, _ = study_dir(
        {"data_dir": str(outside), "allow_external_data": True, "missing_codes": [-99]}
    )
    validated = with_output_labels(validate_inputs(study), study)
    assert set(validated.instruments["tug"]["source_file"]) == {"<data_dir>/tug.csv"}
    assert set(validated.participants["source_file"]) == {"<data_dir>/participants.csv"}
    files = validated.quality["file"].dropna()
    assert list(files) == ["<data_dir>/tug.csv"]
    assert not any(str(outside) in str(v) for v in validated.quality.to_numpy().ravel())


def test_an_upper_case_instrument_file_is_found(study_dir):
    study, raw = study_dir()
    (raw / "tug.csv").rename(raw / "TUG.CSV")
    assert len(validate_inputs(study).instruments["tug"]) == 3
