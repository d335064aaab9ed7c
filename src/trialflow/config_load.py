"""Reading and checking config files: every problem at once, as key path and sentence.

The workflow calls :func:`exit_on_config_problems` before Snakemake's own config handling
does anything with the config. Checks, in order, all reported together:

1. each config file is read with a strict YAML loader: a syntax error is named with its file,
   line and column; a key given twice in one mapping (a study pasted twice) is an error
   instead of the last copy silently winning;
2. the config is checked against ``workflow/schemas/config.schema.yaml``, and every schema
   error is turned into ``<key path>: <plain sentence>`` (not a JSON Schema dump);
3. the rules JSON Schema cannot express (:func:`trialflow.config.config_problems`), for
   every study the schema accepted.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from trialflow.config import config_problems
from trialflow.config_rules import did_you_mean

__all__ = [
    "check_config",
    "config_file_problems",
    "exit_on_config_problems",
    "load_yaml_strict",
    "schema_problems",
]


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that records every key given twice in one mapping."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[str, int, int]] = []

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            try:
                key = self.construct_object(key_node, deep=True)
                hash(key)
            except (TypeError, yaml.constructor.ConstructorError):
                continue  # the base constructor reports unhashable keys
            line = key_node.start_mark.line + 1
            if key in seen:
                self.duplicates.append((str(key), line, seen[key]))
            else:
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _StrictLoader.construct_mapping
)


def load_yaml_strict(path: str | Path) -> tuple[Any, list[str]]:
    """Load one YAML file; problems name the file and line.

    Returns
    -------
    data : object
        The parsed document (None when it could not be parsed).
    problems : list of str
        A syntax error with its line and column, every duplicated key, an unreadable file.
    """
    name = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except OSError as error:
        return None, [f"{name}: cannot be read ({error.strerror or error})"]
    except UnicodeDecodeError as error:
        line = Path(path).read_bytes().count(b"\n", 0, error.start) + 1
        return None, [f"{name}, line {line}: the file is not UTF-8 text (save it as UTF-8)"]
    loader = _StrictLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        return None, [_yaml_error(name, error)]
    except yaml.YAMLError as error:
        return None, [f"{name}: not valid YAML ({error})"]
    finally:
        loader.dispose()
    problems = [
        f"{name}, line {line}: the key '{key}' appears twice in the same mapping (first on "
        f"line {first}); remove one copy (YAML would silently keep the last)"
        for key, line, first in loader.duplicates
    ]
    return data, problems


def _yaml_error(name: str, error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    where = f"{name}, line {mark.line + 1}, column {mark.column + 1}" if mark else name
    what = error.problem or "not valid YAML"
    context = f" ({error.context}"
    if error.context_mark is not None and error.context_mark is not mark:
        context += f" on line {error.context_mark.line + 1}"
    context = context + ")" if error.context else ""
    hint = ""
    if "\\t" in what or "\t" in what:
        hint = "; indent with spaces, not tabs"
    elif "expected <block end>" in what or "mapping values are not allowed" in what:
        hint = "; check the indentation of this line and the one before, and the space after each colon"
    return f"{where}: YAML syntax error: {what}{context}{hint}"


def config_file_problems(paths: Iterable[str | Path]) -> tuple[dict[str, Any], list[str]]:
    """Load every config file strictly; later files replace earlier ones key by key.

    Returns the merged mapping (empty when a file could not be parsed) and the problems.
    """
    merged: dict[str, Any] = {}
    problems: list[str] = []
    for path in paths:
        data, found = load_yaml_strict(path)
        problems += found
        if data is None and not found:
            problems.append(f"{path}: the file is empty; it must hold a 'studies:' mapping")
        elif data is not None and not isinstance(data, Mapping):
            problems.append(f"{path}: the file must hold a mapping with 'studies:' at top level")
        elif isinstance(data, Mapping):
            merged.update(data)
    return merged, problems


# ------------------------------------------------------------------------------- the schema


def key_path(parts: Sequence[Any]) -> str:
    """``studies.spine_rct.arms[1].id`` from a JSON Schema error path."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


_TYPE_WORDS = {
    "object": "a mapping (key: value lines)",
    "array": "a list",
    "string": "a text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "nothing",
}


def _got(value: Any) -> str:
    if isinstance(value, bool):
        return f"got {str(value).lower()}"
    if isinstance(value, Mapping):
        return "got a mapping"
    if isinstance(value, list):
        return "got a list"
    if value is None:
        return "got nothing (an empty value)"
    return f"got {value!r}"


def _expected_type(expected: Any) -> str:
    kinds = expected if isinstance(expected, list) else [expected]
    return " or ".join(_TYPE_WORDS.get(k, k) for k in kinds)


def schema_errors(config: Any, schema: Mapping[str, Any]) -> list[jsonschema.ValidationError]:
    """JSON Schema errors of ``config``, in key order."""
    validator = jsonschema.Draft202012Validator(schema)
    return sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])


def schema_problems(config: Any, schema: Mapping[str, Any]) -> list[str]:
    """Every schema error of ``config`` as ``<key path>: <sentence>``, in key order."""
    problems = []
    for error in schema_errors(config, schema):
        problems += explain_schema_error(error)
    return list(dict.fromkeys(problems))


def explain_schema_error(error: jsonschema.ValidationError) -> list[str]:
    """One JSON Schema error as plain sentences, each starting with its key path."""
    explain = _EXPLAIN.get(error.validator)
    if explain is not None:
        found = explain(error, key_path(list(error.absolute_path)))
        if found is not None:
            return found
    return [f"{key_path(list(error.absolute_path))}: {error.message}"]


def _required(error, where):
    missing = [k for k in error.validator_value if k not in error.instance]
    why = ""
    if "then" in error.schema_path:
        why = " (an instrument of type measures declares its columns under measures)"
    return [f"{where}: the key '{k}' is required{why}" for k in missing]


def _additional(error, where):
    if error.validator_value is not False:
        return None
    known = list(error.schema.get("properties", {}))
    return [
        f"{key_path([*error.absolute_path, k])}: unknown key{did_you_mean(k, known)}; "
        f"the keys here are {', '.join(known)}"
        for k in error.instance
        if k not in known
    ]


def _enum(error, where):
    rule = error.validator_value
    return [
        f"{where}: {error.instance!r} is not one of {', '.join(map(str, rule))}"
        f"{did_you_mean(error.instance, rule)}"
    ]


_ID_RULE = "letters, digits and _, starting with a letter"


def _property_names(error, where):
    check = jsonschema.Draft202012Validator(error.validator_value)
    return [
        f"{key_path([*error.absolute_path, k])}: '{k}' is not a valid id ({_ID_RULE})"
        for k in error.instance
        if not check.is_valid(k)
    ]


def _baseline(error, where):
    count = sum(
        1 for v in error.instance if isinstance(v, Mapping) and v.get("role") == "baseline"
    )
    return [f"{where}: exactly one visit must have role baseline, found {count}"]


def _bound(word):
    def explain(error, where):
        return [f"{where}: must be {word} {error.validator_value:g}, {_got(error.instance)}"]

    return explain


def _not(error, where):
    if "else" not in error.schema_path:
        return None
    return [f"{where}.measures: only an instrument of type measures declares measures"]


def _one_of(error, where):
    # the alternative of the same kind as the value (a mapping for a mapping) says best
    same_kind = [e for e in error.context if e.validator != "type"]
    if same_kind:
        return explain_schema_error(jsonschema.exceptions.best_match(same_kind))
    described = error.schema.get("description")
    return [f"{where}: expected {described or 'another form'}, {_got(error.instance)}"]


def _min_items(error, where):
    rule = error.validator_value
    return [f"{where}: needs at least {rule} entr{'y' if rule == 1 else 'ies'}"]


_EXPLAIN = {
    "required": _required,
    "additionalProperties": _additional,
    "enum": _enum,
    "type": lambda e, w: [
        f"{w}: expected {_expected_type(e.validator_value)}, {_got(e.instance)}"
    ],
    "pattern": lambda e, w: [f"{w}: {e.instance!r} is not a valid id ({_ID_RULE})"],
    "propertyNames": _property_names,
    "minItems": _min_items,
    "minProperties": _min_items,
    "minLength": lambda e, w: [f"{w}: must not be empty"],
    "contains": _baseline,
    "minContains": _baseline,
    "maxContains": _baseline,
    "not": _not,
    "exclusiveMinimum": _bound("greater than"),
    "minimum": _bound("at least"),
    "exclusiveMaximum": _bound("less than"),
    "maximum": _bound("at most"),
    "oneOf": _one_of,
    "anyOf": _one_of,
}


# ---------------------------------------------------------------------------- all at once


def check_config(
    config: Mapping[str, Any] | None,
    schema: Mapping[str, Any],
    files: Sequence[str | Path] = (),
) -> list[str]:
    """Every problem of a config, as sentences that each name a file and line or a key path.

    Parameters
    ----------
    config : mapping, optional
        The config as Snakemake holds it; read from ``files`` when None or empty.
    schema : mapping
        The config schema (``workflow/schemas/config.schema.yaml``).
    files : sequence of path
        The config files the run reads, checked with the strict loader.
    """
    loaded, problems = config_file_problems(files)
    if any("YAML syntax error" in p or "cannot be read" in p for p in problems):
        return problems  # nothing further can be read from a file that does not parse
    config = dict(config) if config else loaded
    errors = schema_errors(config, schema)
    for error in errors:
        problems += explain_schema_error(error)
    paths = [list(e.absolute_path) for e in errors]
    if any(len(p) < 2 or p[0] != "studies" for p in paths):
        return list(dict.fromkeys(problems))  # no study can be read on its own
    invalid = {p[1] for p in paths}
    for sid, raw in config["studies"].items():
        try:
            problems += config_problems({"studies": {sid: raw}})
        except (KeyError, TypeError, AttributeError, ValueError, IndexError):
            # a rule that cannot read a study the schema rejected waits for the schema fix
            if sid not in invalid:
                raise
    return list(dict.fromkeys(problems))


def load_schema(path: str | Path) -> dict[str, Any]:
    """The config schema as a mapping (read at every Snakemake start: libyaml's parser when
    PyYAML has it, 10x faster)."""
    text = Path(path).read_text(encoding="utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def exit_on_config_problems(
    config: Mapping[str, Any] | None, schema_path: str | Path, files: Sequence[str | Path]
) -> None:
    """Print every config problem to stderr and exit 1, before Snakemake does anything.

    Exiting from the Snakefile shows exactly this message: no traceback, no Snakemake
    validation dump.
    """
    problems = check_config(config, load_schema(schema_path), files)
    if problems:
        lines = [f"trialflow: {len(problems)} config problem(s); nothing was run:"]
        lines += [f"  - {p}" for p in problems]
        print("\n".join(lines), file=sys.stderr)
        sys.exit(1)
