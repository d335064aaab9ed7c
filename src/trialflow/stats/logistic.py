"""Baseline-adjusted logistic regression of a responder status on arm: the adjusted odds
ratio of each arm against the reference arm (R's ``glm(family = binomial)`` +
``confint.default``)."""

from __future__ import annotations

import math
import sys
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .contract import NUMBER_COLUMNS, empty_numbers

# R's glm.fit warns "fitted probabilities numerically 0 or 1 occurred" below this
_FITTED_EPS = 10 * sys.float_info.epsilon


def adjusted_odds_ratio(
    data: pd.DataFrame,
    arms: list[str],
    covariates: tuple[str, ...] | list[str] = ("baseline",),
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Odds ratios of responding, each arm against the reference, adjusted for baseline.

    Fits ``logit P(responder) = b0 + b_arm + b_1 baseline (+ covariates)`` by maximum
    likelihood (statsmodels GLM, binomial family, logit link, IRLS as R's ``glm``) on the
    complete cases, arm in treatment coding against ``arms[0]``. The odds ratio is
    ``exp(b_arm)``; the Wald interval ``exp(b_arm -/+ z SE)`` (R's ``confint.default``, not
    the profile-likelihood ``confint``) and the Wald z-test p-value, as
    ``summary(glm(...))``.

    Parameters
    ----------
    data : DataFrame
        One row per participant: ``arm``, ``responder`` (1 responder, 0 not, NaN missing)
        and the covariate columns (numeric).
    arms : list of str
        Arm ids, reference first.
    covariates : sequence of str
        Adjustment covariates; default the outcome's baseline value.
    conf_level : float

    Returns
    -------
    DataFrame
        One row per non-reference arm: ``arm`` then the contract's number columns: ``n``
        (complete cases in the model), ``estimate`` (odds ratio), ``se`` (SE of the log odds
        ratio), ``ci_low``, ``ci_high`` (odds-ratio scale), ``statistic`` (Wald z),
        ``p_value``, ``effect_size`` (the log odds ratio, ``effect_size_name =
        "log_odds_ratio"``, with its Wald interval in ``effect_size_ci_low``,
        ``effect_size_ci_high``), ``note``. Empty numbers with the reason when no participant or
        every participant responded, an arm has no responder or only responders (the odds
        ratio is infinite: separation), the fit separates the data on the covariates (a
        fitted probability numerically 0 or 1, as R warns), does not converge, or the design
        is singular.

    Examples
    --------
    >>> data = pd.DataFrame({
    ...     "arm": ["c"] * 6 + ["t"] * 6,
    ...     "baseline": [3, 5, 4, 6, 2, 5, 4, 3, 6, 5, 2, 4],
    ...     "responder": [0, 1, 0, 0, 0, 1, 1, 0, 1, 1, 1, 0],
    ... })
    >>> row = adjusted_odds_ratio(data, ["c", "t"]).iloc[0]  # R: exp(1.7433), p 0.2150
    >>> round(float(row["estimate"]), 4), round(float(row["p_value"]), 4)
    (5.7162, 0.215)
    """
    columns = ["arm", "responder", *covariates]
    complete = data.loc[data["arm"].isin(arms), columns].dropna()
    n = len(complete)
    problem = _separation_problem(complete, arms)
    if not problem:
        design = np.column_stack(
            [np.ones(n)]
            + [(complete["arm"] == arm).to_numpy(float) for arm in arms[1:]]
            + [complete[c].to_numpy(float) for c in covariates]
        )
        if n <= design.shape[1]:
            problem = "fewer participants than model parameters"
        elif np.linalg.matrix_rank(design) < design.shape[1]:
            problem = "singular design (a covariate is constant or collinear)"
    if problem:
        rows = [empty_numbers(problem, n=n) for _ in arms[1:]]
    else:
        rows = _fit(complete["responder"].to_numpy(float), design, len(arms) - 1, n, conf_level)
    frame = pd.DataFrame(rows, columns=list(NUMBER_COLUMNS))
    frame.insert(0, "arm", arms[1:])
    return frame


def _separation_problem(complete: pd.DataFrame, arms: list[str]) -> str:
    responders = complete["responder"].to_numpy(float)
    if len(responders) == 0:
        return "no participant with a responder status and baseline"
    if not np.isin(responders, (0.0, 1.0)).all():
        raise ValueError("responder must be 0, 1 or missing")
    if responders.min() == responders.max():
        return "every participant responded" if responders[0] == 1 else "no participant responded"
    by_arm = complete.groupby("arm")["responder"].agg(["sum", "size"])
    by_arm = by_arm.reindex(arms, fill_value=0)
    empty = by_arm.index[by_arm["size"] == 0].tolist()
    if empty:
        return f"no participant in arm {', '.join(map(str, empty))}"
    separated = by_arm.index[(by_arm["sum"] == 0) | (by_arm["sum"] == by_arm["size"])].tolist()
    if separated:
        return "odds ratio not estimable (separation): all or none responded in arm " + ", ".join(
            map(str, separated)
        )
    return ""


def _fit(response: np.ndarray, design: np.ndarray, n_arms: int, n: int, conf_level: float):
    import statsmodels.api as sm  # here: a second to import, for the jobs that fit models

    model = sm.GLM(response, design, family=sm.families.Binomial())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = model.fit(maxiter=100, tol=1e-10)
        # the deviance changes with the square of the step, so stopping on it leaves the
        # coefficients ~sqrt(tol) from the maximum; IRLS restarted there converges
        # quadratically and puts them (and the SEs, from the last weights) at it
        if result.converged:
            result = model.fit(start_params=result.params, maxiter=100, tol=1e-10)
    fitted = result.fittedvalues
    problem = ""
    if any("separation" in str(w.message).lower() for w in caught):
        problem = "odds ratio not estimable (perfect separation on the covariates)"
    elif not result.converged:
        problem = "logistic regression did not converge"
    elif np.any((fitted < _FITTED_EPS) | (fitted > 1 - _FITTED_EPS)):
        problem = "odds ratio not estimable (fitted probabilities numerically 0 or 1: separation)"
    if problem:
        return [empty_numbers(problem, n=n) for _ in range(n_arms)]
    z = stats.norm.ppf(0.5 + conf_level / 2)
    rows = []
    for k in range(1, n_arms + 1):
        beta, se = float(result.params[k]), float(result.bse[k])
        rows.append(
            empty_numbers(
                "logistic regression adjusted for baseline; Wald interval and test",
                n=n,
                estimate=math.exp(beta),
                se=se,
                ci_low=math.exp(beta - z * se),
                ci_high=math.exp(beta + z * se),
                statistic=beta / se,
                p_value=float(2 * stats.norm.sf(abs(beta / se))),
                effect_size=beta,
                effect_size_name="log_odds_ratio",
                effect_size_ci_low=beta - z * se,
                effect_size_ci_high=beta + z * se,
            )
        )
    return rows
