"""The part of a study's configuration each workflow stage reads, as canonical JSON.

Snakemake reruns a job when its ``params`` change, comparing their text forms, and silently
ignores a value it cannot represent (a dataclass, say). So every rule receives, as a
``params:`` string, exactly the resolved slice of the study config its stage depends on,
and its script rebuilds the :class:`~trialflow.config.Study` from that string alone. An edit
then reruns exactly the stages that read the edited key, and a reordering of YAML keys, or
spelling out a default, reruns nothing.

The slices, from :data:`STAGE_KEYS`:

* ``validate`` reads where the files are and what they must contain: the design, data
  directory, arm and visit ids, instruments (with their resolved options) and covariates;
* ``score``, ``assemble``, ``describe`` read less of the same;
* ``analyse`` adds the ``analysis`` section (the analysis plan) and ``flow`` (the screening
  counts of ``participant_flow.csv``);
* ``export`` (the analysis dataset for reviewers) reads the arms and visits with labels;
* ``report`` (tables, figures, report, provenance) reads the whole study, the ``figures``
  section (formats, resolution, trajectory sample) included: the tables' footnote quotes the
  SHA-256 of the whole resolved config, so every config edit reaches them.

Labels reach only the ``report`` and ``export`` slices, the title and the ``simulated`` flag
only the ``report`` slice; in the others
an arm or visit label is replaced by its id and the title by the study id, and a section a
stage does not receive is a :class:`MissingSection` that raises when read, so a stage that
starts to depend on an unsliced key fails loudly instead of using a default.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from trialflow import instruments
from trialflow.config import Study, missing_code_list, study_from_mapping

#: top-level study keys each stage reads; ``report`` (figures, report, provenance) reads
#: everything
STAGE_KEYS: dict[str, tuple[str, ...]] = {
    "validate": (
        "design",
        "data_dir",
        "arms",
        "visits",
        "instruments",
        "covariates",
        "missing_codes",
        "allow_columns",
        "allow_external_data",
        "roster",
        "csv",
    ),
    "score": ("design", "arms", "visits", "instruments"),
    "assemble": ("design", "arms", "visits", "covariates"),
    "describe": ("design", "arms", "visits"),
    "analyse": ("design", "arms", "visits", "covariates", "analysis", "flow"),
    "export": ("design", "arms", "visits"),
    # tables too: their footnote quotes the SHA-256 of the whole resolved config
    "report": (
        "title",
        "simulated",
        "design",
        "data_dir",
        "arms",
        "visits",
        "instruments",
        "covariates",
        "missing_codes",
        "allow_columns",
        "allow_external_data",
        "roster",
        "csv",
        "analysis",
        "table1",
        "tables",
        "flow",
        "labels",
        "figures",
    ),
}
STAGES = tuple(STAGE_KEYS)
#: stages that read arm and visit labels
LABELLED_STAGES = ("report", "export")

# Keys whose absence from a slice must not be replaced by a default.
_GUARDED = ("instruments", "analysis", "data_dir", "table1", "tables", "flow", "figures")


class MissingSection:
    """Stands in for a config section a job was not given; reading it is a bug."""

    def __init__(self, key: str):
        object.__setattr__(self, "_key", key)

    def _fail(self, *_: object) -> Any:
        raise AttributeError(
            f"config key '{self._key}' is not part of this job's params: "
            "add it to the stage's slice in trialflow.stage_config.STAGE_KEYS"
        )

    __getattr__ = _fail
    __iter__ = _fail
    __len__ = _fail
    __str__ = _fail
    __fspath__ = _fail

    def __repr__(self) -> str:
        return f"MissingSection({self._key!r})"


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no insignificant whitespace: equal values, equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _keep_order(config: Mapping[str, Any]) -> dict[str, Any]:
    """The mappings whose order means something (instruments and declared measures, the order
    of outcomes in every table; the flow's exclusion reasons, the order of the flow diagram)
    as lists, so :func:`canonical_json` does not sort them."""
    config = dict(config)
    if config.get("instruments") is not None:
        config["instruments"] = [
            {"id": key, **spec, **_measures_list(spec)}
            for key, spec in config["instruments"].items()
        ]
    if (config.get("flow") or {}).get("excluded"):
        excluded = [{"reason": k, "n": n} for k, n in config["flow"]["excluded"].items()]
        config["flow"] = {**config["flow"], "excluded": excluded}
    return config


def _measures_list(spec: Mapping[str, Any]) -> dict[str, Any]:
    if spec.get("measures") is None:
        return {}
    return {"measures": [{"column": k, **v} for k, v in spec["measures"].items()]}


def _restore_order(config: Mapping[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`_keep_order`."""
    config = dict(config)
    if config.get("instruments") is not None:
        instruments = {}
        for entry in config["instruments"]:
            spec = {k: v for k, v in entry.items() if k != "id"}
            if spec.get("measures") is not None:
                spec["measures"] = {
                    m["column"]: {k: v for k, v in m.items() if k != "column"}
                    for m in spec["measures"]
                }
            instruments[entry["id"]] = spec
        config["instruments"] = instruments
    if isinstance((config.get("flow") or {}).get("excluded"), list):
        excluded = {e["reason"]: e["n"] for e in config["flow"]["excluded"]}
        config["flow"] = {**config["flow"], "excluded": excluded}
    return config


def resolved_study(study: Study) -> dict[str, Any]:
    """The study as a config mapping with every default filled in.

    ``study_from_mapping(study.id, resolved_study(study))`` describes the same analysis, and
    the mapping is valid against the config schema, so it can be archived and rerun.
    """
    return {
        "title": study.title,
        "simulated": study.simulated,
        "design": study.design,
        "data_dir": study.data_dir,
        "arms": [{"id": arm.id, "label": arm.label} for arm in study.arms],
        "visits": [
            {"id": v.id, "label": v.label, "week": v.week, "role": v.role} for v in study.visits
        ],
        "instruments": {spec.id: _resolved_instrument(spec) for spec in study.instruments},
        "covariates": [
            {"name": name, "type": study.covariate_type(name)} for name in study.covariates
        ],
        "missing_codes": [_number(code) for code in study.missing_codes],
        "allow_columns": list(study.allow_columns),
        "allow_external_data": study.allow_external_data,
        "roster": {k: v for k, v in vars(study.roster).items() if v is not None},
        "csv": dict(vars(study.csv)),
        "analysis": _resolved_analysis(study),
        "table1": _resolved_table1(study),
        "tables": {"within_arm": study.tables.within_arm},
        "flow": _resolved_flow(study),
        "figures": {
            "formats": list(study.figures.formats),
            "dpi": study.figures.dpi,
            "trajectory_sample": study.figures.trajectory_sample,
            "seed": study.figures.seed,
        },
        "labels": {
            variable: dict(sorted(codes.items()))
            for variable, codes in sorted(study.labels.items())
        },
    }


def _resolved_analysis(study: Study) -> dict[str, Any]:
    analysis = study.analysis
    resolved: dict[str, Any] = {
        "test_selection": analysis.test_selection,
        "between_test": analysis.between_test,
        "alpha": analysis.alpha,
        "primary_visit": study.primary_visit.id,
        "exploratory_only": analysis.exploratory_only,
        "testing": analysis.testing,
        "key_secondary": [_resolved_planned(p) for p in analysis.key_secondary],
        "analysis_set": analysis.analysis_set,
        "sensitivity_sets": list(analysis.sensitivity_sets),
        "multiplicity": {
            "method": analysis.multiplicity.method,
            "family": analysis.multiplicity.family,
        },
        "minimal_important_difference": dict(
            sorted(analysis.minimal_important_difference.items())
        ),
        "responders": {
            "thresholds": {k: dict(v) for k, v in sorted(analysis.responders.thresholds.items())},
            "missing": analysis.responders.missing,
        },
        "mmrm": {
            "covariance": list(analysis.mmrm.covariance),
            "baseline_by_visit": analysis.mmrm.baseline_by_visit,
            "tolerance": analysis.mmrm.tolerance,
        },
    }
    if analysis.primary is not None:
        resolved["primary"] = _resolved_planned(analysis.primary)
    resolved["sensitivity"] = [_resolved_imputation(s) for s in analysis.sensitivity]
    tipping = analysis.tipping_point
    if tipping is not None:
        resolved["tipping_point"] = {
            **_resolved_imputation(tipping.analysis),
            "outcome": tipping.outcome,
            "arm": tipping.arm,
            "deltas": list(tipping.deltas),
        }
        resolved["tipping_point"].pop("outcomes", None)
    return resolved


def _resolved_imputation(entry) -> dict[str, Any]:
    """One imputation analysis with its defaults (reference arm, outcomes) filled in; the
    bootstrap's options only where they apply."""
    strategy = entry.strategy if isinstance(entry.strategy, str) else dict(entry.strategy)
    resolved: dict[str, Any] = {
        "method": entry.method,
        "strategy": strategy,
        "reference_arm": entry.reference_arm,
    }
    if entry.outcomes:
        resolved["outcomes"] = list(entry.outcomes)
    if entry.n_imputations is not None:
        resolved["n_imputations"] = entry.n_imputations
    if entry.seed is not None:
        resolved["seed"] = entry.seed
    return resolved


def _resolved_planned(planned) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "outcome": planned.outcome,
        "visit": planned.visit,
        "method": planned.method,
    }
    estimand = planned.estimand
    if estimand is not None:
        entry["estimand"] = {
            key: getattr(estimand, key)
            for key in ("population", "variable", "summary")
            if getattr(estimand, key) is not None
        }
        if estimand.intercurrent_events is not None:
            entry["estimand"]["intercurrent_events"] = [
                {"type": e.type, "strategy": e.strategy} for e in estimand.intercurrent_events
            ]
    return entry


def _resolved_table1(study: Study) -> dict[str, Any]:
    table1: dict[str, Any] = {"summary": dict(sorted(study.table1.summary.items()))}
    if study.table1.variables is not None:
        table1["variables"] = list(study.table1.variables)
    return table1


def _resolved_flow(study: Study) -> dict[str, Any]:
    flow: dict[str, Any] = {"excluded": dict(study.flow.excluded)}
    if study.flow.screened is not None:
        flow["screened"] = study.flow.screened
    return flow


def _number(value: float) -> int | float:
    """A number in one canonical form: ``999`` for 999.0, so equal codes give equal text."""
    return int(value) if float(value).is_integer() else float(value)


def _resolved_instrument(spec) -> dict[str, Any]:
    scorer = instruments.instrument(spec.type)
    options = scorer.resolve_options(spec.scorer_options())
    options.pop("measures", None)  # declared beside the options in the config
    if spec.missing_codes:  # an empty list and none mean the same: leave it out
        options["missing_codes"] = [_number(code) for code in spec.missing_codes]
    entry: dict[str, Any] = {"type": spec.type, "options": options}
    if spec.file:
        entry["file"] = spec.file
    if spec.sheet:
        entry["sheet"] = spec.sheet
    entry["layout"] = spec.layout
    entry["column_pattern"] = spec.column_pattern
    entry["id_column"] = spec.id_column
    entry["visit_map"] = resolved_visit_map(spec.visit_map)
    if spec.measures is not None:
        entry["measures"] = {k: _resolved_measure(v) for k, v in spec.measures.items()}
    return entry


def resolved_visit_map(keys) -> dict[str, Any]:
    """``visit_map`` entries (:class:`~trialflow.config.VisitKey`) as the config writes them."""
    mapping: dict[str, Any] = {}
    for key in keys:
        if key.instance is None:
            mapping[key.value] = key.visit
        else:
            mapping.setdefault(key.value, {})[str(key.instance)] = key.visit
    return mapping


def _resolved_measure(measure: Mapping[str, Any]) -> dict[str, Any]:
    measure = dict(measure)
    codes = measure.pop("missing_codes", None)
    if codes:
        measure["missing_codes"] = [_number(code) for code in missing_code_list(codes)]
    return measure


def study_slice(study: Study, stage: str) -> dict[str, Any]:
    """The resolved keys of ``study`` that ``stage`` reads (see :data:`STAGE_KEYS`)."""
    try:
        keys = STAGE_KEYS[stage]
    except KeyError:
        raise ValueError(f"unknown stage {stage!r}; known stages: {', '.join(STAGES)}") from None
    full = resolved_study(study)
    part = {key: full[key] for key in keys}
    if stage not in LABELLED_STAGES:  # labels are for readers: only their stages get them
        part["arms"] = [{"id": arm["id"]} for arm in part["arms"]]
        part["visits"] = [
            {key: v[key] for key in ("id", "week", "role")} for v in part.get("visits", [])
        ]
    return part


def stage_params(study: Study, stage: str) -> str:
    """The ``params:`` string of a stage's rule: :func:`study_slice` as canonical JSON."""
    config = _keep_order(study_slice(study, stage))
    return canonical_json({"id": study.id, "stage": stage, "config": config})


def study_from_params(text: str) -> Study:
    """Rebuild the :class:`Study` a job works on from its :func:`stage_params` string.

    Keys outside the stage's slice are :class:`MissingSection` objects (labels fall back to
    ids, the title to the study id).
    """
    params = json.loads(text)
    mapping = _restore_order(params["config"])
    mapping.setdefault("title", params["id"])
    for key in _GUARDED:
        mapping.setdefault(key, None)
    study = study_from_mapping(
        params["id"],
        {
            **mapping,
            "instruments": mapping["instruments"] or {},
            "analysis": mapping["analysis"] or {},
            "data_dir": mapping["data_dir"] or "",
        },
    )
    absent = {key: MissingSection(key) for key in _GUARDED if mapping[key] is None}
    return replace(study, **absent) if absent else study


def config_sha256(study: Study) -> str:
    """SHA-256 of the fully resolved study config (its canonical JSON, UTF-8)."""
    return mapping_sha256(resolved_study(study))


#: reading options (issue 15) left out of the config hash while they hold their defaults, so
#: that a config written before them keeps its hash (tables and archived provenance cite it)
_UNHASHED_DEFAULTS = {"roster": {}, "csv": {"encoding": "utf-8", "delimiter": ",", "decimal": "."}}
_UNHASHED_INSTRUMENT_DEFAULTS = {
    "layout": "long",
    "column_pattern": "{item}",
    "id_column": "participant_id",
    "visit_map": {},
}


def _hashed(mapping: Mapping[str, Any]) -> dict[str, Any]:
    hashed = {k: v for k, v in mapping.items() if _UNHASHED_DEFAULTS.get(k, ...) != v}
    if isinstance(mapping.get("instruments"), Mapping):
        hashed["instruments"] = {
            key: {k: v for k, v in spec.items() if _UNHASHED_INSTRUMENT_DEFAULTS.get(k, ...) != v}
            for key, spec in mapping["instruments"].items()
        }
    return hashed


def mapping_sha256(mapping: Mapping[str, Any]) -> str:
    """SHA-256 of a study config mapping in canonical form (order kept where it matters;
    reading options at their defaults left out)."""
    text = canonical_json(_keep_order(_hashed(mapping)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
