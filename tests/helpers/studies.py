"""Study factories: a :class:`trialflow.config.Study` from a few arguments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from trialflow.config import AnalysisOptions, Arm, InstrumentSpec, Study, Visit

#: Visits of the tied reference data (``tests/reference/ties_missing_long.csv``).
TIES_VISITS = (
    ("baseline", 0, "baseline"),
    ("week8", 8, "end_of_treatment"),
    ("week24", 24, "follow_up"),
)


def make_study(
    study_id: str = "demo",
    arms: Sequence[str | tuple[str, str]] = ("control", "exercise"),
    visits: Sequence[tuple] = (("baseline", 0, "baseline"), ("week8", 8, "end_of_treatment")),
    *,
    design: str | None = None,
    instruments: Sequence[tuple[str, str]] = (),
    covariates: Sequence[str] = (),
    mid: Mapping[str, float] | None = None,
    analysis: AnalysisOptions | None = None,
    title: str | None = None,
    data_dir: str = "",
    simulated: bool = False,
) -> Study:
    """A study from plain values.

    Parameters
    ----------
    arms : sequence
        Arm ids, or ``(id, label)`` pairs; the first is the reference arm.
    visits : sequence of tuple
        ``(id, week, role)`` or ``(id, label, week, role)``.
    design : str, optional
        Default: ``single_arm`` for one arm, else ``parallel``.
    instruments : sequence of (id, type)
    mid : mapping, optional
        ``analysis.minimal_important_difference`` (ignored when ``analysis`` is given).
    """
    arm_objects = tuple(
        Arm(*a) if isinstance(a, tuple) else Arm(a, a)
        for a in arms  # (id, label) or id
    )
    visit_objects = tuple(
        Visit(v[0], v[0], float(v[1]), v[2])
        if len(v) == 3
        else Visit(v[0], v[1], float(v[2]), v[3])
        for v in visits
    )
    return Study(
        id=study_id,
        title=title or study_id,
        design=design or ("single_arm" if len(arm_objects) == 1 else "parallel"),
        data_dir=data_dir,
        arms=arm_objects,
        visits=visit_objects,
        instruments=tuple(InstrumentSpec(i, t) for i, t in instruments),
        covariates=tuple(covariates),
        analysis=analysis or AnalysisOptions(minimal_important_difference=dict(mid or {})),
        simulated=simulated,
    )


#: The two-arm study of the tied reference data, with covariates and MIDs.
TIES_STUDY = make_study(
    "ties",
    ["control", "exercise"],
    TIES_VISITS,
    covariates=("age", "sex"),
    mid={"score": 3, "speed": 0.1},
)
