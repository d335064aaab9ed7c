"""The study configuration as typed, immutable objects.

The YAML is validated against ``workflow/schemas/config.schema.yaml`` at workflow start;
these classes turn one validated study mapping into objects that the pure functions take.
:func:`config_problems` checks what JSON Schema cannot express (cross-field rules, outcome
ids). The schema's enums and defaults are kept equal to the ``Literal`` types, the code's
registries and the dataclass defaults below by ``tests/test_config.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Design = Literal["parallel", "single_arm"]
VisitRole = Literal["baseline", "treatment", "end_of_treatment", "follow_up"]
TestSelection = Literal["auto", "parametric", "nonparametric"]
MultiplicityMethod = Literal["holm", "fdr_bh", "none"]
MultiplicityFamily = Literal["primary_visit", "all_visits", "per_outcome"]
FigureFormat = Literal["png", "svg"]

#: Columns of the analysis data that trialflow makes itself: no covariate may take a name.
RESERVED_COLUMNS = ("participant_id", "arm", "visit", "week", "outcome", "value", "baseline")


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
class InstrumentSpec:
    """One instrument a study uses: which scorer (``type``) and where its CSV(s) are."""

    id: str
    type: str
    file: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    measures: Mapping[str, Mapping[str, Any]] | None = None  # only for type "measures"

    def path(self, data_dir: str | Path) -> Path:
        """The CSV file, or the directory of one-file-per-participant CSVs, for this instrument."""
        data_dir = Path(data_dir)
        if self.file:
            return data_dir / self.file
        single = data_dir / f"{self.id}.csv"
        return (
            single if single.exists() or not (data_dir / self.id).is_dir() else data_dir / self.id
        )

    def scorer_options(self) -> dict[str, Any]:
        """Keyword arguments for :func:`trialflow.instruments.score`."""
        options = dict(self.options)
        if self.type == "measures":
            options["measures"] = {k: dict(v) for k, v in (self.measures or {}).items()}
        return options


@dataclass(frozen=True)
class Multiplicity:
    method: MultiplicityMethod = "holm"
    family: MultiplicityFamily = "primary_visit"  # comparisons sharing one adjustment (README)


@dataclass(frozen=True)
class AnalysisOptions:
    test_selection: TestSelection = "auto"
    alpha: float = 0.05
    primary_visit: str | None = None
    multiplicity: Multiplicity = field(default_factory=Multiplicity)
    minimal_important_difference: Mapping[str, float] = field(default_factory=dict)
    mmrm_covariance: tuple[str, ...] = ("unstructured", "toeplitz", "ar1", "compound_symmetry")


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
    figures: FigureOptions = field(default_factory=FigureOptions)

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
        """The visit named in ``analysis.primary_visit``, else end of treatment, else the last."""
        wanted = self.analysis.primary_visit
        if wanted is not None:
            return next(v for v in self.visits if v.id == wanted)
        return self.end_of_treatment or self.visits[-1]

    def visit(self, visit_id: str) -> Visit:
        return next(v for v in self.visits if v.id == visit_id)

    def instrument(self, instrument_id: str) -> InstrumentSpec:
        return next(i for i in self.instruments if i.id == instrument_id)


def study_from_mapping(study_id: str, raw: Mapping[str, Any]) -> Study:
    """Build a :class:`Study` from one validated ``studies.<id>`` mapping of the config."""
    analysis = dict(raw.get("analysis") or {})
    multiplicity = Multiplicity(**(analysis.pop("multiplicity", None) or {}))
    if "mmrm_covariance" in analysis:
        analysis["mmrm_covariance"] = tuple(analysis["mmrm_covariance"])
    figures = dict(raw.get("figures") or {})
    if "formats" in figures:
        figures["formats"] = tuple(figures["formats"])
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
            InstrumentSpec(
                id=instrument_id,
                type=spec["type"],
                file=spec.get("file"),
                options=dict(spec.get("options") or {}),
                measures=spec.get("measures"),
            )
            for instrument_id, spec in raw["instruments"].items()
        ),
        covariates=tuple(raw.get("covariates") or ()),
        analysis=AnalysisOptions(multiplicity=multiplicity, **analysis),
        simulated=bool(raw.get("simulated", False)),
        figures=FigureOptions(**figures),
    )


def studies_from_config(config: Mapping[str, Any]) -> dict[str, Study]:
    """All studies of a validated config, keyed by id, in config order."""
    return {sid: study_from_mapping(sid, raw) for sid, raw in config["studies"].items()}


def config_problems(config: Mapping[str, Any]) -> list[str]:
    """Rules JSON Schema cannot express, each as ``<key path>: <what is wrong>``.

    Cross-field rules (arms for the design, unique ids, increasing weeks, the primary
    visit), minimal important differences that name no outcome of the study, and covariates
    named like a column trialflow makes itself (:data:`RESERVED_COLUMNS`).
    """
    problems = []
    for sid, raw in config["studies"].items():
        key = f"studies.{sid}"
        problems += _design_problems(key, raw)
        problems += _analysis_problems(key, raw)
    return problems


def _design_problems(key: str, raw: Mapping[str, Any]) -> list[str]:
    problems = []
    arm_ids = [a["id"] for a in raw["arms"]]
    visit_ids = [v["id"] for v in raw["visits"]]
    if raw["design"] == "single_arm" and len(arm_ids) != 1:
        problems.append(f"{key}.arms: a single_arm design has exactly one arm, got {len(arm_ids)}")
    if raw["design"] == "parallel" and len(arm_ids) < 2:
        problems.append(f"{key}.arms: a parallel design needs at least two arms")
    for name, ids in (("arms", arm_ids), ("visits", visit_ids)):
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            problems.append(f"{key}.{name}: duplicate id(s) {', '.join(duplicates)}")
    weeks = [float(v["week"]) for v in raw["visits"]]
    if weeks != sorted(weeks) or len(set(weeks)) != len(weeks):
        problems.append(f"{key}.visits: weeks must increase from visit to visit, got {weeks}")
    if raw["visits"][0]["role"] != "baseline":
        problems.append(f"{key}.visits: the first visit must have role baseline")
    return problems


def _analysis_problems(key: str, raw: Mapping[str, Any]) -> list[str]:
    problems = []
    visit_ids = [v["id"] for v in raw["visits"]]
    analysis = raw.get("analysis") or {}
    primary = analysis.get("primary_visit")
    if primary is not None and primary not in visit_ids:
        problems.append(
            f"{key}.analysis.primary_visit: '{primary}' is not one of the visits {visit_ids}"
        )
    for i, covariate in enumerate(raw.get("covariates") or ()):
        if covariate in RESERVED_COLUMNS:
            problems.append(
                f"{key}.covariates[{i}]: '{covariate}' is a column trialflow makes itself "
                f"({', '.join(RESERVED_COLUMNS)}); rename the roster column"
            )
    mid = analysis.get("minimal_important_difference") or {}
    try:
        known = study_outcome_ids(raw)
    except ValueError as err:  # an instrument's options are wrong: say so, check MIDs later
        return [*problems, f"{key}.instruments: {err}"]
    for outcome in mid:
        if outcome not in known:
            problems.append(
                f"{key}.analysis.minimal_important_difference.{outcome}: no outcome of this "
                f"study has this id; its outcomes are {', '.join(known)}"
            )
    return problems


def study_outcome_ids(raw: Mapping[str, Any]) -> list[str]:
    """Outcome ids a study's instruments score: ``<instrument id>_<score>``, config order.

    Parameters
    ----------
    raw : mapping
        One validated ``studies.<id>`` mapping of the config.
    """
    from trialflow import instruments  # scorers load their definition files: only when asked

    ids = []
    for instrument_id, spec in raw["instruments"].items():
        options = dict(spec.get("options") or {})
        if spec["type"] == "measures":
            options["measures"] = {k: dict(v) for k, v in (spec.get("measures") or {}).items()}
        scores = instruments.outcomes(spec["type"], **options)["score"]
        ids += [f"{instrument_id}_{score}" for score in scores]
    return ids
