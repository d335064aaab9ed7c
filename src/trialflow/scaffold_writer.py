"""The text of a scaffolded config (:mod:`trialflow.scaffold`): YAML with comments and TODOs.

Written line by line, not dumped, so that every guess carries its comment beside it; the text
is parsed and checked against the schema and the config rules before it is returned.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["write_scaffold"]


def _q(text: str) -> str:
    """A YAML scalar: JSON quoting is valid YAML and safe for any text."""
    return json.dumps(str(text), ensure_ascii=False)


def write_scaffold(data_dir: str, study_id: str, roster, measured, unread=()) -> str:
    """The config text; ``roster``, ``measured`` (instrument tables) and ``unread`` (tables
    not recognised: named in a TODO) are :class:`trialflow.scaffold.Table`."""
    from trialflow.scaffold import _label, guess_visits

    arms = _arm_values(roster)
    visits = guess_visits(
        sorted({v for t in measured for v in t.frame["visit"].dropna().unique()})
    )
    design = "parallel" if len(arms) >= 2 else "single_arm"
    lines = [
        "# Scaffolded by `trialflow init`: review every TODO, then run",
        "#   trialflow check-config <this file>  and  snakemake --cores 4 --configfile <this file>",
        "studies:",
        f"  {study_id}:",
        f"    title: {_q('TODO: the title of ' + study_id)}",
        f"    design: {design}  # TODO: guessed from {len(arms)} arm value(s) in {roster.name}",
        f"    data_dir: {_q(data_dir)}",
    ]
    from trialflow.config_rules import is_inside

    if not is_inside(data_dir, Path.cwd()):
        lines.append("    allow_external_data: true  # TODO: the data folder is outside this one")
    if roster.stem != "participants" or roster.sheet:
        lines.append(f"    roster: {{file: {_q(roster.name)}}}")
    lines.append("    arms:  # TODO: the reference arm comes first")
    lines += [f"      - {{id: {a}, label: {_q(_label(a))}}}" for a in arms]
    lines.append("    visits:  # TODO: check the weeks and roles (guessed from the visit names)")
    for visit in visits:
        note = "  # TODO: week not in the name" if visit["week_guessed"] else ""
        lines.append(
            f"      - {{id: {visit['id']}, label: {_q(_label(visit['id']))}, "
            f"week: {visit['week']:g}, role: {visit['role']}}}{note}"
        )
    lines.append("    instruments:")
    for table in measured:
        lines += _instrument_lines(table)
    for table in unread:
        lines.append(f"      # TODO: {table.name} is not declared: {_why_unread(table)}")
    numeric = _numeric_roster_columns(roster)
    lines.append(
        "    covariates: []  # TODO: roster columns for the adjusted models"
        + (f", e.g. {', '.join(numeric)}" if numeric else "")
    )
    primary = next((v["id"] for v in visits if v["role"] == "end_of_treatment"), visits[-1]["id"])
    lines += [
        "    analysis:",
        f"      primary_visit: {primary}  # TODO: the visit of the primary comparison",
        "      test_selection: parametric  # TODO: or nonparametric; declared, never chosen from the data",
        "      multiplicity: {method: holm, family: primary_visit}",
    ]
    if design == "parallel":
        # the primary analysis is a decision of the plan, never a guess from the data
        lines += [
            "      # TODO: declare analysis.primary {outcome, visit, method} before the data",
            "      # are seen, then remove exploratory_only",
            "      exploratory_only: true",
        ]
    text = "\n".join(lines) + "\n"
    _check(text)
    return text


def _why_unread(table) -> str:
    if "redcap_event_name" in table.columns:
        return (
            "a REDCap export; declare each of its instruments with layout: redcap, "
            "id_column, column_pattern and visit_map (README, Input formats)"
        )
    return (
        "no participant_id and visit columns; a wide file? declare it with layout: wide, "
        "column_pattern and visit_map (README, Input formats)"
    )


def _arm_values(roster) -> list[str]:
    from trialflow.scaffold import _identifier, guess_arms

    if "arm" not in roster.columns:
        return ["all"]
    values = [str(v) for v in roster.frame["arm"].dropna().unique()]
    return guess_arms([v if _identifier(v) == v else _identifier(v) for v in values]) or ["all"]


def _numeric_roster_columns(roster) -> list[str]:
    from trialflow.scaffold import _numeric

    skip = {"participant_id", "arm", "height_cm", "weight_kg"}
    return [c for c in roster.columns if c not in skip and _numeric(roster.frame[c])]


def _instrument_lines(table) -> list[str]:
    from trialflow.scaffold import recognise

    kind, options, notes = recognise(table)
    lines = [f"      {table.stem}:"]
    lines.append(f"        type: {kind}" + (f"  # {'; '.join(notes)}" if notes else ""))
    default_name = (
        table.name.lower().startswith(table.stem + ".") or table.name == table.stem + "/"
    )
    if table.sheet is not None:
        lines.append(f"        file: {_q(table.name)}")
        lines.append(f"        sheet: {_q(table.sheet)}")
    elif not default_name:
        lines.append(f"        file: {_q(table.name)}")
    if options:
        lines.append(
            "        options: {" + ", ".join(f"{k}: {v}" for k, v in options.items()) + "}"
        )
    if kind == "measures":
        lines += _measure_lines(table)
    return lines


def _measure_lines(table) -> list[str]:
    from trialflow.scaffold import _label, _numeric, _unit

    lines = ["        measures:  # TODO: labels, units and directions are guesses"]
    skipped = []
    for column in table.columns:
        if column in ("participant_id", "visit"):
            continue
        if not _numeric(table.frame[column]):
            skipped.append(column)
            continue
        lines.append(
            f"          {column}: {{label: {_q(_label(column))}, unit: {_q(_unit(column))}, "
            "higher_is_better: true}  # TODO: is higher better?"
        )
    if len(lines) == 1:
        raise ValueError(f"{table.name}: no numeric column to analyse")
    if skipped:
        lines.append(
            f"          # TODO: not numeric, so not analysed: {', '.join(skipped)} (trialflow "
            "refuses unknown columns: remove them from the file)"
        )
    return lines


def _check(text: str) -> None:
    """The scaffold must be a valid config (schema and rules): a bug here, not a user error."""
    import yaml

    from trialflow.config import config_problems
    from trialflow.config_load import load_schema, schema_problems

    config = yaml.safe_load(text)
    schema = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"
    problems = schema_problems(config, load_schema(schema)) if schema.is_file() else []
    problems = problems or config_problems(config)
    if problems:
        raise RuntimeError("trialflow init wrote an invalid config:\n" + "\n".join(problems))
