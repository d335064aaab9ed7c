"""A second, deliberately naive implementation of reference-based conditional mean imputation.

Written from the definitions (Carpenter, Roger and Kenward 2013, section 4.3; rbmi's
"statistical specifications" vignette) without any of the package's machinery: the
imputation model is fitted by the MMRM engine's public formula interface (``fit_mmrm`` with
``value ~ baseline * visit + arm * visit + covariates * visit``), each participant's mean
vectors are predicted from design rows of that formula with the arm set to their own arm
and to the reference arm, the joint covariance is assembled with dense matrix inverses,
the missing block is imputed by the textbook conditional mean, and the completed data are
analysed visit by visit with statsmodels' OLS. Used by the tests as the independent
reference for :mod:`trialflow.stats.imputation`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

from trialflow.stats.mmrm import MMRMControl, fit_mmrm


def simulate(n, seed, visits=4, arms=("pbo", "trt"), dropout=0.35, gaps=0.06, effect=1.5):
    """Long data with baseline, age, sex, monotone dropout and intermittent gaps."""
    rng = np.random.default_rng(seed)
    arm = rng.integers(0, len(arms), n)
    base = rng.normal(20, 4, n)
    age = rng.normal(60, 8, n)
    sex = rng.choice(["F", "M"], n)
    sd = np.linspace(3, 5, visits)
    corr = 0.6 ** np.abs(np.subtract.outer(np.arange(visits), np.arange(visits)))
    chol = np.linalg.cholesky(corr * np.outer(sd, sd))
    eps = rng.standard_normal((n, visits)) @ chol.T
    trend = np.linspace(0.5, 1.0, visits) * effect
    y = 2 + 0.7 * base[:, None] + 0.03 * age[:, None] + (sex == "M")[:, None] * 0.8
    y = y - np.arange(visits) * 0.5 + arm[:, None] * trend + eps
    stop = np.where(rng.random(n) < dropout, rng.integers(0, visits, n), visits)
    missing = np.arange(visits)[None, :] >= stop[:, None]
    missing |= rng.random((n, visits)) < gaps
    y[missing] = np.nan
    names = [f"v{k + 1}" for k in range(visits)]
    return pd.DataFrame(
        {
            "participant_id": np.repeat([f"s{i:03d}" for i in range(n)], visits),
            "arm": np.repeat(np.array(arms)[arm], visits),
            "visit": np.tile(names, n),
            "value": y.ravel(),
            "baseline": np.repeat(base, visits),
            "age": np.repeat(age, visits),
            "sex": np.repeat(sex, visits),
        }
    )


def carpenter_joint(strategy, k, mean_own, mean_ref, sigma_own, sigma_ref):
    """Joint mean and covariance of one participant (dense, from the definitions)."""
    t = len(mean_own)
    if strategy == "mar" or k >= t:
        return mean_own, sigma_own
    if strategy == "cr" or (k == 0 and strategy in ("j2r", "cir")):
        return mean_ref, sigma_ref
    if strategy == "lmcf":
        mean = mean_own.copy()
        mean[k:] = mean_own[k - 1]
        return mean, sigma_own
    mean = mean_own.copy()
    if strategy == "j2r":
        mean[k:] = mean_ref[k:]
    else:  # cir
        mean[k:] = mean_own[k - 1] + mean_ref[k:] - mean_ref[k - 1]
    pre, post = np.arange(k), np.arange(k, t)
    inv_r11 = np.linalg.inv(sigma_ref[np.ix_(pre, pre)])
    a11 = sigma_own[np.ix_(pre, pre)]
    r21 = sigma_ref[np.ix_(post, pre)]
    sigma = np.zeros((t, t))
    sigma[np.ix_(pre, pre)] = a11
    sigma[np.ix_(post, pre)] = r21 @ inv_r11 @ a11
    sigma[np.ix_(pre, post)] = sigma[np.ix_(post, pre)].T
    sigma[np.ix_(post, post)] = (
        sigma_ref[np.ix_(post, post)]
        - r21 @ inv_r11 @ (sigma_ref[np.ix_(pre, pre)] - a11) @ inv_r11 @ r21.T
    )
    return mean, sigma


def wide(data, visits):
    per = data.groupby("participant_id", sort=True).first()
    values = data.pivot(index="participant_id", columns="visit", values="value")
    return per, values.reindex(index=per.index, columns=visits).to_numpy(float)


def mmrm_means(data, visits, arms, covariates, fit_values):
    """Fit the imputation model with fit_mmrm; return a function (participant rows, arm) ->
    (N, T) predicted means, and Sigma."""
    terms = ["baseline * visit", "arm * visit", *[f"{c} * visit" for c in covariates]]
    frame = data.copy()
    frame["value"] = fit_values
    fit = fit_mmrm(
        frame,
        "value ~ " + " + ".join(terms),
        subject="participant_id",
        time="visit",
        reference={"arm": arms[0]},
        time_levels=list(visits),
        control=MMRMControl(tolerance=1e-20),
    )
    beta = fit.params.to_numpy()

    def means(per, arm):
        rows = pd.DataFrame(
            {
                "participant_id": np.repeat(per.index, len(visits)),
                "visit": np.tile(list(visits), len(per)),
                "arm": arm if isinstance(arm, str) else np.repeat(arm, len(visits)),
                "baseline": np.repeat(per["baseline"].to_numpy(), len(visits)),
                "value": 0.0,
            }
        )
        for c in covariates:
            rows[c] = np.repeat(per[c].to_numpy(), len(visits))
        rows["arm"] = pd.Categorical(rows["arm"], categories=list(arms))
        x = fit.design.matrix(rows)
        return (x @ beta).reshape(len(per), len(visits))

    return means, fit.sigma.to_numpy()


def naive_conditional_mean(
    data,
    visits,
    arms,
    ice,
    reference,
    covariates=(),
    post_ice="impute",
    delta=0.0,
    delta_arm=None,
    model=None,
):
    """Estimates (A - 1, T) of conditional mean imputation + ANCOVA, the slow way.

    ``ice`` maps participant id to ``(visit index, strategy)``. ``model``, when given, is
    ``(means_own, means_ref, sigma_of_arm)``: per participant (N, T) means in the own and
    the reference arm and a mapping arm -> Sigma (per-arm covariance); otherwise the model
    is fitted with ``fit_mmrm`` (one Sigma).
    """
    per, y = wide(data, list(visits))
    t = len(visits)
    k = np.array([ice.get(pid, (t, "mar"))[0] for pid in per.index])
    strategy = [ice.get(pid, (t, "mar"))[1] for pid in per.index]
    post = np.arange(t)[None, :] >= k[:, None]
    non_mar = np.array([s != "mar" for s in strategy])[:, None]
    fit_y = np.where(post & non_mar, np.nan, y)
    kept_y = fit_y if post_ice == "impute" else y
    if model is None:
        long_fit = pd.Series(fit_y.ravel(), index=pd.MultiIndex.from_product([per.index, visits]))
        order = pd.MultiIndex.from_arrays([data["participant_id"], data["visit"]])
        means, sigma = mmrm_means(data, visits, arms, covariates, long_fit.reindex(order).values)
        own, ref = means(per, per["arm"].to_numpy()), means(per, reference)
        sigma_of = dict.fromkeys(arms, sigma)
    else:
        own, ref, sigma_of = model
    completed = kept_y.copy()
    for i in range(len(per)):
        arm = per["arm"].iloc[i]
        mean, sigma = carpenter_joint(
            strategy[i], k[i], own[i], ref[i], sigma_of[arm], sigma_of[reference]
        )
        obs = ~np.isnan(kept_y[i])
        mis = ~obs
        if not mis.any():
            continue
        s_oo = sigma[np.ix_(obs, obs)]
        s_mo = sigma[np.ix_(mis, obs)]
        value = mean[mis] + s_mo @ np.linalg.inv(s_oo) @ (kept_y[i, obs] - mean[obs])
        if delta and arm == delta_arm:
            value = value + delta * (np.arange(t)[mis] >= k[i])
        completed[i, mis] = value
    out = np.zeros((len(arms) - 1, t))
    frame = per[["arm", "baseline", *covariates]].copy()
    frame["arm"] = pd.Categorical(frame["arm"], categories=list(arms))
    rhs = " + ".join(["baseline", "arm", *covariates])
    for j in range(t):
        frame["y"] = completed[:, j]
        fit = smf.ols(f"y ~ {rhs}", frame).fit()
        for a in range(1, len(arms)):
            out[a - 1, j] = fit.params[f"arm[T.{arms[a]}]"]
    return out, completed
