"""What a reader sees instead of a code: roster categories (``F`` -> Female, ``ne_asian`` ->
North-East Asian), covariance structures and analysis names.

Built-in defaults here; a study may override or add them with ``labels:`` in the config, a
mapping of variable (or ``covariance``, ``analysis``) to ``{code: label}``::

    labels:
      sex: {F: Women, M: Men}
      site: {"1": Ankara, "2": Izmir}

A code without a label is shown as it is.
"""

from __future__ import annotations

from collections.abc import Mapping

from trialflow.config import Study

__all__ = ["DEFAULT_LABELS", "label", "labels_for"]

DEFAULT_LABELS: dict[str, dict[str, str]] = {
    "sex": {"F": "Female", "M": "Male", "f": "Female", "m": "Male"},
    # GLI-2012 groups (trialflow.instruments.spirometry)
    "ethnicity": {
        "caucasian": "Caucasian",
        "african_american": "African American",
        "ne_asian": "North-East Asian",
        "se_asian": "South-East Asian",
        "other": "Other/mixed",
    },
    "analysis_set": {
        "full_analysis": "full analysis set",
        "per_protocol": "per-protocol set",
        "completers": "completers",
    },
}


def labels_for(variable: str, study: Study | None = None) -> dict[str, str]:
    """Every label of ``variable``: the built-in ones, then the study's ``labels:``."""
    found = dict(DEFAULT_LABELS.get(variable, {}))
    if variable == "covariance":  # the MMRM engine names its structures
        from trialflow.stats.mmrm.covariance import STRUCTURES
        from trialflow.stats.mmrm_analysis import covariance_label

        found = {name: covariance_label(name) for name in STRUCTURES}
    configured: Mapping[str, Mapping[str, str]] = getattr(study, "labels", None) or {}
    found.update({str(k): str(v) for k, v in configured.get(variable, {}).items()})
    return found


def label(variable: str, code: object, study: Study | None = None) -> str:
    """The label of ``code`` of ``variable`` (the code itself when it has none).

    Examples
    --------
    >>> label("sex", "F"), label("ethnicity", "ne_asian"), label("covariance", "ar1")
    ('Female', 'North-East Asian', 'first-order autoregressive (AR(1))')
    """
    text = "" if code is None else str(code)
    return labels_for(variable, study).get(text, text)
