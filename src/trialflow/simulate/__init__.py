"""Seeded simulator of the default cohorts (``python -m trialflow.simulate``).

The pipeline ships two SIMULATED studies shaped like published trials (see
``/work/shared/reference/studies.md`` and ``data/raw/README.md``): ``spine_rct`` and
``knee_sarcopenia``. No real participant data is involved.

Examples
--------
>>> frames = simulate_study("spine_rct", seed=20250211)      # doctest: +SKIP
>>> write_study("spine_rct", frames, "data/raw/spine_rct")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd

from trialflow.simulate import knee, spine
from trialflow.simulate._core import csv_text


@dataclass(frozen=True)
class StudyDesign:
    """What the simulator knows about one default study.

    Attributes
    ----------
    name : str
    default_seed : int
    default_n : int
    arms, visits, instruments : tuple of str
        Arm ids, visit ids (time order) and instrument ids (= types, = file stems).
    directories : tuple of str
        Instruments written as a directory of one CSV per participant.
    """

    name: str
    default_seed: int
    default_n: int
    arms: tuple[str, ...]
    visits: tuple[str, ...]
    instruments: tuple[str, ...]
    directories: tuple[str, ...]
    module: ModuleType


STUDIES: dict[str, StudyDesign] = {
    module.STUDY: StudyDesign(
        name=module.STUDY,
        default_seed=module.DEFAULT_SEED,
        default_n=module.DEFAULT_N,
        arms=module.ARMS,
        visits=module.VISITS,
        instruments=module.INSTRUMENTS,
        directories=getattr(module, "DIRECTORIES", ()),
        module=module,
    )
    for module in (spine, knee)
}


def _design(name: str) -> StudyDesign:
    try:
        return STUDIES[name]
    except KeyError:
        raise ValueError(f"unknown study {name!r}; known: {', '.join(STUDIES)}") from None


def simulate_study(
    name: str, seed: int | None = None, n: int | None = None
) -> dict[str, pd.DataFrame]:
    """Simulate all raw files of one default study.

    Parameters
    ----------
    name : str
        ``"spine_rct"`` or ``"knee_sarcopenia"``.
    seed : int, optional
        Random seed; default the study's committed seed (``STUDIES[name].default_seed``).
    n : int, optional
        Number of participants (default 41 and 375); the design (arms, visits, dropout rate,
        effects) is kept, e.g. for scalability tests.

    Returns
    -------
    dict of str to DataFrame
        ``"participants"`` then one long frame per instrument id (``participant_id, visit``,
        then the instrument's columns), rows sorted by participant and visit. Item answers
        are nullable integers (or text codes), missing answers are NA.
    """
    design = _design(name)
    if n is not None and int(n) < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    return design.module.simulate(design.default_seed if seed is None else int(seed), n)


def _write_directory(frame: pd.DataFrame, formats: Mapping[str, int], folder: Path) -> list[Path]:
    """One CSV per participant, ``<folder>/<participant_id>.csv``, as devices export them."""
    folder.mkdir(exist_ok=True)
    # the reader concatenates every CSV of the folder: leftovers of a larger n would be read
    for stale in folder.glob("*.csv"):
        stale.unlink()
    frame = frame.sort_values("participant_id", kind="stable")
    header, *lines = csv_text(frame, formats).split("\n")[:-1]
    ids = frame["participant_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    written = []
    for start, end in zip(starts, ends, strict=True):
        path = folder / f"{ids[start]}.csv"
        path.write_text("\n".join([header, *lines[start:end], ""]), encoding="utf-8", newline="")
        written.append(path)
    return written


def write_study(name: str, frames: Mapping[str, pd.DataFrame], out: str | Path) -> list[Path]:
    """Write simulated frames as the raw CSV files of the input contract.

    Each frame goes to ``<out>/<key>.csv``; instruments in ``STUDIES[name].directories`` go to
    ``<out>/<key>/<participant_id>.csv`` instead (stale ``*.csv`` files there are removed
    first, because the reader concatenates every file of the directory).

    Parameters
    ----------
    name : str
        Study name (decides number formats and directory instruments).
    frames : mapping of str to DataFrame
        As returned by :func:`simulate_study`.
    out : str or Path
        The study's raw-data directory.

    Returns
    -------
    list of Path
        Files written, in writing order.
    """
    design = _design(name)
    decimals = design.module.DECIMALS
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for key, frame in frames.items():
        formats = decimals.get(key, {})
        if key in design.directories:
            written += _write_directory(frame, formats, out / key)
        else:
            path = out / f"{key}.csv"
            path.write_text(csv_text(frame, formats), encoding="utf-8", newline="")
            written.append(path)
    return written


__all__ = ["STUDIES", "StudyDesign", "simulate_study", "write_study"]
