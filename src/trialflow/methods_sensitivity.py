"""The Methods paragraph of the missing-data sensitivity analyses (``analysis.sensitivity``
and ``analysis.tipping_point``), written from the config: each declared analysis, the
strategies it uses, how intercurrent events are found and what happens to values observed
after them (treatment policy or hypothetical), the inference of each method and why Rubin's
variance is conservative under reference-based strategies."""

from __future__ import annotations

from collections.abc import Mapping

from trialflow.config import Study
from trialflow.sensitivity_config import SensitivityAnalysis

__all__ = ["STRATEGY_DEFINITIONS", "sensitivity_paragraph"]

#: The imputation strategies (Carpenter, Roger and Kenward 2013), in the Methods' words.
STRATEGY_DEFINITIONS = {
    "mar": "MAR (missing at random: imputed from the participant's own arm)",
    "j2r": (
        "J2R (jump to reference: after the event the participant's mean is the reference "
        "arm's, given their observed values)"
    ),
    "cr": "CR (copy reference: the whole profile is the reference arm's)",
    "cir": (
        "CIR (copy increments in reference: from the last value before the event the mean "
        "changes as the reference arm's does)"
    ),
    "lmcf": "LMCF (last mean carried forward: the mean at the last visit before the event)",
}
_METHODS = {
    "conditional_mean": "conditional mean imputation",
    "bootstrap_mi": "bootstrapped multiple imputation",
}


def _strategies(entry: SensitivityAnalysis) -> list[str]:
    strategy = entry.strategy
    return [strategy] if isinstance(strategy, str) else sorted(set(strategy.values()))


def _entry_text(entry: SensitivityAnalysis, labels: Mapping[str, str]) -> str:
    outcomes = ", ".join(labels.get(o, o) for o in entry.outcomes)
    text = f"{outcomes}: {_METHODS[entry.method]} under {entry.strategy_text}"
    if set(_strategies(entry)) - {"mar", "lmcf"}:
        text += f" (reference arm {entry.reference_arm})"
    if entry.method == "bootstrap_mi":
        text += f", M = {entry.n_imputations} imputations, seed {entry.seed}"
    return text + f" (results.csv analysis {entry.name})"


def sensitivity_paragraph(study: Study, labels: Mapping[str, str]) -> str:
    """The paragraph, or ``""`` when the study declares no sensitivity analysis."""
    entries = list(study.analysis.sensitivity)
    tipping = study.analysis.tipping_point
    if tipping is not None:
        entries.append(tipping.analysis)
    if not entries:
        return ""
    used = sorted(
        {s for e in entries for s in _strategies(e)}, key=list(STRATEGY_DEFINITIONS).index
    )
    methods = {e.method for e in entries}
    covariates = ", ".join(["baseline", *study.covariates])
    text = [
        "Missing-data sensitivity analyses (outside the testing strategy): "
        + "; ".join(_entry_text(e, labels) for e in study.analysis.sensitivity)
        + ("." if study.analysis.sensitivity else ""),
        "The imputation model is an MMRM of the post-baseline values with every mean term "
        "(baseline, covariates, arm) interacting with visit and an unstructured covariance "
        "shared by the arms, fitted by REML; each completed data set is analysed by the "
        f"ANCOVA at every post-baseline visit adjusted for {covariates}, and the difference "
        "is reported against the first arm.",
        "Strategies (Carpenter, Roger and Kenward 2013): "
        + "; ".join(STRATEGY_DEFINITIONS[s] for s in used)
        + ".",
        "Intercurrent events come from the roster's ice_visit (and ice_type where a strategy "
        "is given per event type); a roster without ice_visit makes the first visit of each "
        "participant's monotone dropout the event. Missing values of participants without "
        "an event, and gaps before an event, are imputed under MAR. Under a strategy other "
        "than MAR, values observed after an event are left out of the imputation model's "
        "fit; " + _post_ice_text(study, entries, labels),
    ]
    if "conditional_mean" in methods:
        text.append(
            "Conditional mean imputation (Wolbers et al. 2022) imputes each missing value by "
            "its conditional expectation, deterministically; the SE is the jackknife's "
            "(leaving out one participant at a time), with normal-approximation CIs and "
            "p-values."
        )
    if "bootstrap_mi" in methods:
        text.append(
            "Bootstrapped multiple imputation (rbmi's approximate Bayesian method) draws each "
            "imputation from a REML fit to a bootstrap sample stratified by arm and pools the "
            "analyses by Rubin's rules with Barnard-Rubin degrees of freedom; results.csv "
            "gives the Monte Carlo SE (mc_se), the number of imputations and the seed. Under "
            "reference-based strategies Rubin's variance is conservative: it does not shrink "
            "as the reference arm lends information, unlike the variance the jackknife of "
            "conditional mean imputation estimates."
        )
    if tipping is not None:
        deltas = ", ".join(f"{d:g}" for d in tipping.deltas)
        text.append(
            f"Tipping point ({labels.get(tipping.outcome, tipping.outcome)}, "
            f"{_METHODS[tipping.method]} under {tipping.analysis.strategy_text}): each delta "
            f"({deltas}) is added to every imputed post-event value of {tipping.arm}; the "
            "tipping point is the delta nearest 0, in the direction unfavourable to that arm, "
            f"at which the two-sided p-value reaches alpha = {study.analysis.alpha:g} (found "
            "exactly between the grid points that bracket it)."
        )
    return " ".join(text)


def _post_ice_text(study: Study, entries, labels: Mapping[str, str]) -> str:
    outcomes = dict.fromkeys(o for e in entries for o in e.outcomes if o)
    kept = [labels.get(o, o) for o in outcomes if post_ice_kept(study, o)]
    imputed = [labels.get(o, o) for o in outcomes if not post_ice_kept(study, o)]
    parts = []
    if kept:
        parts.append(
            f"for {', '.join(kept)} the estimand's treatment-policy strategy keeps them, as "
            "observed, in the analysed data"
        )
    if imputed:
        parts.append(
            f"for {', '.join(imputed)} (a hypothetical strategy) they are set aside and imputed"
        )
    return "; ".join(parts) + "."


def post_ice_kept(study: Study, outcome: str) -> bool:
    from trialflow.stats.sensitivity_analysis import post_ice_handling

    return post_ice_handling(study, outcome) == "keep"
