"""Spirometry: GLI-2012 % predicted, z-score and LLN; VC and MIP passed through.

Reference values come from ``pyspiro.GLI_2012`` (pinned 1.0.0); the tests check it against
the published equations worked by hand. Roster columns ``age``, ``sex``, ``height_cm`` and
``ethnicity`` (blank or absent = caucasian) are read as extra columns of the item frame.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from trialflow.instruments._base import Instrument, item_row, outcome_row

GLI_PARAMETERS = ("fvc", "fev1", "fev1_fvc", "fef25_75")


def gli_2012_lms(
    parameter: str, sex: np.ndarray, age: np.ndarray, height_cm: np.ndarray, ethnicity: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GLI-2012 L, M, S for arrays of people (pyspiro codes for sex and ethnicity).

    Parameters
    ----------
    parameter : {"fvc", "fev1", "fev1_fvc", "fef25_75"}
    sex : array of int
        0 = female, 1 = male.
    age, height_cm : array of float
        Must lie within the GLI-2012 range (callers mask the rest).
    ethnicity : array of int
        1 Caucasian, 2 African American, 3 NE Asian, 4 SE Asian, 5 other/mixed.

    Returns
    -------
    tuple of numpy.ndarray
        L, M, S, one value per person.
    """
    from pyspiro import GLI_2012

    gli = _gli_2012()
    code = {
        "fvc": GLI_2012.Parameters.FVC,
        "fev1": GLI_2012.Parameters.FEV1,
        "fev1_fvc": GLI_2012.Parameters.FEV1FVC,
        "fef25_75": GLI_2012.Parameters.FEF25_75,
    }[parameter]
    # pyspiro's array twin of lms() (what its public compute() uses), bit for bit the same as
    # lms() person by person; compute() itself returns no L, M, S
    lms = gli._lms_arrays(
        np.asarray(sex, dtype=np.int64),
        np.asarray(age, dtype=float),
        np.asarray(height_cm, dtype=float),
        np.asarray(ethnicity, dtype=np.int64),
        code,
    )
    out_of_range = lms[3]  # callers mask ages outside the range; kept NaN all the same
    return tuple(np.where(out_of_range, np.nan, part) for part in lms[:3])


@cache
def _gli_2012():
    from pyspiro import GLI_2012

    return GLI_2012()


class Spirometry(Instrument):
    """Spirometry with GLI-2012 reference values."""

    name = "spirometry"
    roster = ("age", "sex", "height_cm", "ethnicity")

    def _item_rows(self, options: Mapping[str, Any]) -> list[dict[str, Any]]:
        definition = self.definition(options)
        feeds: dict[str, list[str]] = {}
        for parameter, spec in definition["parameters"].items():
            sources = spec.get("ratio_of") or [spec["column"]]
            scores = [parameter]
            if "gli" in spec:
                scores += [f"{parameter}_pct_pred", f"{parameter}_z", f"{parameter}_lln"]
            for column in sources:
                feeds.setdefault(column, []).extend(scores)
        return [
            item_row(
                column,
                kind="numeric",
                minimum=spec["min"],
                maximum=spec["max"],
                better="high",
                scales=feeds.get(column, ()),
            )
            for column, spec in definition["columns"].items()
        ]

    def _outcome_rows(self, options: Mapping[str, Any]) -> list[dict[str, Any]]:
        definition = self.definition(options)
        reference = definition["reference"]
        rows = []
        for parameter, spec in definition["parameters"].items():
            if "ratio_of" in spec:
                how = "as measured: " + " / ".join(spec["ratio_of"])
            elif "gli" in spec:
                how = "as measured"
            else:
                how = "as measured (not covered by GLI-2012)"
            rows.append(outcome_row(parameter, spec["label"], spec["unit"], True, how))
        for parameter in GLI_PARAMETERS:
            spec = definition["parameters"][parameter]
            label = spec["label"]
            rows += [
                outcome_row(
                    f"{parameter}_pct_pred",
                    f"{label}, % predicted",
                    "% predicted",
                    True,
                    reference,
                ),
                outcome_row(f"{parameter}_z", f"{label}, z-score", "z-score", True, reference),
                outcome_row(
                    f"{parameter}_lln",
                    f"{label}, lower limit of normal",
                    spec["unit"],
                    True,
                    reference,
                    analysed=False,
                ),
            ]
        return rows

    def _score(self, values: pd.DataFrame, options: Mapping[str, Any]) -> pd.DataFrame:
        definition = self.definition(options)
        out: dict[str, pd.Series] = {}
        measured: dict[str, pd.Series] = {}
        for parameter, spec in definition["parameters"].items():
            if "ratio_of" in spec:
                numerator, denominator = (values[c] for c in spec["ratio_of"])
                value = numerator / denominator.where(denominator > 0)
            else:
                value = values[spec["column"]].astype(float)
            measured[parameter] = value
            out[parameter] = value
        sex = values["sex"].map({str(k): v for k, v in definition["sex_codes"].items()})
        ethnicity = (
            values["ethnicity"]
            .where(values["ethnicity"].notna(), definition["default_ethnicity"])
            .map(definition["ethnicity_codes"])
        )
        age = values["age"].astype(float)
        height = values["height_cm"].astype(float)
        for parameter in GLI_PARAMETERS:
            low, high = definition["age_range"][parameter]
            y = measured[parameter]
            known = (
                sex.notna() & ethnicity.notna() & age.between(low, high) & (height > 0)
            ).to_numpy()
            lms = np.full((3, len(values)), np.nan)
            if known.any():
                lms[:, known] = gli_2012_lms(
                    parameter,
                    sex.to_numpy()[known].astype(int),
                    age.to_numpy()[known],
                    height.to_numpy()[known],
                    ethnicity.to_numpy()[known].astype(int),
                )
            l_, m_, s_ = (pd.Series(a, index=values.index) for a in lms)
            out[f"{parameter}_pct_pred"] = 100 * y / m_
            out[f"{parameter}_z"] = ((y / m_) ** l_ - 1) / (l_ * s_)
            out[f"{parameter}_lln"] = m_ * (1 - 1.645 * l_ * s_) ** (1 / l_)
        return pd.DataFrame(out, index=values.index)


INSTRUMENT = Spirometry()
