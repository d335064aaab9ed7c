"""csv_text writes the bytes pandas' to_csv (and Python's csv module) write, column by column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialflow.csv_text import csv_text


def pandas_csv(frame: pd.DataFrame, header: bool = True) -> bytes:
    text = frame.to_csv(index=False, header=header, float_format="%.10g", lineterminator="\n")
    return text.encode("utf-8")


def test_hand_worked_cells():
    frame = pd.DataFrame(
        {
            "id": ["a", "b,c", 'say "hi"', None, "line\nbreak"],
            "week": [0, 8, 8, 12, 52],
            "value": [1 / 3, np.nan, -0.0, 0.0, 1e20],
            "flag": [True, False, True, True, False],
        }
    )
    expected = (
        "id,week,value,flag\n"
        "a,0,0.3333333333,True\n"
        '"b,c",8,,False\n'
        '"say ""hi""",8,-0,True\n'
        ",12,0,True\n"
        '"line\nbreak",52,1e+20,False\n'
    )
    assert csv_text(frame).decode("utf-8") == expected


def test_one_column_empty_cells_are_quoted():
    frame = pd.DataFrame({"note": ["", None, "x"]})
    assert csv_text(frame) == b'note\n""\n""\nx\n'
    assert csv_text(frame, header=False) == b'""\n""\nx\n'


def test_no_rows_is_the_header():
    frame = pd.DataFrame({"a": pd.Series([], dtype="float64"), "b,c": pd.Series([], dtype="str")})
    assert csv_text(frame) == b'a,"b,c"\n'


def test_text_column_concatenated_from_pieces():
    # pandas keeps the Arrow chunks of concatenated text: the cells arrive chunked
    text = pd.concat([pd.Series(["a", "b,c"], dtype="str"), pd.Series(["d"], dtype="str")])
    frame = pd.DataFrame({"id": text.reset_index(drop=True), "n": [1, 2, 3]})
    assert csv_text(frame) == b'id,n\na,1\n"b,c",2\nd,3\n' == pandas_csv(frame)


def test_nullable_integers_and_objects_that_are_not_text():
    frame = pd.DataFrame(
        {
            "n": pd.array([1, None, -3], dtype="Int64"),
            "mixed": np.array([1, "a", 2.5], dtype=object),  # left to pandas
            "when": pd.to_datetime(["2026-01-01", "2026-01-02", None]),
        }
    )
    assert csv_text(frame) == pandas_csv(frame)
    assert csv_text(frame[["n"]]) == b'n\n1\n""\n-3\n' == pandas_csv(frame[["n"]])


text = st.one_of(st.none(), st.text(alphabet=st.sampled_from('ab ,"\n\r\t;=-é0.'), max_size=6))
floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1 / 3, 0.1, 2.5, 1e-12, 123456789012.0]),
)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda n: st.tuples(
            st.lists(text, min_size=n, max_size=n),
            st.lists(floats, min_size=n, max_size=n),
            st.lists(st.integers(-(2**62), 2**62), min_size=n, max_size=n),
            st.lists(st.booleans(), min_size=n, max_size=n),
        )
    ),
    st.lists(st.sampled_from(["t", "f", "i", "b", "o"]), min_size=1, max_size=5),
    st.booleans(),
)
def test_same_bytes_as_pandas(columns, kinds, header):
    texts, numbers, integers, flags = columns
    made = {
        "t": lambda: pd.array(texts, dtype="str"),
        "f": lambda: np.array(numbers, dtype="float64"),
        "i": lambda: np.array(integers, dtype="int64"),
        "b": lambda: np.array(flags, dtype=bool),
        "o": lambda: np.array(texts, dtype=object),
    }
    frame = pd.DataFrame({f"{kind}{i}": made[kind]() for i, kind in enumerate(kinds)})
    assert csv_text(frame, header=header) == pandas_csv(frame, header=header)


@pytest.mark.parametrize(
    ("dtype", "values"),
    [
        ("float32", [0.1, None, 2.0]),
        ("Float64", [0.1, None, 2.0]),
        ("boolean", [False, None, True]),
        ("UInt64", [2**64 - 1, None, 0]),
    ],
)
def test_other_number_types(dtype, values):
    frame = pd.DataFrame({"x": pd.array(values, dtype=dtype), "y": "z"})
    assert csv_text(frame) == pandas_csv(frame)


def test_write_csv_slices_and_pieces_make_one_file(tmp_path, monkeypatch):
    from trialflow import io

    monkeypatch.setattr(io, "CSV_SLICE_ROWS", 2)
    frame = pd.DataFrame({"id": list("abcde"), "value": [0.5, np.nan, 1 / 7, -2.0, 1e-300]})
    io.write_csv(frame, tmp_path / "whole.csv")
    io.write_csv_chunks([frame.iloc[:3], frame.iloc[3:3], frame.iloc[3:]], tmp_path / "parts.csv")
    expected = pandas_csv(frame)
    assert (tmp_path / "whole.csv").read_bytes() == expected
    assert (tmp_path / "parts.csv").read_bytes() == expected
    io.write_csv(frame.iloc[:0], tmp_path / "empty.csv")
    assert (tmp_path / "empty.csv").read_bytes() == b"id,value\n"
