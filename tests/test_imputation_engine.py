"""The machinery under the imputation methods: per-group covariance in the MMRM engine, the
batched REML of the replicates, the data preparation and the ANCOVA core.

References: a dense N x N likelihood written here, ``fit_mmrm`` fitted arm by arm, the
engine's own ``evaluate`` on statistics built from the raw rows, finite differences and
:func:`trialflow.stats.ancova.ancova` (statsmodels).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers.naive_imputation import simulate

from trialflow.errors import InputError
from trialflow.stats.ancova import ancova, ancova_design, ols_fit
from trialflow.stats.imputation import derive_monotone_ice, resolve_strategies
from trialflow.stats.imputation.data import prepare_data
from trialflow.stats.imputation.model import build_cells, engine_statistics, fit_model
from trialflow.stats.imputation.reml import (
    chord_batch,
    evaluate_batch,
    newton_batch,
    theta_from_sigmas,
)
from trialflow.stats.mmrm import (
    Design,
    MMRMControl,
    expand_time,
    fit_mmrm,
    get_structure,
    grouped_structure,
)
from trialflow.stats.mmrm.fit import optimise
from trialflow.stats.mmrm.likelihood import evaluate, mivque0, pattern_statistics

VISITS = ["v1", "v2", "v3", "v4"]
ARMS = ["pbo", "trt"]


def dense_grouped_minus2ll(x, y, subj, time, group, sigmas):
    """REML -2 log-likelihood with V_i = Sigma_{group(i)}[visits, visits], dense N x N."""
    n = len(y)
    v = np.zeros((n, n))
    for s in np.unique(subj):
        idx = np.flatnonzero(subj == s)
        v[np.ix_(idx, idx)] = sigmas[group[idx[0]]][np.ix_(time[idx], time[idx])]
    vi = np.linalg.inv(v)
    xvx = x.T @ vi @ x
    beta = np.linalg.solve(xvx, x.T @ vi @ y)
    r = y - x @ beta
    return (
        np.linalg.slogdet(v)[1]
        + r @ vi @ r
        + np.linalg.slogdet(xvx)[1]
        + (n - x.shape[1]) * np.log(2 * np.pi)
    )


def long_rows(data):
    rows = data.dropna(subset=["value"]).reset_index(drop=True)
    subj = pd.factorize(rows["participant_id"])[0]
    time = rows["visit"].map({v: i for i, v in enumerate(VISITS)}).to_numpy()
    group = (rows["arm"] == "trt").to_numpy().astype(int)
    return rows, subj, time, group


# ---------------------------------------------------------------- grouped covariance


def test_grouped_likelihood_equals_dense_and_derivatives():
    data = simulate(40, seed=1)
    rows, subj, time, group = long_rows(data)
    x = Design.from_formula("value ~ baseline * visit + arm * visit", rows).matrix(rows)
    y = rows["value"].to_numpy()
    stats = pattern_statistics(x, y, subj, expand_time(time, group, 4), 8)
    structure = grouped_structure("unstructured", 4, 2)
    rng = np.random.default_rng(2)
    sigmas = [a @ a.T + 3 * np.eye(4) for a in rng.normal(size=(2, 4, 4))]
    theta = theta_from_sigmas(np.array(sigmas)[None])[0]
    np.testing.assert_allclose(structure.sigmas(theta), sigmas)
    ev = evaluate(stats, structure, theta, order=2)
    dense = dense_grouped_minus2ll(x, y, subj, time, group, sigmas)
    assert ev.objective == pytest.approx(dense, rel=1e-12)
    h = 1e-4
    for k in (0, 4, 9, 10, 15, 19):  # parameters of both groups
        step = np.zeros_like(theta)
        step[k] = h
        up = evaluate(stats, structure, theta + step, order=1)
        down = evaluate(stats, structure, theta - step, order=1)
        assert ev.gradient[k] == pytest.approx(
            (up.objective - down.objective) / (2 * h), rel=1e-5, abs=1e-5
        )
        np.testing.assert_allclose(
            ev.hessian[k], (up.gradient - down.gradient) / (2 * h), rtol=1e-4, atol=1e-5
        )


def test_grouped_fit_with_arm_specific_mean_equals_fits_per_arm():
    """With every fixed effect specific to the arm, X'V^-1X is block diagonal and the REML
    likelihood is the sum of the arms' likelihoods: the grouped fit is two separate fits."""
    data = simulate(80, seed=2, dropout=0.25)
    rows, subj, time, group = long_rows(data)
    per_arm = Design.from_formula("value ~ baseline * visit", rows).matrix(rows)
    x = np.column_stack([per_arm * (group == g)[:, None] for g in (0, 1)])
    stats = pattern_statistics(x, rows["value"].to_numpy(), subj, expand_time(time, group, 4), 8)
    structure = grouped_structure("unstructured", 4, 2)
    start = mivque0(stats, structure)
    opt = optimise(stats, structure, start, tol=1e-20)
    assert opt.converged
    total = 0.0
    for g, arm in enumerate(ARMS):
        fit = fit_mmrm(
            rows.loc[rows["arm"] == arm],
            "value ~ baseline * visit",
            subject="participant_id",
            time="visit",
            time_levels=VISITS,
            control=MMRMControl(tolerance=1e-20),
        )
        np.testing.assert_allclose(structure.sigmas(opt.theta)[g], fit.sigma, rtol=1e-7)
        total += fit.minus2_loglik
    assert evaluate(stats, structure, opt.theta).objective == pytest.approx(total, rel=1e-10)


# ---------------------------------------------------------------- batched REML


@pytest.mark.parametrize("covariance", ["shared", "by_arm"])
def test_batched_evaluation_equals_engine(covariance):
    data = simulate(50, seed=3)
    d = prepare_data(data, VISITS, ARMS, covariates=("age", "sex"))
    cells = build_cells(d, covariance)
    groups = cells.n_groups
    rows, subj, time, group = long_rows(data)
    names = [f"x_{name}" for name in d.x_names]
    rows = rows.merge(
        pd.DataFrame(d.x, index=d.participant_ids, columns=names),
        left_on="participant_id",
        right_index=True,
    )
    # the engine's statistics from the raw rows, design e_t (x) x_i, visits per group
    x = np.zeros((len(rows), 4 * d.n_x))
    for t in range(4):
        x[time == t, t * d.n_x : (t + 1) * d.n_x] = rows.loc[time == t, names]
    g = group if covariance == "by_arm" else np.zeros_like(group)
    raw = pattern_statistics(
        x, rows["value"].to_numpy(), subj, expand_time(time, g, 4), 4 * groups
    )
    mine = engine_statistics(cells, cells.full())
    assert mine.n_obs == raw.n_obs and mine.n_subjects == raw.n_subjects
    structure = (
        get_structure("unstructured", 4)
        if groups == 1
        else grouped_structure("unstructured", 4, groups)
    )
    rng = np.random.default_rng(4)
    sigmas = np.array([a @ a.T + 3 * np.eye(4) for a in rng.normal(size=(groups, 4, 4))])
    theta = theta_from_sigmas(sigmas[None])[0]
    expected = evaluate(raw, structure, theta, order=2)
    batch = evaluate_batch(cells.full(), theta[None], 4, groups, d.n_x, order=2)
    assert batch.objective[0] == pytest.approx(expected.objective, rel=1e-12)
    np.testing.assert_allclose(batch.gradient[0], expected.gradient, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(batch.hessian[0], expected.hessian, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(batch.beta[0], expected.beta, rtol=1e-9, atol=1e-9)


def test_downdates_and_weights_equal_statistics_of_the_reduced_data():
    data = simulate(40, seed=5)
    d = prepare_data(data, VISITS, ARMS)
    cells = build_cells(d)
    deleted = np.array([0, 7, 13])
    jack = cells.jackknife(deleted)
    counts = np.random.default_rng(1).integers(0, 3, d.n).astype(float)
    weighted = cells.weighted(counts[None])
    rng = np.random.default_rng(6)
    a = rng.normal(size=(4, 4))
    theta = theta_from_sigmas((a @ a.T + 3 * np.eye(4))[None, None])[0]
    for r, j in enumerate(deleted):
        rest = data.loc[data["participant_id"] != d.participant_ids[j]]
        reduced = build_cells(prepare_data(rest, VISITS, ARMS))
        want = evaluate_batch(reduced.full(), theta[None], 4, 1, d.n_x, order=1)
        got = evaluate_batch([_one(c, r) for c in jack], theta[None], 4, 1, d.n_x, order=1)
        assert got.objective[0] == pytest.approx(want.objective[0], rel=1e-12)
        np.testing.assert_allclose(got.gradient, want.gradient, rtol=1e-9, atol=1e-9)
    repeated = pd.concat(
        [
            data.loc[data["participant_id"] == pid].assign(participant_id=f"{pid}#{k}")
            for pid, c in zip(d.participant_ids, counts, strict=True)
            for k in range(int(c))
        ]
    )
    dup = build_cells(prepare_data(repeated, VISITS, ARMS))
    want = evaluate_batch(dup.full(), theta[None], 4, 1, d.n_x, order=1)
    got = evaluate_batch(weighted, theta[None], 4, 1, d.n_x, order=1)
    assert got.objective[0] == pytest.approx(want.objective[0], rel=1e-12)


def _one(cell, r):
    return type(cell)(cell.group, cell.visits, cell.n[r : r + 1], cell.cross[r : r + 1])


@pytest.mark.parametrize("method", ["chord", "newton"])
def test_replicate_fits_reach_the_engine_optimum(method):
    data = simulate(60, seed=8)
    d = prepare_data(data, VISITS, ARMS, covariates=("age",))
    cells = build_cells(d, "by_arm")
    model = fit_model(cells)
    deleted = np.array([0, 11, 23, 47])
    batch = cells.jackknife(deleted)
    start = np.repeat(model.theta[None], len(deleted), axis=0)
    if method == "chord":
        full = evaluate_batch(cells.full(), model.theta[None], 4, 2, d.n_x, order=2)
        fit = chord_batch(batch, start, full.hessian[0], 4, 2, d.n_x)
    else:
        fit = newton_batch(batch, start, 4, 2, d.n_x)
    for r in np.flatnonzero(fit.converged):
        fresh = fit_model(cells, batch, replicate=int(r))  # engine, from MIVQUE0
        np.testing.assert_allclose(fit.theta[r], fresh.theta, rtol=1e-8, atol=1e-9)
        np.testing.assert_allclose(fit.beta[r], fresh.coef.reshape(-1), rtol=1e-8, atol=1e-9)
    assert fit.converged.any()  # the others go on with Newton-Raphson, then the engine


# ---------------------------------------------------------------- data preparation


def test_monotone_ice_is_the_start_of_the_trailing_gap():
    nan = np.nan
    y = np.array(
        [[1, 2, 3, 4], [1, nan, 3, nan], [nan, nan, nan, nan], [1, 2, nan, nan], [nan, 2, 3, 4]]
    )
    assert derive_monotone_ice(y).tolist() == [4, 3, 0, 2, 4]


def test_resolve_strategies_by_ice_type_and_errors():
    ice = pd.DataFrame(
        {
            "participant_id": ["a", "b", "c"],
            "ice_visit": ["v2", None, "v3"],
            "ice_type": ["stopped", None, "rescue"],
        }
    )
    out = resolve_strategies(ice, {"stopped": "j2r", "rescue": "mar"})
    assert out["strategy"].tolist()[::2] == ["j2r", "mar"]
    assert resolve_strategies(ice, "cr")["strategy"].tolist() == ["cr"] * 3
    with pytest.raises(InputError, match="row 4, column 'ice_type'"):
        resolve_strategies(ice, {"stopped": "j2r"})
    with pytest.raises(InputError, match="strategy"):
        resolve_strategies(ice, "jump")


def test_post_ice_values_are_left_out_of_the_fit_and_imputed_or_kept():
    data = simulate(20, seed=9, dropout=0.0, gaps=0.0)
    ice = pd.DataFrame(
        {
            "participant_id": ["s000", "s001", "s002"],
            "ice_visit": ["v2", "v3", "v2"],
            "strategy": ["j2r", "mar", "lmcf"],
        }
    )
    impute = prepare_data(data, VISITS, ARMS, ice=ice)
    keep = prepare_data(data, VISITS, ARMS, ice=ice, post_ice="keep")
    assert impute.ice[:4].tolist() == [1, 2, 1, 4]
    assert impute.fit_observed[0].tolist() == [True, False, False, False]
    assert impute.fit_observed[1].all()  # MAR: post-ICE values stay
    assert (impute.kept == impute.fit_observed).all()
    assert keep.kept[:3].all() and (keep.fit_observed == impute.fit_observed).all()
    assert impute.imputed_post_ice()[0].tolist() == [False, True, True, True]
    assert not keep.imputed_post_ice().any()


def test_bad_inputs_are_named():
    data = simulate(10, seed=10)
    with pytest.raises(InputError, match="column 'arm'"):
        prepare_data(data.replace({"arm": {"trt": "active"}}), VISITS, ARMS)
    twice = pd.concat([data, data.iloc[:1]])
    with pytest.raises(InputError, match="one value per participant and visit"):
        prepare_data(twice, VISITS, ARMS)
    moved = data.copy()
    moved.loc[1, "baseline"] += 1
    with pytest.raises(InputError, match="column 'baseline'"):
        prepare_data(moved, VISITS, ARMS)
    bad_visit = pd.DataFrame({"participant_id": ["s001"], "ice_visit": ["v9"], "strategy": ["cr"]})
    with pytest.raises(InputError, match="row 2, column 'ice_visit'"):
        prepare_data(data, VISITS, ARMS, ice=bad_visit)
    first = pd.DataFrame({"participant_id": ["s001"], "ice_visit": ["v1"], "strategy": ["lmcf"]})
    with pytest.raises(InputError, match="s001"):
        prepare_data(data, VISITS, ARMS, ice=first)
    with pytest.raises(ValueError, match="reference_arm"):
        prepare_data(data, VISITS, ARMS, reference_arm="placebo")


def test_missing_baseline_is_left_out_and_reference_map_switches_arm():
    data = simulate(30, seed=11, arms=("pbo", "low", "high"))
    data.loc[data["participant_id"] == "s003", "baseline"] = np.nan
    d = prepare_data(data, VISITS, ["pbo", "low", "high"], reference_arm="low")
    assert d.n == 29 and d.n_excluded == 1 and "s003" not in d.participant_ids
    switched = d.x @ d.reference_map().T
    assert (switched[:, d.arm_column(1)] == 1).all() and (switched[:, d.arm_column(2)] == 0).all()
    np.testing.assert_array_equal(switched[:, :2], d.x[:, :2])


# ---------------------------------------------------------------- ANCOVA core


def test_ols_core_reproduces_the_ancova():
    data = simulate(60, seed=12, dropout=0.0, gaps=0.0)
    per = data.loc[data["visit"] == "v3"].reset_index(drop=True)
    contrasts, _ = ancova(per, ARMS, ("age", "sex"))
    x, names = ancova_design(per, ARMS, ("age", "sex"))
    fit = ols_fit(x, per["value"].to_numpy())
    col = names.index("arm:trt")
    se = np.sqrt(fit["rss"][0] / fit["df"] * fit["xtx_inv"][col, col])
    assert fit["coef"][col, 0] == pytest.approx(contrasts["estimate"].iloc[0], rel=1e-12)
    assert se == pytest.approx(contrasts["se"].iloc[0], rel=1e-10)
    assert fit["df"] == contrasts["df"].iloc[0]
