"""Baseline-adjusted ANCOVA at each post-baseline visit: value ~ baseline + arm + covariates."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from ..config import Study
from ._tidy import first_by_participant, wide_tables
from .contract import ADJUSTED_MEAN_CONTRAST, between_contrast, empty_numbers, keyed_rows
from .effect_sizes import merge_effect_size, standardised_difference


def _fit(y: np.ndarray, design: np.ndarray):
    import statsmodels.api as sm  # here: a second to import, for the jobs that fit models

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sm.OLS(y, design).fit()


def _degenerate(design: np.ndarray, df_resid: int, all_arms_present: bool) -> str:
    """Why the ANCOVA cannot be estimated, or ``""``."""
    if not all_arms_present:
        return "an arm has no complete cases"
    if df_resid < 1:
        return "no residual degrees of freedom"
    if (np.linalg.matrix_rank(design) if len(design) else 0) < design.shape[1]:
        return "singular design (a covariate is constant or collinear)"
    return ""


def ancova(
    data: pd.DataFrame,
    arms: list[str],
    covariates: tuple[str, ...] | list[str] = (),
    conf_level: float = 0.95,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """OLS ANCOVA of ``value`` on ``baseline``, ``arm`` and covariates (R's ``lm`` + ``confint``
    and ``emmeans``).

    Parameters
    ----------
    data : DataFrame
        One row per participant: ``arm``, ``value`` (the outcome at the visit), ``baseline``
        (the outcome at baseline) and the covariate columns. Rows with any of these missing
        are dropped (complete cases).
    arms : list of str
        Arm ids, reference arm first; treatment coding against the reference.
    covariates : sequence of str
        Covariate columns: numeric ones enter linearly, the others as factors (treatment
        coding, first level in sorted order as reference).
    conf_level : float

    Returns
    -------
    contrasts : DataFrame
        One row per non-reference arm, columns ``arm``, then the number columns: ``n``
        (complete cases), ``estimate`` (adjusted difference arm - reference), ``se``, ``df``
        (residual), ``ci_low``, ``ci_high``, ``statistic`` (t), ``p_value``, ``effect_size``
        (``standardised_difference``: the difference and its interval divided by the pooled
        within-arm SD of the baseline values of the participants in the model,
        :func:`trialflow.stats.effect_sizes.standardised_difference`).
    adjusted_means : DataFrame
        One row per arm: ``arm``, ``n`` (in that arm), ``estimate`` (adjusted mean), ``se``,
        ``df``, ``ci_low``, ``ci_high``; the reference grid of ``emmeans``: baseline and
        numeric covariates at their means, factor covariates averaged with equal weights.

    Notes
    -----
    Degenerate data (an arm without complete cases, no residual degrees of freedom, a
    singular design) gives rows with empty numbers and a ``note``.
    """
    columns = ["arm", "value", "baseline", *covariates]
    complete = data.loc[data["arm"].isin(arms), columns].dropna()
    # a factor with one level has no contrast (R's lm stops); leave it out and say so
    constant = single_level_factors(complete, covariates)
    covariates = [c for c in covariates if c not in constant]
    dropped = f"single-level covariate left out: {', '.join(constant)}" if constant else ""
    counts = complete["arm"].value_counts()
    present = [arm for arm in arms if counts.get(arm, 0) > 0]
    contrasts = pd.DataFrame({"arm": arms[1:]})
    means = pd.DataFrame({"arm": arms})
    design, names = _design(complete, arms, covariates)
    df_resid = len(complete) - design.shape[1]
    problem = _degenerate(design, df_resid, all_arms_present=len(present) == len(arms))
    if problem:
        problem = "; ".join(filter(None, [problem, dropped]))
        rows = [empty_numbers(problem, n=len(complete)) for _ in arms[1:]]
        mean_rows = [empty_numbers(problem, n=counts.get(arm, 0)) for arm in arms]
        return _join(contrasts, rows), _join(means, mean_rows)
    fit = _fit(complete["value"].to_numpy(float), design)
    q = stats.t.ppf(0.5 + conf_level / 2, df_resid)
    rows = []
    for arm in arms[1:]:
        i = names.index(f"arm:{arm}")
        estimate, se = float(fit.params[i]), float(fit.bse[i])
        numbers = _t_numbers(estimate, se, df_resid, q, len(complete)) | {"note": dropped}
        effect = standardised_difference(
            estimate, numbers["ci_low"], numbers["ci_high"], complete["baseline"], complete["arm"]
        )
        rows.append(merge_effect_size(numbers, effect))
    mean_rows = []
    covariance = fit.cov_params()
    for arm in arms:
        weights = _grid_weights(complete, arms, covariates, names, arm)
        estimate = float(weights @ fit.params)
        se = float(math.sqrt(weights @ covariance @ weights))
        mean_rows.append(_t_numbers(estimate, se, df_resid, q, int(counts.get(arm, 0))))
        mean_rows[-1].update(statistic=math.nan, p_value=math.nan, note=dropped)
    return _join(contrasts, rows), _join(means, mean_rows)


def _t_numbers(estimate: float, se: float, df: float, q: float, n: int) -> dict:
    t = estimate / se if se > 0 else math.nan
    return empty_numbers(
        n=n,
        estimate=estimate,
        se=se,
        df=df,
        ci_low=estimate - q * se,
        ci_high=estimate + q * se,
        statistic=t,
        p_value=float(2 * stats.t.sf(abs(t), df)) if se > 0 else math.nan,
    )


def _join(keys: pd.DataFrame, rows: list[dict]) -> pd.DataFrame:
    return pd.concat([keys, pd.DataFrame(rows, index=keys.index)], axis=1)


def _factor_levels(data: pd.DataFrame, covariate: str) -> list[str]:
    return sorted(data[covariate].astype(str).unique())


def _is_factor(data: pd.DataFrame, covariate: str) -> bool:
    series = data[covariate]
    return pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series)


def _design(data: pd.DataFrame, arms: list[str], covariates) -> tuple[np.ndarray, list[str]]:
    """Model matrix with R's default treatment contrasts and readable column names."""
    columns = {"(Intercept)": np.ones(len(data)), "baseline": data["baseline"].to_numpy(float)}
    for arm in arms[1:]:
        columns[f"arm:{arm}"] = (data["arm"] == arm).to_numpy(float)
    for covariate in covariates:
        if _is_factor(data, covariate):
            values = data[covariate].astype(str)
            for level in _factor_levels(data, covariate)[1:]:
                columns[f"{covariate}:{level}"] = (values == level).to_numpy(float)
        else:
            columns[covariate] = data[covariate].to_numpy(float)
    names = list(columns)
    return np.column_stack([columns[name] for name in names]), names


def single_level_factors(data: pd.DataFrame, covariates) -> list[str]:
    """Factor covariates with fewer than two levels in ``data`` (no contrast: left out)."""
    return [c for c in covariates if _is_factor(data, c) and data[c].nunique() < 2]


def ancova_design(
    data: pd.DataFrame, arms: list[str], covariates=()
) -> tuple[np.ndarray, list[str]]:
    """The model matrix :func:`ancova` fits, with its column names.

    Columns ``(Intercept)``, ``baseline``, ``arm:<arm>`` for every arm but the first, then
    the covariates (numeric ones as they are, factors with treatment coding against their
    first level in sorted order). ``data`` must be complete in these columns.
    """
    return _design(data, arms, list(covariates))


def ols_fit(design: np.ndarray, responses: np.ndarray) -> dict[str, np.ndarray | float]:
    """Least squares of every column of ``responses`` on one full-rank ``design``.

    The computation of :func:`ancova` (R's ``lm``) for many responses sharing a design, e.g.
    the visits of a completed data set or the data sets of a multiple imputation.

    Parameters
    ----------
    design : ndarray (n, p)
    responses : ndarray (n,), (n, k) or a stack (..., n, k)
        A stack is fitted slice by slice with the same arithmetic whatever its length
        (results do not depend on how many data sets are fitted together).

    Returns
    -------
    dict
        ``coef`` (..., p, k), ``rss`` (..., k) residual sums of squares, ``df`` residual
        degrees of freedom ``n - p``, ``xtx_inv`` (p, p): the coefficients' covariance is
        ``rss / df * xtx_inv``.
    """
    y = np.asarray(responses, dtype=float)
    y = y[:, None] if y.ndim == 1 else y
    x = np.asarray(design, dtype=float)
    q, r = np.linalg.qr(x)
    r_inv = np.linalg.solve(r, np.eye(r.shape[0]))
    coef = np.matmul(r_inv @ q.T, y)
    resid = y - np.matmul(x, coef)
    return {
        "coef": coef,
        "rss": (resid**2).sum(axis=-2),
        "df": float(design.shape[0] - design.shape[1]),
        "xtx_inv": r_inv @ r_inv.T,
    }


def _grid_weights(
    data: pd.DataFrame, arms: list[str], covariates, names: list[str], arm: str
) -> np.ndarray:
    """Row of the averaged reference grid (emmeans) for one arm."""
    weights = dict.fromkeys(names, 0.0)
    weights["(Intercept)"] = 1.0
    weights["baseline"] = float(data["baseline"].mean())
    if arm != arms[0]:
        weights[f"arm:{arm}"] = 1.0
    for covariate in covariates:
        if _is_factor(data, covariate):
            levels = _factor_levels(data, covariate)
            for level in levels[1:]:
                weights[f"{covariate}:{level}"] = 1.0 / len(levels)
        else:
            weights[covariate] = float(data[covariate].astype(float).mean())
    return np.array([weights[name] for name in names])


def ancova_by_visit(
    analysis: pd.DataFrame,
    study: Study,
    conf_level: float = 0.95,
    tables: Mapping[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """ANCOVA rows of a parallel-group study at each post-baseline visit.

    Parameters
    ----------
    analysis : DataFrame
        Long analysis data: ``participant_id, arm, visit, outcome, value`` and, when the
        study declares covariates, one column per covariate (constant within participant).
    study : Study
    conf_level : float
    tables : mapping of str to DataFrame, optional
        Each outcome's wide table as :func:`trialflow.stats._tidy.wide_tables` makes them,
        when the caller already has them (:func:`trialflow.stats.analyse_study` reshapes once
        for all analyses); made here otherwise.

    Returns
    -------
    DataFrame
        Contract rows with ``analysis = "ancova"``: per non-reference arm the adjusted
        difference (``contrast`` e.g. ``exercise - control``, ``group`` empty) and per arm the
        adjusted mean (``contrast = "adjusted mean"``, ``group`` the arm). Covariates absent
        from ``analysis`` are left out and named in the note.
    """
    if len(study.arm_ids) < 2:
        return keyed_rows([])
    covariates = [c for c in study.covariates if c in analysis.columns]
    missing = [c for c in study.covariates if c not in analysis.columns]
    note = "adjusted for baseline" + "".join(f", {c}" for c in covariates)
    if missing:
        note += "; covariates not in the data: " + ", ".join(missing)
    reference = study.reference_arm.id
    rows = []
    constants = first_by_participant(analysis, covariates) if covariates else {}
    for outcome, wide in (wide_tables(analysis, study) if tables is None else tables).items():
        if covariates:
            per_participant = constants.get(outcome)
            if per_participant is None:  # e.g. no participant id: that outcome's rows alone
                per_participant = (
                    analysis.loc[analysis["outcome"] == outcome]
                    .groupby("participant_id", sort=True)[covariates]
                    .first()
                )
            wide = wide.join(per_participant)
        for visit in study.post_baseline:
            data = wide.rename(columns={study.baseline.id: "baseline"})
            data = data.assign(value=wide[visit.id])
            contrasts, means = ancova(data, study.arm_ids, covariates, conf_level)
            keys = {"study": study.id, "outcome": outcome, "visit": visit.id, "analysis": "ancova"}
            for record in contrasts.to_dict("records"):
                arm = record.pop("arm")
                record["note"] = "; ".join(filter(None, [record["note"], note]))
                rows.append(
                    keys | {"contrast": between_contrast(arm, reference), "group": ""} | record
                )
            for record in means.to_dict("records"):
                arm = record.pop("arm")
                record["note"] = "; ".join(filter(None, [record["note"], note]))
                rows.append(keys | {"contrast": ADJUSTED_MEAN_CONTRAST, "group": arm} | record)
    return keyed_rows(rows)
