"""Unit tests of the MMRM engine: formula/design builder, covariance structures, likelihood,
optimisation and fallbacks. Expected values come from independent computations (explicit
dummy coding, dense N x N likelihood, finite differences, statsmodels MixedLM)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from trialflow.stats.mmrm import (
    STRUCTURES,
    ConvergenceError,
    Design,
    MMRMControl,
    fit_mmrm,
    get_structure,
    parse_formula,
)
from trialflow.stats.mmrm.likelihood import evaluate, pattern_statistics

# ---------------------------------------------------------------- formula and design


def test_parse_formula_expands_and_orders_terms():
    response, terms = parse_formula("y ~ a * b + c")
    assert response == "y"
    assert [t.name for t in terms] == ["Intercept", "a", "b", "c", "a:b"]
    assert [t.name for t in parse_formula("y ~ 1")[1]] == ["Intercept"]
    assert [t.name for t in parse_formula("y ~ 0 + a")[1]] == ["a"]
    assert [t.name for t in parse_formula("y ~ a + a + b*a")[1]] == ["Intercept", "a", "b", "a:b"]


@pytest.mark.parametrize("bad", ["y a", "~ a", "y ~ a:b", "y ~ a + a:b", "y ~ a:a"])
def test_parse_formula_rejects(bad):
    with pytest.raises(ValueError):
        parse_formula(bad)


def small_frame():
    return pd.DataFrame(
        {
            "y": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "arm": ["ctl", "trt", "ctl", "trt", "ctl", "trt"],
            "visit": ["w1", "w1", "w2", "w2", "w3", "w3"],
            "x": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5],
        }
    )


def test_design_treatment_coding_with_reference_and_interaction():
    frame = small_frame()
    design = Design.from_formula("y ~ x + arm * visit", frame, reference={"visit": "w2"})
    assert design.column_names == [
        "Intercept",
        "x",
        "arm[trt]",
        "visit[w1]",
        "visit[w3]",
        "arm[trt]:visit[w1]",
        "arm[trt]:visit[w3]",
    ]
    x = design.matrix(frame)
    arm = (frame["arm"] == "trt").to_numpy(float)
    w1 = (frame["visit"] == "w1").to_numpy(float)
    w3 = (frame["visit"] == "w3").to_numpy(float)
    expected = np.column_stack([np.ones(6), frame["x"], arm, w1, w3, arm * w1, arm * w3])
    np.testing.assert_array_equal(x, expected)


def test_design_sum_coding_and_errors():
    frame = small_frame()
    design = Design.from_formula("y ~ arm", frame, reference={"arm": "ctl"})
    np.testing.assert_array_equal(design.matrix(frame, coding="sum")[:, 1], [-1, 1] * 3)
    with pytest.raises(ValueError, match="levels not in the model"):
        design.matrix(frame.assign(arm="other"))
    with pytest.raises(ValueError, match="reference level"):
        Design.from_formula("y ~ arm", frame, reference={"arm": "nope"})
    with pytest.raises(KeyError):
        Design.from_formula("y ~ missing", frame)


def test_numeric_column_as_factor():
    frame = small_frame().assign(dose=[1, 2, 1, 2, 1, 2])
    design = Design.from_formula("y ~ dose", frame, factors=["dose"])
    assert design.column_names == ["Intercept", "dose[2]"]
    frame["dose"] = [2, 10, 2, 10, 30, 30]
    design = Design.from_formula("y ~ dose", frame, factors=["dose"])
    assert design.variables["dose"].levels == ("2", "10", "30")
    np.testing.assert_array_equal(design.matrix(frame)[:, 1], [0, 1, 0, 1, 0, 0])


# ---------------------------------------------------------------- covariance structures


@pytest.mark.parametrize("name", STRUCTURES)
def test_structure_derivatives_match_finite_differences(name):
    structure = get_structure(name, 4)
    rng = np.random.default_rng(1)
    base = rng.normal(size=(4, 4))
    theta = structure.start(base @ base.T + 4 * np.eye(4))
    assert structure.is_valid(theta)
    assert len(structure.param_names()) == structure.n_params == len(theta)
    sigma, d1, d2 = structure.derivatives(theta)
    np.testing.assert_allclose(sigma, sigma.T)
    h = 1e-6
    for k in range(len(theta)):
        step = np.zeros_like(theta)
        step[k] = h
        fd = (structure.sigma(theta + step) - structure.sigma(theta - step)) / (2 * h)
        np.testing.assert_allclose(d1[k], fd, atol=1e-6)
        fd2 = (
            structure.derivatives(theta + step, 1)[1] - structure.derivatives(theta - step, 1)[1]
        ) / (2 * h)
        second = np.zeros_like(fd2) if d2 is None else d2[k]
        np.testing.assert_allclose(second, fd2, atol=1e-5)
    assert (d2 is None) == structure.linear


def test_structure_names_and_sas_parameter_names():
    assert get_structure("UN", 3).param_names() == [
        "UN(1,1)", "UN(2,1)", "UN(2,2)", "UN(3,1)", "UN(3,2)", "UN(3,3)",
    ]  # fmt: skip
    assert get_structure("cs", 3).param_names() == ["CS", "Residual"]
    assert get_structure("ar1", 3).param_names() == ["AR(1)", "Residual"]
    assert get_structure("toep", 3).param_names() == ["TOEP(2)", "TOEP(3)", "Residual"]
    assert get_structure("arh1", 2).param_names() == ["Var(1)", "Var(2)", "ARH(1)"]
    sigma = get_structure("ar1", 3).sigma(np.array([0.5, 2.0]))
    np.testing.assert_allclose(
        sigma, 2.0 * np.array([[1, 0.5, 0.25], [0.5, 1, 0.5], [0.25, 0.5, 1]])
    )
    with pytest.raises(ValueError):
        get_structure("banded", 3)


# ---------------------------------------------------------------- likelihood


def simulated(n=60, t=4, seed=7, dropout=0.25):
    """Two arms, t visits, a numeric covariate and random missing visits."""
    rng = np.random.default_rng(seed)
    sd = np.linspace(1.0, 2.0, t)
    corr = 0.6 ** np.abs(np.subtract.outer(np.arange(t), np.arange(t)))
    chol = np.linalg.cholesky(corr * np.outer(sd, sd))
    rows = []
    for i in range(n):
        arm = "trt" if i % 2 else "pbo"
        base = rng.normal()
        eps = chol @ rng.normal(size=t)
        for v in range(t):
            y = 1.0 + 0.5 * v + (0.8 if arm == "trt" else 0.0) * v / t + 0.7 * base + eps[v]
            if v > 0 and rng.random() < dropout:
                y = np.nan
            rows.append((f"s{i:03d}", arm, f"v{v + 1}", base, y))
    return pd.DataFrame(rows, columns=["id", "arm", "visit", "base", "y"])


def dense_minus2ll(x, y, subj, time, sigma, reml):
    """-2 log-likelihood from the full N x N covariance, written independently."""
    n = len(y)
    v = np.zeros((n, n))
    for s in np.unique(subj):
        idx = np.flatnonzero(subj == s)
        v[np.ix_(idx, idx)] = sigma[np.ix_(time[idx], time[idx])]
    vi = np.linalg.inv(v)
    xvx = x.T @ vi @ x
    beta = np.linalg.solve(xvx, x.T @ vi @ y)
    r = y - x @ beta
    out = np.linalg.slogdet(v)[1] + r @ vi @ r
    if reml:
        return out + np.linalg.slogdet(xvx)[1] + (n - x.shape[1]) * np.log(2 * np.pi)
    return out + n * np.log(2 * np.pi)


@pytest.mark.parametrize("name", ["unstructured", "heterogeneous_ar1", "ante_dependence"])
@pytest.mark.parametrize("reml", [True, False])
def test_pattern_likelihood_equals_dense_and_derivatives(name, reml):
    data = simulated().dropna(subset=["y"])
    design = Design.from_formula("y ~ base + arm * visit", data)
    x = design.matrix(data)
    y = data["y"].to_numpy()
    subj = pd.factorize(data["id"])[0]
    time = pd.Categorical(data["visit"]).codes.astype(int)
    stats = pattern_statistics(x, y, subj, time, 4)
    structure = get_structure(name, 4)
    rng = np.random.default_rng(3)
    base = rng.normal(size=(4, 4))
    theta = structure.start(base @ base.T + 4 * np.eye(4))
    ev = evaluate(stats, structure, theta, reml=reml, order=2)
    dense = dense_minus2ll(x, y, subj, time, structure.sigma(theta), reml)
    assert ev.objective == pytest.approx(dense, rel=1e-12)
    grad1 = evaluate(stats, structure, theta, reml=reml, order=1).gradient
    np.testing.assert_allclose(ev.gradient, grad1, rtol=1e-9, atol=1e-9)
    h = 1e-5
    for k in range(len(theta)):
        step = np.zeros_like(theta)
        step[k] = h
        up = evaluate(stats, structure, theta + step, reml=reml, order=1)
        down = evaluate(stats, structure, theta - step, reml=reml, order=1)
        fd = (up.objective - down.objective) / (2 * h)
        assert ev.gradient[k] == pytest.approx(fd, rel=1e-5, abs=1e-6)
        np.testing.assert_allclose(
            ev.hessian[k], (up.gradient - down.gradient) / (2 * h), rtol=1e-4, atol=1e-5
        )


def test_row_order_does_not_matter_and_duplicates_are_rejected():
    data = simulated()
    kwargs = dict(formula="y ~ base + arm * visit", subject="id", time="visit")
    a = fit_mmrm(data, **kwargs)
    b = fit_mmrm(data.sample(frac=1.0, random_state=2), **kwargs)
    np.testing.assert_allclose(a.params, b.params, rtol=1e-10)
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-8)
    with pytest.raises(ValueError, match="more than one observation"):
        fit_mmrm(pd.concat([data, data.iloc[:1]]), **kwargs)


# ---------------------------------------------------------------- against statsmodels


@pytest.mark.parametrize("reml", [True, False])
def test_compound_symmetry_equals_random_intercept_model(reml):
    """With a positive covariance, CS is the random-intercept model of statsmodels MixedLM."""
    data = simulated(n=80, seed=11).dropna(subset=["y"])
    ours = fit_mmrm(
        data,
        "y ~ base + arm * visit",
        subject="id",
        time="visit",
        control=MMRMControl(covariance="cs", reml=reml, ddf="satterthwaite", tolerance=1e-12),
    )
    sm = smf.mixedlm("y ~ base + C(arm) * C(visit)", data, groups=data["id"]).fit(
        reml=reml, method="bfgs", gtol=1e-10
    )
    names = {
        name: name.replace("C(arm)[T.", "arm[").replace("C(visit)[T.", "visit[")
        for name in sm.fe_params.index
    }
    fe = sm.fe_params.rename(index=names)
    assert set(fe.index) == set(ours.params.index)
    np.testing.assert_allclose(ours.params[fe.index], fe, rtol=1e-5, atol=1e-6)
    # statsmodels' SEs come from the joint (beta, theta) Hessian, not Phi: compare the
    # maximised log-likelihood instead
    assert ours.llf == pytest.approx(sm.llf, rel=1e-8)
    cs, resid = ours.theta
    assert cs == pytest.approx(float(sm.cov_re.iloc[0, 0]), rel=1e-4)
    assert resid == pytest.approx(sm.scale, rel=1e-4)


# ---------------------------------------------------------------- fallbacks and inference


def test_fallback_order_is_followed_and_reported():
    """Visits 3 and 4 are never observed together: UN(4,3) is not identifiable."""
    data = simulated(n=60, dropout=0.0)
    odd = data["id"].str[-1].astype(int) % 2 == 1
    data.loc[(data["visit"] == "v3") & odd, "y"] = np.nan
    data.loc[(data["visit"] == "v4") & ~odd, "y"] = np.nan
    res = fit_mmrm(
        data,
        "y ~ arm + visit",
        subject="id",
        time="visit",
        control=MMRMControl(covariance=["unstructured", "toeplitz", "compound_symmetry"]),
    )
    assert res.structure == "toeplitz"
    assert res.fallback_used and res.converged
    first = res.attempts[0]
    assert first.structure == "unstructured" and not first.converged
    assert "not identifiable" in first.message
    assert "Toeplitz" in res.summary() and "unstructured (Hessian" in res.summary()
    with pytest.raises(ConvergenceError) as info:
        fit_mmrm(data, "y ~ arm + visit", subject="id", time="visit")
    assert info.value.attempts[0].structure == "unstructured"


def test_kenward_roger_needs_reml_and_known_ddf():
    data = simulated()
    with pytest.raises(ValueError, match="REML"):
        fit_mmrm(data, "y ~ arm", subject="id", time="visit", control=MMRMControl(reml=False))
    with pytest.raises(ValueError, match="ddf"):
        fit_mmrm(
            data, "y ~ arm", subject="id", time="visit", control=MMRMControl(ddf="containment")
        )


def test_single_df_f_test_is_t_squared_and_kr_inflates_variance():
    data = simulated(n=50)
    kr = fit_mmrm(data, "y ~ base + arm * visit", subject="id", time="visit")
    sat = fit_mmrm(
        data,
        "y ~ base + arm * visit",
        subject="id",
        time="visit",
        control=MMRMControl(ddf="satterthwaite"),
    )
    row = kr.type3().loc["base"]
    assert row["f_value"] == pytest.approx(kr.tvalues["base"] ** 2, rel=1e-10)
    assert row["den_df"] == pytest.approx(kr.df["base"], rel=1e-10)
    # the Kenward-Roger adjustment adds a positive semi-definite term to Phi here
    assert np.all(kr.bse >= sat.bse * (1 - 1e-12))
    # one-row KR df equals the Satterthwaite df
    np.testing.assert_allclose(kr.df, sat.df, rtol=1e-12)
    assert kr.summary().startswith("MMRM")
    assert np.isfinite(kr.aic) and kr.bic > kr.aic


def test_lsmeans_average_factors_with_equal_weights():
    data = simulated(n=40)
    data["site"] = np.where(data["id"].str[-1].isin(list("0123")), "a", "b")
    res = fit_mmrm(data, "y ~ base + site + arm * visit", subject="id", time="visit")
    grid, lc = res.lsmeans_matrix(["arm", "visit"])
    names = res.exog_names
    assert np.allclose(lc[:, names.index("site[b]")], 0.5)
    assert np.allclose(lc[:, names.index("base")], data.dropna(subset=["y"])["base"].mean())
    diffs = res.lsmean_diffs("arm", by="visit")
    trt = res.lsmeans(["arm", "visit"]).set_index(["arm", "visit"])["estimate"]
    for _, row in diffs.iterrows():
        expected = trt[("trt", row["visit"])] - trt[("pbo", row["visit"])]
        assert row["estimate"] == pytest.approx(expected, rel=1e-12)


# ---------------------------------------------------------------- fev_data based checks


def test_log_cholesky_rescue_reaches_the_sas_optimum(fev):
    """Newton-Raphson stopped after one iteration fails; the log-Cholesky search rescues it."""
    res = fit_mmrm(
        fev,
        "FEV1 ~ ARMCD * AVISIT + RACE + SEX",
        subject="USUBJID",
        time="AVISIT",
        reference={"ARMCD": "PBO", "RACE": "Asian", "SEX": "Male"},
        control=MMRMControl(max_iter=1),
    )
    assert res.converged and "log-Cholesky" in res.attempts[-1].message
    # SAS: -2 Res Log Likelihood 3386.44987722 (two Newton iterations, CONVH 1e-8)
    assert res.minus2_loglik == pytest.approx(3386.44987722, abs=1e-4)
    assert res.params["ARMCD[TRT]"] == pytest.approx(3.7745, abs=1e-4)


def test_multi_row_kenward_roger_f_test_against_r_mmrm(fev):
    """R package mmrm 0.3 test suite, df_md(): FEV1 ~ ARMCD + ar1(AVISIT | USUBJID), KR,
    contrast rows (0, 1) and (1, 0): num_df 2, denom_df 188.65, F 3913.72.

    The df is invariant to the covariance parameterisation and agrees to 1e-4; the F
    statistic uses the full KR adjusted covariance, whose second-derivative term depends on
    the parameterisation (ours is SAS's, mmrm's is its own), hence 5e-4.
    """
    res = fit_mmrm(
        fev,
        "FEV1 ~ ARMCD",
        subject="USUBJID",
        time="AVISIT",
        reference={"ARMCD": "PBO"},
        control=MMRMControl(covariance="ar1"),
    )
    test = res.f_test(np.array([[0.0, 1.0], [1.0, 0.0]]))
    assert test["num_df"] == 2
    assert test["den_df"] == pytest.approx(188.65, rel=1e-4)
    assert test["f_value"] == pytest.approx(3913.72, rel=5e-4)
