"""The study configuration as typed, immutable objects.

The YAML is validated against ``workflow/schemas/config.schema.yaml`` at workflow start;
these classes turn one validated study mapping into objects that the pure functions take.
:func:`config_problems` checks what JSON Schema cannot express (cross-field rules, outcome
ids). The schema's enums and defaults are kept equal to the ``Literal`` types, the code's
registries and the dataclass defaults below by ``tests/test_config.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from trialflow.sensitivity_config import (
    SensitivityAnalysis,
    TippingPointOptions,
    sensitivity_from_mapping,
    tipping_point_from_mapping,
    with_defaults,
)

Design = Literal["parallel", "single_arm"]
VisitRole = Literal["baseline", "treatment", "end_of_treatment", "follow_up"]
TestSelection = Literal["auto", "parametric", "nonparametric"]
MultiplicityMethod = Literal["holm", "fdr_bh", "none"]
MultiplicityFamily = Literal["primary_visit", "all_visits", "per_outcome"]
CovariateType = Literal["numeric", "categorical"]
#: How a primary or key secondary hypothesis is analysed (``analysis.primary.method``).
PlannedMethod = Literal["ancova", "mmrm", "responder"]
TestingStrategy = Literal["fixed_sequence", "holm", "none"]
AnalysisSetName = Literal["full_analysis", "per_protocol", "completers"]
BetweenTest = Literal["welch", "student"]
#: Intercurrent-event strategies the config accepts; ``principal_stratum`` only to say that
#: it is not supported (:mod:`trialflow.plan_problems`).
IceStrategy = Literal[
    "treatment_policy", "hypothetical", "while_on_treatment", "composite", "principal_stratum"
]
ResponderMissing = Literal["non_responder", "exclude"]
Table1Summary = Literal["mean_sd", "median_iqr", "n_pct"]
#: The config key ``analysis.mmrm`` replaced (trialflow 0.2); read only to say so.
REPLACED_KEYS = {"mmrm_covariance": "mmrm.covariance"}
#: how an instrument's file is laid out (trialflow.layouts reshapes wide and REDCap to long)
Layout = Literal["long", "wide", "redcap"]
FigureFormat = Literal["png", "svg"]

#: Columns of the analysis data that trialflow makes itself: no covariate may take a name.
RESERVED_COLUMNS = ("participant_id", "arm", "visit", "week", "outcome", "value", "baseline")

#: Instrument options that validation reads (not passed to the scorer).
VALIDATION_OPTIONS = ("missing_codes",)


def missing_code_list(codes) -> tuple[float, ...]:
    """Declared missing codes as sorted unique floats (``999`` and ``999.0`` are one code)."""
    return tuple(sorted({float(code) for code in codes or ()}))


@dataclass(frozen=True)
class Arm:
    id: str
    label: str


@dataclass(frozen=True)
class Visit:
    id: str
    label: str
    week: float
    role: VisitRole


@dataclass(frozen=True)
class CsvDialect:
    """How a study's CSV files are written (``csv:``): declared, never guessed."""

    encoding: str = "utf-8"  # UTF-8 with or without a byte-order mark
    delimiter: str = ","
    decimal: str = "."


@dataclass(frozen=True)
class RosterSpec:
    """Where the roster is (``roster:``): default ``participants.<ext>`` found by name."""

    file: str | None = None
    sheet: str | None = None  # for a workbook


@dataclass(frozen=True)
class VisitKey:
    """One entry of an instrument's ``visit_map``: the value in the file (a visit token of a
    wide column name, a REDCap event name, a visit label) and, for a REDCap repeating event,
    the repeat instance, mapped to a visit id of the study."""

    value: str
    instance: int | None
    visit: str


@dataclass(frozen=True)
class InstrumentSpec:
    """One instrument a study uses: which scorer (``type``), where its file(s) are and how
    the file is laid out."""

    id: str
    type: str
    file: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    measures: Mapping[str, Mapping[str, Any]] | None = None  # only for type "measures"
    sheet: str | None = None  # the worksheet of a workbook
    layout: Layout = "long"
    #: the file's column for each item: ``{item}`` (long, REDCap: ``hads_{item}``), and for a
    #: wide layout also ``{visit}`` (``{item}_{visit}``)
    column_pattern: str = "{item}"
    id_column: str = "participant_id"
    visit_map: tuple[VisitKey, ...] = ()

    def path(self, data_dir: str | Path) -> Path:
        """The instrument's file (``<id>.<ext>`` of any readable format when not declared),
        or its directory of one-file-per-participant CSVs."""
        from trialflow.io import find_table  # io reads files; config only names them

        data_dir = Path(data_dir)
        if self.file:
            return data_dir / self.file
        single = find_table(data_dir, self.id)
        return (
            single if single.exists() or not (data_dir / self.id).is_dir() else data_dir / self.id
        )

    @property
    def missing_codes(self) -> tuple[float, ...]:
        """The instrument's own missing codes (option ``missing_codes``)."""
        return missing_code_list(self.options.get("missing_codes"))

    def column_missing_codes(self) -> dict[str, tuple[float, ...]]:
        """Missing codes declared for single columns (``measures.<column>.missing_codes``)."""
        return {
            column: missing_code_list(spec.get("missing_codes"))
            for column, spec in (self.measures or {}).items()
            if spec.get("missing_codes")
        }

    def scorer_options(self) -> dict[str, Any]:
        """Keyword arguments for :func:`trialflow.instruments.score`."""
        options = {k: v for k, v in self.options.items() if k not in VALIDATION_OPTIONS}
        if self.type == "measures":
            options["measures"] = {k: dict(v) for k, v in (self.measures or {}).items()}
        return options


@dataclass(frozen=True)
class Multiplicity:
    method: MultiplicityMethod = "holm"
    family: MultiplicityFamily = "primary_visit"  # comparisons sharing one adjustment (README)


@dataclass(frozen=True)
class IntercurrentEvent:
    """One intercurrent event of an estimand: the roster's ``ice_type`` and its strategy."""

    type: str
    strategy: IceStrategy


@dataclass(frozen=True)
class Estimand:
    """An estimand in ICH E9(R1) terms; a missing text is written by the Methods.

    ``intercurrent_events`` None means the default (every event: hypothetical strategy); a
    tuple lists every event type the roster may hold, with its strategy.
    """

    population: str | None = None
    variable: str | None = None
    intercurrent_events: tuple[IntercurrentEvent, ...] | None = None
    summary: str | None = None


@dataclass(frozen=True)
class PlannedAnalysis:
    """The primary or one key secondary analysis: outcome, visit, method and estimand."""

    outcome: str
    visit: str
    method: PlannedMethod
    estimand: Estimand | None = None


@dataclass(frozen=True)
class MMRMOptions:
    """``analysis.mmrm``: covariance structures tried in order, baseline x visit, tolerance."""

    covariance: tuple[str, ...] = ("unstructured", "toeplitz", "ar1", "compound_symmetry")
    baseline_by_visit: bool = False
    tolerance: float = 1e-8  # SAS's CONVH (trialflow.stats.mmrm.SAS_CONVH)


@dataclass(frozen=True)
class ResponderOptions:
    """``analysis.responders``: thresholds per outcome (``{mid: x}`` or
    ``{percent_improvement: y}``) and how a missing status counts."""

    thresholds: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    missing: ResponderMissing = "non_responder"


@dataclass(frozen=True)
class AnalysisOptions:
    test_selection: TestSelection = "parametric"
    alpha: float = 0.05
    primary_visit: str | None = None
    multiplicity: Multiplicity = field(default_factory=Multiplicity)
    minimal_important_difference: Mapping[str, float] = field(default_factory=dict)
    primary: PlannedAnalysis | None = None
    key_secondary: tuple[PlannedAnalysis, ...] = ()
    testing: TestingStrategy = "fixed_sequence"
    exploratory_only: bool = False
    analysis_set: AnalysisSetName = "full_analysis"
    sensitivity_sets: tuple[AnalysisSetName, ...] = ()
    between_test: BetweenTest = "welch"
    responders: ResponderOptions = field(default_factory=ResponderOptions)
    mmrm: MMRMOptions = field(default_factory=MMRMOptions)
    #: missing-data sensitivity analyses (:mod:`trialflow.sensitivity_config`)
    sensitivity: tuple[SensitivityAnalysis, ...] = ()
    tipping_point: TippingPointOptions | None = None

    @property
    def planned(self) -> tuple[PlannedAnalysis, ...]:
        """The confirmatory analyses in testing order: primary, then key secondary."""
        return (self.primary, *self.key_secondary) if self.primary else ()

    def responder_thresholds(self) -> dict[str, Mapping[str, float]]:
        """Responder threshold per outcome: ``responders.thresholds``, else the outcome's
        ``minimal_important_difference`` as an absolute threshold."""
        thresholds = {k: {"mid": float(v)} for k, v in self.minimal_important_difference.items()}
        thresholds.update({k: dict(v) for k, v in self.responders.thresholds.items()})
        return dict(sorted(thresholds.items()))


@dataclass(frozen=True)
class Table1Options:
    """``table1``: the variables of Table 1 in order (None: covariates and the instruments'
    roster fields) and a summary per variable."""

    variables: tuple[str, ...] | None = None
    summary: Mapping[str, Table1Summary] = field(default_factory=dict)


@dataclass(frozen=True)
class TablesOptions:
    """``tables``: ``within_arm`` writes the table of within-arm and baseline tests."""

    within_arm: bool = True


@dataclass(frozen=True)
class FlowOptions:
    """``flow``: screening counts the roster cannot know (CONSORT enrolment box)."""

    screened: int | None = None
    excluded: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class FigureOptions:
    """How figures are written: file formats, PNG resolution, and the trajectory sample.

    Trajectory plots draw the mean and CI from every participant and, behind them, the
    individual lines of at most ``trajectory_sample`` participants per arm, drawn at random
    with ``seed`` when an arm has more.
    """

    formats: tuple[FigureFormat, ...] = ("png",)
    dpi: int = 300
    trajectory_sample: int = 200
    seed: int = 1


@dataclass(frozen=True)
class Study:
    id: str
    title: str
    design: Design
    data_dir: str
    arms: tuple[Arm, ...]
    visits: tuple[Visit, ...]
    instruments: tuple[InstrumentSpec, ...]
    covariates: tuple[str, ...] = ()
    analysis: AnalysisOptions = field(default_factory=AnalysisOptions)
    simulated: bool = False
    table1: Table1Options = field(default_factory=Table1Options)
    tables: TablesOptions = field(default_factory=TablesOptions)
    flow: FlowOptions = field(default_factory=FlowOptions)
    #: covariate name -> numeric | categorical (every covariate, defaults filled in)
    covariate_types: Mapping[str, CovariateType] = field(default_factory=dict)
    #: values that mean "missing" in every numeric column of the study's files
    missing_codes: tuple[float, ...] = ()
    #: roster columns that look identifying but may stay (see trialflow.identifying)
    allow_columns: tuple[str, ...] = ()
    #: whether data_dir and instrument files may lie outside the working directory
    allow_external_data: bool = False
    #: where the roster is (default participants.<ext> in data_dir)
    roster: RosterSpec = field(default_factory=RosterSpec)
    #: encoding, delimiter and decimal mark of the study's CSV files
    csv: CsvDialect = field(default_factory=CsvDialect)
    figures: FigureOptions = field(default_factory=FigureOptions)
    #: ``labels:``: variable -> {code: label} for readers (see trialflow.labels)
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def reference_arm(self) -> Arm:
        return self.arms[0]

    @property
    def arm_ids(self) -> list[str]:
        return [arm.id for arm in self.arms]

    @property
    def visit_ids(self) -> list[str]:
        return [visit.id for visit in self.visits]

    @property
    def baseline(self) -> Visit:
        return next(visit for visit in self.visits if visit.role == "baseline")

    @property
    def post_baseline(self) -> list[Visit]:
        return [visit for visit in self.visits if visit.role != "baseline"]

    @property
    def end_of_treatment(self) -> Visit | None:
        return next((v for v in self.visits if v.role == "end_of_treatment"), None)

    @property
    def follow_up(self) -> Visit | None:
        return next((v for v in self.visits if v.role == "follow_up"), None)

    @property
    def primary_visit(self) -> Visit:
        """The visit of the exploratory family ``primary_visit``: ``analysis.primary_visit``,
        else the primary analysis's visit, else end of treatment, else the last visit."""
        wanted = self.analysis.primary_visit
        if wanted is None and self.analysis.primary is not None:
            wanted = self.analysis.primary.visit
        if wanted is not None:
            return next(v for v in self.visits if v.id == wanted)
        return self.end_of_treatment or self.visits[-1]

    @property
    def single_arm(self) -> bool:
        """Whether the study has one arm (within-arm changes are its analyses)."""
        return self.design == "single_arm" or len(self.arms) == 1

    def covariate_type(self, name: str) -> CovariateType:
        """How a covariate enters the models: declared, else :func:`default_covariate_type`."""
        return self.covariate_types.get(name) or default_covariate_type(name)

    def visit(self, visit_id: str) -> Visit:
        return next(v for v in self.visits if v.id == visit_id)

    def instrument(self, instrument_id: str) -> InstrumentSpec:
        return next(i for i in self.instruments if i.id == instrument_id)


def _estimand(raw: Mapping[str, Any] | None) -> Estimand | None:
    if raw is None:
        return None
    events = raw.get("intercurrent_events")
    return Estimand(
        population=raw.get("population"),
        variable=raw.get("variable"),
        intercurrent_events=None
        if events is None
        else tuple(IntercurrentEvent(e["type"], e["strategy"]) for e in events),
        summary=raw.get("summary"),
    )


def _planned(raw: Mapping[str, Any]) -> PlannedAnalysis:
    return PlannedAnalysis(
        outcome=raw["outcome"],
        visit=raw["visit"],
        method=raw["method"],
        estimand=_estimand(raw.get("estimand")),
    )


def _threshold(value: float | Mapping[str, float]) -> dict[str, float]:
    """A responder threshold as ``{mid: x}`` or ``{percent_improvement: y}``."""
    if isinstance(value, Mapping):
        return {k: float(v) for k, v in value.items()}
    return {"mid": float(value)}


def analysis_from_mapping(raw: Mapping[str, Any] | None) -> AnalysisOptions:
    """:class:`AnalysisOptions` from a validated ``analysis`` mapping.

    Raises
    ------
    ValueError
        For a key the plan replaced (``mmrm_covariance``), naming its new place.
    """
    analysis = dict(raw or {})
    for old, new in REPLACED_KEYS.items():
        if old in analysis:
            raise ValueError(f"analysis.{old} was replaced by analysis.{new}")
    multiplicity = Multiplicity(**(analysis.pop("multiplicity", None) or {}))
    mmrm = dict(analysis.pop("mmrm", None) or {})
    if "covariance" in mmrm:
        mmrm["covariance"] = tuple(mmrm["covariance"])
    responders = dict(analysis.pop("responders", None) or {})
    responders["thresholds"] = {
        k: _threshold(v) for k, v in (responders.get("thresholds") or {}).items()
    }
    primary = analysis.pop("primary", None)
    key_secondary = analysis.pop("key_secondary", None) or ()
    sensitivity = tuple(analysis.pop("sensitivity_sets", None) or ())
    imputations = sensitivity_from_mapping(analysis.pop("sensitivity", None))
    tipping = tipping_point_from_mapping(analysis.pop("tipping_point", None))
    return AnalysisOptions(
        multiplicity=multiplicity,
        mmrm=MMRMOptions(**mmrm),
        responders=ResponderOptions(**responders),
        primary=None if primary is None else _planned(primary),
        key_secondary=tuple(_planned(k) for k in key_secondary),
        sensitivity_sets=sensitivity,
        sensitivity=imputations,
        tipping_point=tipping,
        **analysis,
    )


def default_covariate_type(name: str) -> CovariateType:
    """A known roster column's own kind (``sex`` is categorical), else numeric."""
    from trialflow.roster import ROSTER_COLUMNS

    known = ROSTER_COLUMNS.get(name)
    return "categorical" if known is not None and known.kind == "categorical" else "numeric"


def covariate_entries(raw: Any) -> list[tuple[str, CovariateType]]:
    """``(name, type)`` of each entry of a ``covariates:`` list: a roster column name, or
    ``{name: <column>, type: numeric | categorical}``."""
    entries = []
    for entry in raw or ():
        if isinstance(entry, Mapping):
            name = str(entry["name"])
            entries.append((name, entry.get("type") or default_covariate_type(name)))
        else:
            entries.append((str(entry), default_covariate_type(str(entry))))
    return entries


def study_from_mapping(study_id: str, raw: Mapping[str, Any]) -> Study:
    """Build a :class:`Study` from one validated ``studies.<id>`` mapping of the config."""
    covariates = covariate_entries(raw.get("covariates"))
    table1 = dict(raw.get("table1") or {})
    if table1.get("variables") is not None:
        table1["variables"] = tuple(table1["variables"])
    flow = dict(raw.get("flow") or {})
    figures = dict(raw.get("figures") or {})
    if "formats" in figures:
        figures["formats"] = tuple(figures["formats"])
    analysis = analysis_from_mapping(raw.get("analysis"))
    arm_ids = [a["id"] for a in raw["arms"]]
    primary = analysis.primary.outcome if analysis.primary else None
    imputations, tipping = with_defaults(
        analysis.sensitivity, analysis.tipping_point, arm_ids, primary
    )
    analysis = replace(analysis, sensitivity=imputations, tipping_point=tipping)
    return Study(
        id=study_id,
        title=raw["title"],
        design=raw["design"],
        data_dir=raw["data_dir"],
        arms=tuple(Arm(id=a["id"], label=a.get("label", a["id"])) for a in raw["arms"]),
        visits=tuple(
            Visit(id=v["id"], label=v.get("label", v["id"]), week=float(v["week"]), role=v["role"])
            for v in raw["visits"]
        ),
        instruments=tuple(
            instrument_from_mapping(instrument_id, spec)
            for instrument_id, spec in raw["instruments"].items()
        ),
        covariates=tuple(name for name, _ in covariates),
        analysis=analysis,
        simulated=bool(raw.get("simulated", False)),
        table1=Table1Options(**table1),
        tables=TablesOptions(**(raw.get("tables") or {})),
        flow=FlowOptions(screened=flow.get("screened"), excluded=dict(flow.get("excluded") or {})),
        covariate_types=dict(covariates),
        missing_codes=missing_code_list(raw.get("missing_codes")),
        allow_columns=tuple(sorted(set(raw.get("allow_columns") or ()))),
        allow_external_data=bool(raw.get("allow_external_data", False)),
        roster=RosterSpec(**(raw.get("roster") or {})),
        csv=CsvDialect(**(raw.get("csv") or {})),
        figures=FigureOptions(**figures),
        labels={k: dict(v) for k, v in (raw.get("labels") or {}).items()},
    )


def instrument_from_mapping(instrument_id: str, spec: Mapping[str, Any]) -> InstrumentSpec:
    """Build an :class:`InstrumentSpec` from one validated ``instruments.<id>`` mapping."""
    defaults = InstrumentSpec(id=instrument_id, type=spec["type"])
    return InstrumentSpec(
        id=instrument_id,
        type=spec["type"],
        file=spec.get("file"),
        options=dict(spec.get("options") or {}),
        measures=spec.get("measures"),
        sheet=spec.get("sheet"),
        layout=spec.get("layout") or defaults.layout,
        column_pattern=spec.get("column_pattern") or defaults.column_pattern,
        id_column=spec.get("id_column") or defaults.id_column,
        visit_map=visit_keys(spec.get("visit_map")),
    )


def visit_keys(raw: Mapping[str, Any] | None) -> tuple[VisitKey, ...]:
    """``visit_map`` entries, in config order: ``{value: visit}``, or for a REDCap repeating
    event ``{event: {instance: visit}}``."""
    keys = []
    for value, target in (raw or {}).items():
        if isinstance(target, Mapping):
            keys += [VisitKey(str(value), int(n), str(v)) for n, v in target.items()]
        else:
            keys.append(VisitKey(str(value), None, str(target)))
    return tuple(keys)


def studies_from_config(config: Mapping[str, Any]) -> dict[str, Study]:
    """All studies of a validated config, keyed by id, in config order."""
    return {sid: study_from_mapping(sid, raw) for sid, raw in config["studies"].items()}


def config_problems(config: Mapping[str, Any]) -> list[str]:
    """Rules JSON Schema cannot express, each as ``<key path>: <what is wrong>``
    (:func:`trialflow.config_checks.config_problems`)."""
    from trialflow.config_checks import config_problems as problems

    return problems(config)


def study_outcome_ids(raw: Mapping[str, Any], analysed_only: bool = False) -> list[str]:
    """Outcome ids a study's instruments score: ``<instrument id>_<score>``, config order.

    Parameters
    ----------
    raw : mapping
        One validated ``studies.<id>`` mapping of the config.
    analysed_only : bool
        Leave out scores that are not analysed (reference values, bands, grades).
    """
    from trialflow import instruments  # scorers load their definition files: only when asked

    ids = []
    for instrument_id, spec in raw["instruments"].items():
        options = {
            k: v for k, v in (spec.get("options") or {}).items() if k not in VALIDATION_OPTIONS
        }
        if spec["type"] == "measures":
            options["measures"] = {k: dict(v) for k, v in (spec.get("measures") or {}).items()}
        table = instruments.outcomes(spec["type"], **options)
        if analysed_only:
            table = table.loc[table["analysed"].astype(bool)]
        ids += [f"{instrument_id}_{score}" for score in table["score"]]
    return ids
