"""Reading a whole study's raw inputs: every file as read, then as validation reads it.

:func:`read_study_inputs` reads the roster and every instrument (any readable type, a sheet
of a workbook, a folder of CSVs) in the study's declared CSV dialect, and reports what is
wrong with where the files are; :func:`prepare_inputs` turns each into the long text frame
validation checks (:mod:`trialflow.layouts`), with the map that names problems by the file's
own cells (:mod:`trialflow.sources`).
"""

from __future__ import annotations

import os
from pathlib import Path

from trialflow.config import Study
from trialflow.errors import InputProblem
from trialflow.io import (
    ADVERSE_EVENTS,
    ROSTER_STEM,
    RawInput,
    raw_input_files,
    raw_input_paths,
    raw_input_sheets,
    read_raw_input,
    table_candidates,
)
from trialflow.layouts import Prepared, prepare_instrument, prepare_roster
from trialflow.rawcsv import Dialect

__all__ = ["prepare_inputs", "read_study_inputs"]


def _file_of(frame, fallback: str) -> str:
    return str(frame["source_file"].iloc[0]) if len(frame) else fallback


def read_study_inputs(study: Study) -> tuple[dict[str, RawInput], list[InputProblem]]:
    """Read the roster and every instrument of a study without raising.

    Returns every input as read (:class:`~trialflow.io.RawInput`, keyed ``participants`` and
    instrument ids) and the problems with where the files are: a file of an instrument
    folder that resolves (through a symlink) outside the working directory without
    ``allow_external_data``.
    """
    dialect = Dialect(study.csv.encoding, study.csv.delimiter, study.csv.decimal)
    sheets = raw_input_sheets(study)
    inputs = {
        name: read_raw_input(path, sheet=sheets.get(name), dialect=dialect)
        for name, path in raw_input_paths(study).items()
    }
    problems: list[InputProblem] = _ambiguous_names(study)
    if not study.allow_external_data:
        root = Path(os.path.realpath(Path.cwd()))
        folders: dict[Path, str] = {}  # each folder resolved once, not once per file
        for file in raw_input_files(study):
            if os.path.islink(file):
                target = Path(os.path.realpath(file))
            else:
                if file.parent not in folders:
                    folders[file.parent] = os.path.realpath(file.parent)
                target = Path(folders[file.parent], file.name)
            if target.exists() and not target.is_relative_to(root):
                problems.append(
                    InputProblem(
                        str(file),
                        None,
                        None,
                        None,
                        f"a file inside the working directory; it links to {target}, outside "
                        "it (set allow_external_data: true in the study to read it)",
                    )
                )
    return inputs, problems


def _ambiguous_names(study: Study) -> list[InputProblem]:
    """An input found by name that has files of two readable types (``hads.csv`` and
    ``hads.sav``): which one is meant must be declared."""
    data_dir = Path(study.data_dir)
    named = {} if study.roster.file else {"participants": (ROSTER_STEM, "roster.file")}
    named |= {s.id: (s.id, f"instruments.{s.id}.file") for s in study.instruments if not s.file}
    problems = []
    for stem, key in named.values():
        found = table_candidates(data_dir, stem)
        if len(found) > 1:
            names = ", ".join(p.name for p in found)
            expected = (
                f"one file named {stem}.<ext>; found {names} (trialflow reads {found[0].name}): "
                f"declare which one with {key} in the study config"
            )
            problems.append(InputProblem(str(data_dir), None, None, None, expected))
    return problems


def prepare_inputs(
    study: Study, inputs: dict[str, RawInput]
) -> tuple[dict[str, Prepared], list[InputProblem]]:
    """Every raw input as validation reads it (:mod:`trialflow.layouts`): long frames,
    value labels for text columns, the files' own user-missing codes blank."""
    prepared, problems = {}, []
    paths = raw_input_paths(study)
    for name, read in inputs.items():
        if read.frame is None:
            prepared[name] = Prepared(None, [], [], None)
            continue
        label = _file_of(read.frame, str(paths[name]))
        if name == ADVERSE_EVENTS:  # always adverse_events.csv: a plain long table
            prepared[name] = Prepared(read.frame, [], [], None)
            continue
        if name == "participants":
            result = prepare_roster(read.frame, read.cells, study, label)
        else:
            result = prepare_instrument(
                read.frame, read.cells, study.instrument(name), study, label
            )
        prepared[name] = result
        problems += result.source.locate(result.problems) if result.source else result.problems
    return prepared, problems
