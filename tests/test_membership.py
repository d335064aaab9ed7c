"""trialflow.membership.is_in: the same answers as pandas' isin, worked by hand."""

import numpy as np
import pandas as pd
import pytest

from trialflow.membership import is_in


@pytest.mark.parametrize(
    ("column", "values", "expected"),
    [
        # Arrow-backed text: ids 2 and 4 of 1..4 are looked for
        (pd.Series(["P1", "P2", "P3", "P4"]), pd.Series(["P4", "P2", "P9"]), [0, 1, 0, 1]),
        # a missing id matches a missing value looked for, as with isin
        (pd.Series(["a", None, "b"]), pd.Series([None, "a"]), [1, 1, 0]),
        (pd.Series(["a", None, "b"]), ["b"], [0, 0, 1]),
        # object columns and arrays
        (pd.Series(["a", "b"], dtype=object), np.array(["b"], dtype=object), [0, 1]),
        (pd.Series(["a", "b"]), {"a"}, [1, 0]),
        (pd.Series(["a", "b"]), [], [0, 0]),
        # not text: numbers are never equal to their spelling
        (pd.Series(["1", "2"]), [2], [0, 0]),
        (pd.Series([1, 2]), [2], [0, 1]),
        (pd.Series(["a", "b"], dtype="category"), ["a"], [1, 0]),
        (pd.Series(["a", 1], dtype=object), ["a"], [1, 0]),
    ],
)
def test_is_in_answers_as_worked_by_hand(column, values, expected):
    got = is_in(column, values)
    assert got.tolist() == [bool(e) for e in expected]
    assert (
        got.tolist() == column.isin(list(values) if isinstance(values, set) else values).tolist()
    )


def test_is_in_keeps_the_columns_index():
    column = pd.Series(["a", "b", "c"], index=[10, 20, 30])
    got = is_in(column, pd.Series(["c"], index=[0]))
    assert got.index.tolist() == [10, 20, 30]
    assert column.loc[got].tolist() == ["c"]


def test_is_in_on_an_index_gives_an_array_as_isin_does():
    index = pd.Index(["P1", "P2", "P3"])
    got = is_in(index, pd.Series(["P3", "P1"]))
    assert isinstance(got, np.ndarray)
    assert got.tolist() == [True, False, True] == index.isin(["P3", "P1"]).tolist()
