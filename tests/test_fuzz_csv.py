"""Property: whatever a CSV becomes (byte flips, deleted or duplicated cells, another
delimiter, another encoding), validation gives a clean result or an InputError listing
problems, never another exception, and never touches the raw file (issue 10)."""

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialflow.config import study_from_mapping
from trialflow.errors import InputError, InputProblem
from trialflow.validate import validate_inputs

STUDY = study_from_mapping(
    "fuzz",
    {
        "title": "fuzz",
        "design": "parallel",
        "data_dir": "raw",
        "arms": [{"id": "control"}, {"id": "exercise"}],
        "visits": [
            {"id": "baseline", "week": 0, "role": "baseline"},
            {"id": "week8", "week": 8, "role": "end_of_treatment"},
        ],
        "instruments": {"tug": {"type": "tug"}, "hads": {"type": "hads"}},
        "covariates": ["age", {"name": "site", "type": "categorical"}],
        "missing_codes": [999],
    },
)
ROSTER = (
    "participant_id,arm,age,site\n"
    "P1,control,61,A\nP2,exercise,58,B\nP3,exercise,63,A\nP4,control,70,B\n"
)
TUG = "participant_id,visit,time_s\nP1,baseline,10.5\nP1,week8,9.8\nP2,baseline,11\nP3,week8,999\n"
HADS = "participant_id,visit," + ",".join(f"q{i}" for i in range(1, 15)) + "\n"
HADS += "".join(
    f"{p},{v}," + ",".join(str((i + k) % 4) for i in range(14)) + "\n"
    for k, (p, v) in enumerate([("P1", "baseline"), ("P2", "baseline"), ("P1", "week8")])
)
FILES = {"participants.csv": ROSTER, "tug.csv": TUG, "hads.csv": HADS}


def _cells(text):
    return [line.split(",") for line in text.splitlines()]


def _join(rows, delimiter=","):
    return "\n".join(delimiter.join(row) for row in rows) + "\n"


@st.composite
def mutated(draw):
    """One file of the study, mutated one to three times, as bytes."""
    name = draw(st.sampled_from(sorted(FILES)))
    rows = _cells(FILES[name])
    delimiter, encoding = ",", "utf-8"
    flips = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(["flip", "delete", "duplicate", "replace", "delimiter", "encoding"])
        )
        r = draw(st.integers(0, len(rows) - 1))
        if kind in ("delete", "duplicate", "replace") and rows[r]:
            c = draw(st.integers(0, len(rows[r]) - 1))
            if kind == "delete":
                del rows[r][c]
            elif kind == "duplicate":
                rows[r].insert(c, rows[r][c])
            else:
                rows[r][c] = draw(
                    st.sampled_from(
                        [
                            "",
                            "inf",
                            "-inf",
                            "nan",
                            "NA",
                            "1e999",
                            "999",
                            '"',
                            "é",
                            "=1+1",
                            " ",
                            "x",
                        ]
                    )
                    | st.text(max_size=6)
                )
        elif kind == "delimiter":
            delimiter = draw(st.sampled_from([";", "\t", "|", ", "]))
        elif kind == "encoding":
            encoding = draw(st.sampled_from(["latin-1", "utf-16", "utf-8-sig", "cp1252"]))
        else:
            flips.append((draw(st.integers(0, 10_000)), draw(st.integers(0, 255))))
    data = _join(rows, delimiter).encode(encoding, errors="replace")
    data = bytearray(data)
    for position, byte in flips:
        data[position % len(data)] = byte
    return name, bytes(data)


@pytest.mark.slow
@settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=mutated())
def test_validation_gives_a_result_or_an_input_error_never_a_crash(tmp_path, monkeypatch, case):
    name, data = case
    monkeypatch.chdir(tmp_path)
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    for file, text in FILES.items():
        (raw / file).write_bytes(text.encode())
    (raw / name).write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    try:
        validated = validate_inputs(STUDY)
    except InputError as error:
        assert error.problems and all(isinstance(p, InputProblem) for p in error.problems)
        assert all(p.expected for p in error.problems)
        str(error)  # the message itself never fails
    else:
        assert set(validated.instruments) == {"tug", "hads"}
        assert not validated.quality.empty
    assert hashlib.sha256((raw / name).read_bytes()).hexdigest() == digest
