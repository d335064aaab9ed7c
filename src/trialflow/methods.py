"""The Methods section of the report, one function per paragraph, written from the config
(the analysis plan), ``results.csv`` (which analyses ran) and ``model_fits.csv`` (the facts
of each fitted model; never a row's ``note``).

The plan comes first: the primary and key secondary analyses, each estimand in ICH E9(R1)
terms (population, variable, intercurrent events with their strategies, population-level
summary) with the analysis that targets it, the testing strategy and the analysis sets; then
every other (exploratory) analysis, effect sizes, responders, multiplicity and missing data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from trialflow.config import Estimand, PlannedAnalysis, Study
from trialflow.labels import label
from trialflow.methods_sensitivity import sensitivity_paragraph
from trialflow.reported import METHOD_NAMES, TEST_NAMES
from trialflow.stats.confirmatory import DEFAULT_STRATEGY
from trialflow.stats.contract import MODEL_FIT_COLUMNS, is_imputation_analysis, typed_results
from trialflow.stats.mmrm_analysis import covariance_label, inference_text

__all__ = ["STRATEGY_TEXT", "estimand_paragraph", "methods_paragraphs", "mmrm_covariance_used"]

#: How each intercurrent-event strategy handles the values, in the Methods' words.
STRATEGY_TEXT = {
    "treatment_policy": (
        "treatment policy (values after the event are used as observed; values missing after "
        "it are handled under missing at random by the model, and the ANCOVA uses the "
        "participants with a value)"
    ),
    "hypothetical": (
        "hypothetical (values after the event are set aside; the model, under missing at "
        "random, targets the outcome had the event not occurred)"
    ),
    "while_on_treatment": (
        "while on treatment (the last post-baseline value before the event is analysed)"
    ),
    "composite": "composite (the event counts as non-response)",
}
_SET_TEXT = {
    "full_analysis": "the full analysis set (every randomised participant, as randomised)",
    "per_protocol": "the per-protocol set (roster column per_protocol = yes)",
    "completers": "the completers of each outcome (a value at every post-baseline visit)",
}
_TESTING_TEXT = {
    "fixed_sequence": (
        "fixed-sequence (hierarchical) testing: each hypothesis in the order listed at "
        "alpha = {alpha:g}, stopping at the first one not rejected; adjusted p-values are the "
        "running maximum, and hypotheses after the stop are reported as not formally tested"
    ),
    "holm": "Holm's procedure over them (family-wise alpha = {alpha:g})",
    "none": "no adjustment (each at alpha = {alpha:g})",
}


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def mmrm_covariance_used(model_fits: pd.DataFrame | None) -> dict[str, int]:
    """Covariance structures the converged MMRMs used, from ``model_fits.csv``.

    Returns
    -------
    dict
        Printed structure name (e.g. ``unstructured (UN)``) to the number of outcomes whose
        model used it, in outcome order.
    """
    used: dict[str, int] = {}
    for name in _converged(model_fits)["covariance"]:
        label = covariance_label(name)
        used[label] = used.get(label, 0) + 1
    return used


def _converged(model_fits: pd.DataFrame | None) -> pd.DataFrame:
    if model_fits is None:
        return pd.DataFrame(columns=list(MODEL_FIT_COLUMNS))
    fits = model_fits[model_fits["analysis"] == "mmrm"]
    return fits[fits["status"] == "converged"]


def methods_paragraphs(
    study: Study,
    results: pd.DataFrame,
    versions: Mapping[str, str],
    model_fits: pd.DataFrame | None = None,
    labels: Mapping[str, str] | None = None,
) -> list[str]:
    """The methods section, generated from the configuration and what the analysis found.

    Parameters
    ----------
    study : Study
    results : pandas.DataFrame
        ``results.csv`` rows (which analyses ran).
    versions : mapping
        Package name to version, e.g. from :func:`trialflow.report.software_versions`.
    model_fits : pandas.DataFrame, optional
        ``model_fits.csv`` (the MMRM's formula, covariance used and estimand).
    labels : mapping, optional
        Outcome id to printed label (default: the id).

    Returns
    -------
    list of str
        Plain-text paragraphs (escaped by the template).
    """
    res = typed_results(results)
    used = set(res["analysis"])
    labels = dict(labels or {})
    paragraphs = [
        _design_paragraph(study),
        _plan_paragraph(study, labels),
        *[
            estimand_paragraph(study, planned, i, labels)
            for i, planned in enumerate(study.analysis.planned)
        ],
        _sets_paragraph(study),
        _classic_paragraph(study, used),
        _models_paragraph(study, res, model_fits),
        _effect_size_paragraph(study),
        _responders_paragraph(study, used, labels),
        _multiplicity_paragraph(study),
        _missing_data_paragraph(used),
        sensitivity_paragraph(study, labels),
        _analyses_paragraph(used),
        _software_paragraph(versions),
    ]
    return [p for p in paragraphs if p]


def _design_paragraph(study: Study) -> str:
    arms = [a.label for a in study.arms]
    visits = _join(
        [f"{v.label} (week {v.week:g}, {v.role.replace('_', ' ')})" for v in study.visits]
    )
    if study.single_arm:
        persisted = (
            f", and whether it persisted at {study.follow_up.label}" if study.follow_up else ""
        )
        return (
            f"Design: single-arm study ({_join(arms)}); visits {visits}. An uncontrolled "
            f"change from baseline is not a treatment effect; the analyses estimate the mean "
            f"change from baseline to {study.primary_visit.label}{persisted}."
        )
    return (
        f"Design: parallel-group trial with {len(arms)} arms ({_join(arms)}; reference "
        f"{study.reference_arm.label}); visits {visits}."
    )


def _visit_label(study: Study, visit: str) -> str:
    return study.visit(visit).label


def _planned_text(study: Study, planned: PlannedAnalysis, labels: Mapping[str, str]) -> str:
    method = METHOD_NAMES[planned.method]
    return (
        f"{labels.get(planned.outcome, planned.outcome)} at "
        f"{_visit_label(study, planned.visit)} by {method}"
    )


def _plan_paragraph(study: Study, labels: Mapping[str, str]) -> str:
    analysis = study.analysis
    if analysis.primary is None:
        return (
            "Analysis plan: no primary analysis was declared (analysis.exploratory_only); every "
            "comparison is exploratory and no confirmatory claim rests on any p-value."
        )
    text = (
        "Analysis plan (pre-specified in the configuration): primary analysis "
        f"{_planned_text(study, analysis.primary, labels)}"
    )
    if analysis.key_secondary:
        keys = [
            f"({i}) {_planned_text(study, p, labels)}"
            for i, p in enumerate(analysis.key_secondary, start=1)
        ]
        text += "; key secondary analyses, in testing order: " + "; ".join(keys)
    how = _TESTING_TEXT[analysis.testing].format(alpha=analysis.alpha)
    return (
        f"{text}. The primary and key secondary hypotheses are tested by {how}. Every other "
        "comparison is exploratory: its p-values are descriptive, adjusted only within the "
        "exploratory families below, and support no confirmatory claim."
    )


def _default_variable(study: Study, planned: PlannedAnalysis, labels) -> str:
    label = labels.get(planned.outcome, planned.outcome)
    visit = _visit_label(study, planned.visit)
    if planned.method == "responder":
        return f"response on {label} at {visit} (responder threshold below)"
    if study.single_arm:
        return f"change in {label} from baseline to {visit}"
    return f"{label} at {visit}"


def _default_summary(study: Study, planned: PlannedAnalysis) -> str:
    if planned.method == "responder":
        return "odds ratio of responding between arms, adjusted for baseline"
    if study.single_arm:
        return "mean change from baseline"
    return "difference in means between arms, adjusted for baseline, under missing at random"


def _events_text(estimand: Estimand | None) -> str:
    if estimand is None or estimand.intercurrent_events is None:
        return (
            "any intercurrent event (discontinuation of the intervention and any other event "
            f"in the roster): {STRATEGY_TEXT[DEFAULT_STRATEGY]}"
        )
    if not estimand.intercurrent_events:
        return "none anticipated"
    return "; ".join(
        f"{event.type.replace('_', ' ')}: {STRATEGY_TEXT[event.strategy]}"
        for event in estimand.intercurrent_events
    )


def _analysis_text(study: Study, planned: PlannedAnalysis) -> str:
    covariates = "".join(f" and {c}" for c in study.covariates)
    if planned.method == "ancova":
        return (
            "ANCOVA of the value at the visit on arm, adjusted for the baseline value"
            f"{covariates}, in the participants with both values"
        )
    if planned.method == "responder":
        return (
            "logistic regression of the responder status on arm, adjusted for the baseline "
            "value (Wald interval)"
        )
    if study.single_arm:
        return "MMRM (value ~ visit over all visits; LS-mean change from baseline)"
    extra = (
        " with a baseline-by-visit interaction" if study.analysis.mmrm.baseline_by_visit else ""
    )
    return (
        f"MMRM (value ~ baseline + arm x visit{covariates}{extra}; LS-mean difference at the "
        "visit)"
    )


def estimand_paragraph(
    study: Study, planned: PlannedAnalysis, position: int, labels: Mapping[str, str]
) -> str:
    """The estimand of one planned analysis in ICH E9(R1) terms and the analysis targeting it.

    Missing parts of a declared estimand, and the whole of an undeclared one, are the
    defaults: all randomised participants, the hypothetical strategy for every intercurrent
    event, the difference in means under missing at random.
    """
    estimand = planned.estimand
    which = "primary analysis" if position == 0 else f"key secondary analysis {position}"
    population = (
        estimand.population
        if estimand is not None and estimand.population
        else "all randomised participants"
        if not study.single_arm
        else "all enrolled participants"
    )
    variable = (
        estimand.variable
        if estimand is not None and estimand.variable
        else _default_variable(study, planned, labels)
    )
    summary = (
        estimand.summary
        if estimand is not None and estimand.summary
        else _default_summary(study, planned)
    )
    declared = "" if estimand is not None else " (not declared: the default)"
    return (
        f"Estimand of the {which}{declared} (ICH E9(R1)): population: {population}; variable: "
        f"{variable}; intercurrent events: {_events_text(estimand)}; population-level summary: "
        f"{summary}. Targeted by: {_analysis_text(study, planned)} in "
        f"{_SET_TEXT[study.analysis.analysis_set]}."
    )


def _sets_paragraph(study: Study) -> str:
    analysis = study.analysis
    text = f"Analysis set: every analysis uses {_SET_TEXT[analysis.analysis_set]}"
    if analysis.sensitivity_sets:
        sets = _join([_SET_TEXT[s] for s in analysis.sensitivity_sets])
        text += (
            f"; the primary and key secondary analyses are repeated on {sets} as sensitivity "
            "analyses (results.csv rows flagged sensitivity; not part of the testing strategy)"
        )
    return text + "."


def _classic_paragraph(study: Study, used: set[str]) -> str:
    opts = study.analysis
    t_test = "Student's t-test" if opts.between_test == "student" else "Welch's t-test"
    classic = []
    if used & {"paired_t", "wilcoxon_signed_rank"}:
        classic.append(
            "within-arm changes with the paired t-test and the Wilcoxon signed-rank test"
        )
    if used & {"welch_t", "student_t", "mann_whitney"}:
        classic.append(f"between-arm differences with {t_test} and the Mann-Whitney U test")
    if used & {"rm_anova", "friedman"}:
        classic.append("change over all visits with repeated-measures ANOVA and the Friedman test")
    if not classic:
        return ""
    selection = {
        "parametric": (
            "The tables report the parametric test, as pre-specified (test_selection = "
            "parametric); the rank tests are kept in results.csv."
        ),
        "nonparametric": (
            "The tables report the rank test, as pre-specified (test_selection = nonparametric)."
        ),
        "auto": (
            "The tables report, per comparison, the test a Shapiro-Wilk pre-test chose (rank "
            f"test when p < {opts.alpha:g}; test_selection = auto). This choice is data-driven: "
            "it is kept to replicate the source papers, it never selects the primary or key "
            "secondary analyses (model-based, declared in advance), and both tests of each "
            "pair are in results.csv."
        ),
    }[opts.test_selection]
    return (
        f"Exploratory classic tests: {_join(classic)}; two-sided at alpha = {opts.alpha:g}. "
        + selection
    )


def _models_paragraph(study: Study, res: pd.DataFrame, model_fits: pd.DataFrame | None) -> str:
    used = set(res["analysis"])
    models = []
    ci = f"{100 * (1 - study.analysis.alpha):g}% confidence intervals"
    if "ancova" in used:
        covs = ", ".join(study.covariates)
        models.append(
            f"ANCOVA of the value at each post-baseline visit on arm, adjusted for the baseline "
            f"value{' and ' + covs if covs else ''}"
        )
    if "mmrm" in used:
        models.append(_mmrm_sentence(study, res, model_fits))
    return "Models: " + "; ".join(models) + f"; {ci}." if models else ""


def _mmrm_sentence(study: Study, res: pd.DataFrame, model_fits: pd.DataFrame | None) -> str:
    """``a mixed model for repeated measures (MMRM: <model>; <covariance>; ...)``."""
    options = study.analysis.mmrm
    candidates = _join([label("covariance", name, study) for name in options.covariance])
    found = mmrm_covariance_used(model_fits)
    if found:
        cov = "covariance structure used: " + _join(
            [
                f"{name} ({count} {'outcome' if count == 1 else 'outcomes'})"
                for name, count in found.items()
            ]
        )
    else:
        cov = f"covariance structure chosen from {candidates}"
    fits = _converged(model_fits)
    scope = {"post_baseline": "post-baseline visits", "all": "all visits"}
    model = _join(
        list(
            dict.fromkeys(
                f"{f} over {scope[v]}"
                for f, v in zip(fits["formula"], fits["visit_scope"], strict=True)
            )
        )
    )
    inference = list(
        dict.fromkeys(
            inference_text(m, d) for m, d in zip(fits["method"], fits["ddf"], strict=True)
        )
    )
    details = "; ".join(filter(None, [model, cov, *inference]))
    mmrm_rows = res[res["analysis"] == "mmrm"]
    not_fitted = 0
    if model_fits is not None:
        unfitted = set(model_fits.loc[model_fits["status"] != "converged", "outcome"])
        not_fitted = int(mmrm_rows["outcome"].isin(unfitted).sum())
    estimands = list(dict.fromkeys(fits["estimand"]))
    return (
        f"a mixed model for repeated measures (MMRM: {details}; candidate structures in "
        f"order of preference: {candidates}; convergence when the relative Hessian criterion "
        f"falls below {options.tolerance:g}"
        + (f"; {not_fitted} comparisons not fitted, see results.csv" if not_fitted else "")
        + ")"
        + (f"; estimand as fitted: {'; '.join(estimands)}" if estimands else "")
    )


def _effect_size_paragraph(study: Study) -> str:
    ci = f"{100 * (1 - study.analysis.alpha):g}%"
    return (
        f"Effect sizes, each with a two-sided {ci} confidence interval: Hedges' g (pooled SD, "
        "noncentral-t interval) for the t-test between arms, Cohen's d_z for paired changes, "
        "the rank-biserial correlation (Fisher-z interval) for rank tests, the log odds ratio "
        "for the logistic regression, and for the model-based rows (ANCOVA, MMRM) the "
        "standardised difference: the adjusted difference divided by the pooled within-arm SD "
        "of the baseline values of the participants in the model, its interval the "
        "difference's interval divided by the same SD (treated as known). Partial eta squared "
        "(repeated-measures ANOVA), Kendall's W and Cramer's V have no interval. The forest "
        "plot shows the standardised differences, signed so that positive means improvement."
    )


def _threshold_text(rule: Mapping[str, float], label: str) -> str:
    if "mid" in rule:
        return f"{label}: improvement of at least {rule['mid']:g}"
    return f"{label}: improvement of at least {rule['percent_improvement']:g}% of baseline"


def _responders_paragraph(study: Study, used: set[str], labels: Mapping[str, str]) -> str:
    if "responder" not in used:
        return ""
    thresholds = study.analysis.responder_thresholds()
    rules = _join([_threshold_text(r, labels.get(o, o)) for o, r in thresholds.items()])
    missing = {
        "non_responder": "a participant of the analysis set without a status (no value, or a "
        "relative threshold on a zero baseline) counts as a non-responder",
        "exclude": "participants without a status are left out",
    }[study.analysis.responders.missing]
    text = (
        "Responders: an improvement from baseline in the outcome's better direction reaching "
        f"the threshold ({rules}); {missing}. Proportions with Wilson intervals"
    )
    if study.single_arm:
        return text + "."
    return (
        text + "; between arms the risk difference with Newcombe's hybrid score interval and "
        "Fisher's exact p, and the odds ratio adjusted for baseline by logistic regression "
        "with its Wald interval."
    )


def _multiplicity_paragraph(study: Study) -> str:
    multiplicity = study.analysis.multiplicity
    if multiplicity.method == "none":
        return "Multiplicity (exploratory comparisons): p-values are not adjusted."
    method = {"holm": "Holm", "fdr_bh": "Benjamini-Hochberg false-discovery-rate"}[
        multiplicity.method
    ]
    return (
        f"Multiplicity (exploratory comparisons only): {method} adjustment within the family "
        f"'{multiplicity.family.replace('_', ' ')}' (adjusted p printed as adj. p)."
    )


def _missing_data_paragraph(used: set[str]) -> str:
    complete = _join(
        [n for a, n in (("paired_t", "classic tests"), ("ancova", "ANCOVA")) if a in used]
    )
    missing = "Missing data: the primary and exploratory analyses impute no values."
    if complete:
        missing += (
            f" The {complete} use the participants observed at the visits compared (complete "
            "cases; n per comparison in results.csv)."
        )
    if "mmrm" in used:
        missing += (
            " The MMRM uses every observed visit, which is valid when data are missing at random;"
            " its n is the number of participants in the model."
        )
    return missing


def _analyses_paragraph(used: set[str]) -> str:
    # the imputation analyses have their own paragraph (trialflow.methods_sensitivity)
    names = sorted(
        TEST_NAMES.get(a, a.replace("_", " ")) for a in used if a and not is_imputation_analysis(a)
    )
    return "Analyses in results.csv: " + ", ".join(names) + "." if names else ""


def _software_paragraph(versions: Mapping[str, str]) -> str:
    software = ", ".join(f"{k} {v}" for k, v in versions.items() if k != "python")
    return f"Software: Python {versions.get('python', '')}; {software}."
