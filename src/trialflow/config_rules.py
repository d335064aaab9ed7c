"""Config rules JSON Schema cannot express, added for bad-input handling (issue 10).

Each rule returns problems as ``<key path>: <plain sentence>`` (the format of
:func:`trialflow.config.config_problems`, which calls :func:`study_rule_problems`):

* instrument options: unknown names, values outside the allowed ones, a definition file
  that cannot be read, any other reason the scorer refuses them (config errors, not a
  ``ValueError`` from the validate job);
* the primary visit must come after baseline;
* minimal important differences only for outcomes that are analysed;
* covariates: named once; a declared type that contradicts a known roster column;
* paths: ``data_dir`` and instrument files inside the working directory, symlinks
  resolved, unless ``allow_external_data: true``;
* reading options (issue 15): readable file types, a sheet only for a workbook, a column
  pattern that fits the layout, a visit map onto the study's visits, a known encoding.
"""

from __future__ import annotations

import codecs
import difflib
import os
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trialflow.config import VALIDATION_OPTIONS, covariate_entries, default_covariate_type

__all__ = ["did_you_mean", "is_inside", "study_rule_problems"]


def study_rule_problems(
    key: str, raw: Mapping[str, Any], root: str | Path | None = None
) -> list[str]:
    """Every problem of one schema-valid study mapping found by the rules of this module.

    Parameters
    ----------
    key : str
        The study's key path, ``studies.<id>``.
    raw : mapping
        The study's config mapping.
    root : path, optional
        The working directory paths must stay in (default: the current directory).
    """
    problems: list[str] = []
    broken = []
    for instrument_id, spec in raw["instruments"].items():
        found = instrument_option_problems(f"{key}.instruments.{instrument_id}", spec)
        problems += found
        if found:
            broken.append(instrument_id)
    problems += primary_visit_problems(key, raw)
    problems += covariate_problems(key, raw)
    problems += mid_problems(key, raw, broken)
    problems += path_problems(key, raw, root)
    problems += reading_problems(key, raw)
    return problems


def did_you_mean(word: str, choices) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, else an empty string."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _listing(values) -> str:
    return ", ".join(str(v) for v in values)


def instrument_option_problems(key: str, spec: Mapping[str, Any]) -> list[str]:
    """Unknown or mistyped options of one instrument, each under its own key path."""
    from trialflow import instruments

    scorer = instruments.instrument(spec["type"])
    options = dict(spec.get("options") or {})
    allowed = {"definition": (None, None), **scorer.option_spec}
    known = sorted([*allowed, *VALIDATION_OPTIONS])
    problems = []
    for name in sorted(set(options) - set(known)):
        problems.append(
            f"{key}.options.{name}: {spec['type']} has no option '{name}'"
            f"{did_you_mean(name, known)}; its options are {_listing(known)}"
        )
    for name, (_, values) in allowed.items():
        if name in options and values is not None and options[name] not in values:
            problems.append(
                f"{key}.options.{name}: {options[name]!r} is not one of {_listing(values)}"
                f"{did_you_mean(options[name], values)}"
            )
    definition = options.get("definition")
    if definition is not None and not Path(str(definition)).is_file():
        problems.append(f"{key}.options.definition: the file '{definition}' does not exist")
    if problems:
        return problems
    scorer_options = {k: v for k, v in options.items() if k not in VALIDATION_OPTIONS}
    if spec["type"] == "measures":
        scorer_options["measures"] = {k: dict(v) for k, v in (spec.get("measures") or {}).items()}
    try:  # what only the scorer knows (a definition file's content, hss flexion bands)
        scorer.items(**scorer_options)
        scorer.outcomes(**scorer_options)
    except Exception as error:  # any refusal of the scorer is a config problem here
        return [f"{key}.options: {spec['type']} cannot use these options: {error}"]
    return _measure_problems(key, spec)


def _measure_problems(key: str, spec: Mapping[str, Any]) -> list[str]:
    problems = []
    for column, measure in (spec.get("measures") or {}).items():
        low, high = measure.get("min"), measure.get("max")
        if low is not None and high is not None and low > high:
            problems.append(
                f"{key}.measures.{column}: min ({low:g}) must not be above max ({high:g})"
            )
    return problems


def primary_visit_problems(key: str, raw: Mapping[str, Any]) -> list[str]:
    """The primary visit must be a visit after baseline (its change is what is tested)."""
    primary = (raw.get("analysis") or {}).get("primary_visit")
    roles = {v["id"]: v["role"] for v in raw["visits"]}
    if primary is not None and roles.get(primary) == "baseline":
        later = [v for v, role in roles.items() if role != "baseline"]
        return [
            f"{key}.analysis.primary_visit: '{primary}' is the baseline visit; the primary "
            f"visit is a visit after baseline, one of {_listing(later)}"
        ]
    return []


def mid_problems(key: str, raw: Mapping[str, Any], broken: list[str] | None = None) -> list[str]:
    """Minimal important differences for outcomes that are scored but never analysed (a band
    or a lower limit of normal: the MID would be silently ignored) and, when an instrument's
    options are wrong (``broken``), for no outcome of the other instruments (the check
    :func:`trialflow.config.config_problems` then leaves out)."""
    from trialflow import instruments

    mids = (raw.get("analysis") or {}).get("minimal_important_difference") or {}
    broken = list(broken or ())
    known, not_analysed = [], set()
    for instrument_id, spec in raw["instruments"].items():
        if instrument_id in broken:
            continue
        options = {
            k: v for k, v in (spec.get("options") or {}).items() if k not in VALIDATION_OPTIONS
        }
        if spec["type"] == "measures":
            options["measures"] = {k: dict(v) for k, v in (spec.get("measures") or {}).items()}
        table = instruments.outcomes(spec["type"], **options)
        known += [f"{instrument_id}_{s}" for s in table["score"]]
        not_analysed |= {f"{instrument_id}_{s}" for s in table.loc[~table["analysed"], "score"]}
    problems = [
        f"{key}.analysis.minimal_important_difference.{outcome}: this outcome is scored but "
        "not analysed (a category or reference value), so a MID for it would be ignored"
        for outcome in mids
        if outcome in not_analysed
    ]
    if broken:
        problems += [
            f"{key}.analysis.minimal_important_difference.{outcome}: no outcome of this study "
            f"has this id{did_you_mean(outcome, known)}"
            for outcome in mids
            if outcome not in known and not any(outcome.startswith(f"{b}_") for b in broken)
        ]
    return problems


def covariate_problems(key: str, raw: Mapping[str, Any]) -> list[str]:
    """Each covariate once; a declared type must match a known roster column's kind."""
    problems = []
    seen: set[str] = set()
    for i, (name, kind) in enumerate(covariate_entries(raw.get("covariates"))):
        if name in seen:
            problems.append(f"{key}.covariates[{i}]: '{name}' is listed more than once")
        seen.add(name)
        natural = default_covariate_type(name)
        if kind != natural and natural == "categorical":
            problems.append(
                f"{key}.covariates[{i}].type: '{name}' is a categorical roster column "
                f"(trialflow checks its values), so its type is categorical, not {kind}"
            )
    return problems


def is_inside(path: str | Path, root: str | Path) -> bool:
    """Whether ``path`` (symlinks resolved) lies in ``root`` (symlinks resolved)."""
    resolved = Path(os.path.realpath(Path(root, path)))
    return resolved.is_relative_to(Path(os.path.realpath(root)))


def path_problems(key: str, raw: Mapping[str, Any], root: str | Path | None = None) -> list[str]:
    """``data_dir`` and instrument ``file`` stay in the working directory unless
    ``allow_external_data: true`` (symlinks are resolved before the test)."""
    if raw.get("allow_external_data", False):
        return []
    root = Path.cwd() if root is None else Path(root)
    data_dir = Path(raw["data_dir"])
    hint = "; set allow_external_data: true in the study to read data from there"
    problems = []
    if not is_inside(data_dir, root):
        target = os.path.realpath(Path(root, data_dir))
        problems.append(
            f"{key}.data_dir: '{raw['data_dir']}' is outside the working directory "
            f"(it resolves to {target}){hint}"
        )
        return problems
    for instrument_id, spec in raw["instruments"].items():
        file = spec.get("file")
        if file and not is_inside(data_dir / file, root):
            target = os.path.realpath(Path(root, data_dir, file))
            problems.append(
                f"{key}.instruments.{instrument_id}.file: '{file}' is outside the working "
                f"directory (it resolves to {target}){hint}"
            )
    return problems


def reading_problems(key: str, raw: Mapping[str, Any]) -> list[str]:
    """How the files are read: a readable type, a sheet only for a workbook, a column
    pattern with ``{item}`` (and ``{visit}`` exactly for a wide layout), visit maps onto the
    study's visits (repeat instances only for REDCap), a known CSV encoding."""
    from trialflow.readers import TABLE_EXTENSIONS

    problems = []
    csv = raw.get("csv") or {}
    try:
        codecs.lookup(csv.get("encoding", "utf-8"))
    except LookupError:
        problems.append(
            f"{key}.csv.encoding: '{csv['encoding']}' is not an encoding Python knows "
            "(e.g. utf-8, cp1252, latin-1)"
        )
    if csv.get("delimiter", ",") == "," and csv.get("decimal", ".") == ",":
        problems.append(
            f"{key}.csv.decimal: a decimal comma needs another delimiter (csv.delimiter: ';')"
        )
    roster = raw.get("roster") or {}
    problems += _sheet_problems(f"{key}.roster", roster.get("file"), roster.get("sheet"))
    visit_ids = [v["id"] for v in raw["visits"]]
    for instrument_id, spec in raw["instruments"].items():
        at = f"{key}.instruments.{instrument_id}"
        file = spec.get("file")
        suffix = Path(str(file)).suffix.lower() if file else ""
        if suffix and suffix not in TABLE_EXTENSIONS:
            problems.append(
                f"{at}.file: '{file}' is not a readable type; trialflow reads "
                f"{_listing(TABLE_EXTENSIONS)} files and folders of .csv files"
            )
        problems += _sheet_problems(at, file, spec.get("sheet"))
        problems += _layout_problems(at, spec, visit_ids)
    return problems


def _sheet_problems(key: str, file, sheet) -> list[str]:
    if sheet and file and Path(str(file)).suffix.lower() != ".xlsx":
        return [f"{key}.sheet: a sheet is read from a workbook (.xlsx); '{file}' is not one"]
    return []


def _layout_problems(key: str, spec: Mapping[str, Any], visit_ids: list[str]) -> list[str]:
    layout = spec.get("layout", "long")
    pattern = spec.get("column_pattern", "{item}")
    problems = []
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None]
    except ValueError as error:
        return [f"{key}.column_pattern: '{pattern}' is not a valid pattern ({error})"]
    unknown = sorted(set(fields) - {"item", "visit"})
    if unknown or fields.count("item") != 1 or fields.count("visit") > 1:
        problems.append(
            f"{key}.column_pattern: '{pattern}' must hold {{item}} once (and, for a wide "
            f"layout, {{visit}} once) and no other field{'' if not unknown else ' than these'}"
        )
    elif layout == "wide" and "visit" not in fields:
        problems.append(
            f"{key}.column_pattern: a wide layout names each column by item and visit, e.g. "
            f"'{{item}}_{{visit}}'; '{pattern}' has no {{visit}}"
        )
    elif layout != "wide" and "visit" in fields:
        problems.append(
            f"{key}.column_pattern: only a wide layout has {{visit}} in its column names; "
            f"declare layout: wide, or remove {{visit}}"
        )
    for value, target in (spec.get("visit_map") or {}).items():
        targets = target.values() if isinstance(target, Mapping) else [target]
        if isinstance(target, Mapping) and layout != "redcap":
            problems.append(
                f"{key}.visit_map.{value}: repeat instances are mapped only in a REDCap "
                "export (layout: redcap)"
            )
        for visit in targets:
            if visit not in visit_ids:
                problems.append(
                    f"{key}.visit_map.{value}: '{visit}' is not one of the visits "
                    f"{_listing(visit_ids)}{did_you_mean(visit, visit_ids)}"
                )
    return problems
