"""The fitted MMRM: estimates, inference for contrasts, Type 3 tests and LS-means."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats as sps

from .covariance import CovarianceStructure
from .design import Design
from .inference import (
    kenward_roger_covariance,
    kenward_roger_df,
    satterthwaite_df,
    satterthwaite_f_df,
)
from .likelihood import Evaluation, PatternStats

__all__ = ["MMRMResults"]


class MMRMResults:
    """Results of :func:`trialflow.stats.mmrm.fit_mmrm`, in the statsmodels spirit.

    Attributes
    ----------
    params, bse, tvalues, pvalues, df : Series
        Fixed effects, their standard errors (Kenward-Roger adjusted when ``ddf`` is a
        Kenward-Roger method), t statistics, two-sided p-values and denominator df.
    structure : str
        Covariance structure actually used (after any fallback).
    attempts : tuple of FitAttempt
        Every structure tried, in order, with its convergence message.
    ddf : str
        Degrees-of-freedom method.
    minus2_loglik : float
        -2 (restricted) log-likelihood as SAS reports it (``llf`` is the log-likelihood).
    theta : ndarray
        Covariance parameters in SAS's parameterisation (see :meth:`covariance_parameters`).
    cov_theta : ndarray
        Their asymptotic covariance, the inverse observed information.
    sigma : DataFrame
        The estimated visit-by-visit covariance matrix.
    cov_params_model : DataFrame
        Model-based covariance of the fixed effects, ``(X' V^-1 X)^-1``;
        :meth:`cov_params` is the one the inference uses.
    n_obs, n_subjects, n_subjects_input, n_patterns : int
        Observations and subjects analysed, subjects read, missingness patterns.
    """

    def __init__(
        self,
        design: Design,
        structure: CovarianceStructure,
        theta: np.ndarray,
        evaluation: Evaluation,
        stats: PatternStats,
        reml: bool,
        ddf: str,
        attempts: tuple,
        time: str,
        time_levels: tuple[str, ...],
        subject: str,
        data: pd.DataFrame,
        n_subjects_input: int | None = None,
    ):
        self.design = design
        self.covariance_structure = structure
        self.structure = structure.name
        self.theta = np.asarray(theta, dtype=float)
        self.reml = reml
        self.method = "REML" if reml else "ML"
        self.ddf = ddf
        self.attempts = attempts
        self.time = time
        self.time_levels = time_levels
        self.subject = subject
        self.data = data
        self.n_obs = stats.n_obs
        self.n_subjects = stats.n_subjects  # subjects with at least one analysed visit
        # SAS counts every subject read, also those without an analysed visit (BIC uses it)
        self.n_subjects_input = n_subjects_input or stats.n_subjects
        self.n_patterns = len(stats.counts)
        self._eval = evaluation
        self.minus2_loglik = evaluation.objective
        self.llf = -evaluation.objective / 2
        names = design.column_names
        self.exog_names = names
        self.params = pd.Series(evaluation.beta, index=names, name="estimate")
        # covariance of theta: inverse observed information of the log-likelihood
        self.cov_theta = 2 * np.linalg.inv(evaluation.hessian)
        self.cov_params_model = pd.DataFrame(evaluation.phi, index=names, columns=names)
        if ddf.startswith("kenward"):
            adjusted = kenward_roger_covariance(
                evaluation.phi,
                self.cov_theta,
                evaluation.p_mats,
                evaluation.q_mats,
                evaluation.r_mats,
                linear=ddf == "kenward-roger-linear",
            )
        else:
            adjusted = evaluation.phi
        self._cov = adjusted
        eye = np.eye(len(names))
        table = self.contrast(eye, names=names)
        self.bse = pd.Series(table["se"].to_numpy(), index=names, name="se")
        self.df = pd.Series(table["df"].to_numpy(), index=names, name="df")
        self.tvalues = pd.Series(table["t"].to_numpy(), index=names, name="t")
        self.pvalues = pd.Series(table["p_value"].to_numpy(), index=names, name="p_value")

    # ------------------------------------------------------------------ basic quantities
    @property
    def converged(self) -> bool:
        return bool(self.attempts and self.attempts[-1].converged)

    @property
    def fallback_used(self) -> bool:
        """True when the first structure asked for did not converge."""
        return len(self.attempts) > 1

    @property
    def n_cov_params(self) -> int:
        return len(self.theta)

    @property
    def aic(self) -> float:
        """AIC as SAS computes it (REML: covariance parameters only)."""
        k = self.n_cov_params + (0 if self.reml else len(self.params))
        return self.minus2_loglik + 2 * k

    @property
    def bic(self) -> float:
        """BIC as SAS computes it (log of the number of subjects read)."""
        k = self.n_cov_params + (0 if self.reml else len(self.params))
        return self.minus2_loglik + k * np.log(self.n_subjects_input)

    def cov_params(self) -> pd.DataFrame:
        """Covariance of the fixed effects (Kenward-Roger adjusted when that method is used)."""
        return pd.DataFrame(self._cov, index=self.exog_names, columns=self.exog_names)

    @cached_property
    def sigma(self) -> pd.DataFrame:
        """Estimated within-subject covariance matrix over visits."""
        mat = self.covariance_structure.sigma(self.theta)
        return pd.DataFrame(mat, index=list(self.time_levels), columns=list(self.time_levels))

    def covariance_parameters(self, alpha: float = 0.05) -> pd.DataFrame:
        """Covariance parameters with SAS's names, asymptotic SEs and confidence limits.

        As SAS's ``CL`` option: variances get Satterthwaite-type limits
        ``nu * est / chi2(nu)`` with ``nu = 2 (est / se)^2``; covariances and
        correlations get Wald limits.
        """
        names = self.covariance_structure.param_names()
        se = np.sqrt(np.clip(np.diag(self.cov_theta), 0, None))
        est = self.theta
        is_var = np.array([_is_variance(name) for name in names])
        z = sps.norm.ppf(1 - alpha / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            nu = 2 * (est / se) ** 2
            lower = np.where(is_var, nu * est / sps.chi2.ppf(1 - alpha / 2, nu), est - z * se)
            upper = np.where(is_var, nu * est / sps.chi2.ppf(alpha / 2, nu), est + z * se)
        return pd.DataFrame(
            {"estimate": est, "se": se, "lower": lower, "upper": upper},
            index=pd.Index(names, name="cov_parm"),
        )

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Confidence intervals of the fixed effects with the model's df."""
        q = sps.t.ppf(1 - alpha / 2, self.df.to_numpy())
        return pd.DataFrame(
            {"lower": self.params - q * self.bse, "upper": self.params + q * self.bse}
        )

    # ------------------------------------------------------------------ contrasts
    def _df_1d(self, row: np.ndarray) -> float:
        ev = self._eval
        return satterthwaite_df(row, ev.phi, self.cov_theta, ev.p_mats)

    def contrast(
        self,
        contrast_matrix: np.ndarray | Sequence[float],
        names: Sequence[str] | None = None,
        alpha: float = 0.05,
    ) -> pd.DataFrame:
        """t tests of each row of ``contrast_matrix`` (estimates of ``L @ params``).

        The standard error uses :meth:`cov_params`; the df is Satterthwaite's (equal to
        Kenward-Roger's for one-row contrasts).

        Returns
        -------
        DataFrame
            Columns ``estimate, se, df, t, p_value, ci_low, ci_high``.
        """
        lc = np.atleast_2d(np.asarray(contrast_matrix, dtype=float))
        if lc.shape[1] != len(self.params):
            raise ValueError(f"contrast needs {len(self.params)} columns, got {lc.shape[1]}")
        est = lc @ self.params.to_numpy()
        se = np.sqrt(np.einsum("ia,ab,ib->i", lc, self._cov, lc))
        df = np.array([self._df_1d(row) for row in lc])
        with np.errstate(divide="ignore", invalid="ignore"):
            t = est / se
        p = 2 * sps.t.sf(np.abs(t), df)
        q = sps.t.ppf(1 - alpha / 2, df)
        return pd.DataFrame(
            {
                "estimate": est,
                "se": se,
                "df": df,
                "t": t,
                "p_value": p,
                "ci_low": est - q * se,
                "ci_high": est + q * se,
            },
            index=list(names) if names is not None else None,
        )

    def f_test(self, contrast_matrix: np.ndarray) -> dict[str, float]:
        """F test of ``L @ params = 0`` for a (multi-row) contrast matrix ``L``.

        Kenward-Roger: adjusted covariance, KR df and scale. Satterthwaite: model-based
        covariance and SAS's eigen-decomposition df.

        Returns
        -------
        dict
            ``num_df``, ``den_df``, ``f_value``, ``p_value``.
        """
        lc = np.atleast_2d(np.asarray(contrast_matrix, dtype=float))
        ev = self._eval
        est = lc @ self.params.to_numpy()
        rank = np.linalg.matrix_rank(lc @ ev.phi @ lc.T)
        if self.ddf.startswith("kenward"):
            den_df, scale = kenward_roger_df(lc, ev.phi, self.cov_theta, ev.p_mats)
            f = scale * float(est @ np.linalg.solve(lc @ self._cov @ lc.T, est)) / rank
        else:
            if lc.shape[0] == 1:
                den_df = satterthwaite_df(lc[0], ev.phi, self.cov_theta, ev.p_mats)
            else:
                den_df = satterthwaite_f_df(lc, ev.phi, self.cov_theta, ev.p_mats)
            f = float(est @ np.linalg.pinv(lc @ ev.phi @ lc.T) @ est) / rank
        return {
            "num_df": float(rank),
            "den_df": float(den_df),
            "f_value": float(f),
            "p_value": float(sps.f.sf(f, rank, den_df)),
        }

    def type3(self) -> pd.DataFrame:
        """Type 3 F tests per term (SAS's "Type 3 Tests of Fixed Effects").

        The hypothesis of a term is built in the sum-to-zero (effect) parameterisation,
        whose coefficients are a linear map of the fitted ones (found by regressing the
        effect-coded design on the dummy-coded one). Its rows are then written as SAS
        writes Type 3 estimable functions, each level against the reference level
        (``effect_j - effect_ref``, products for interactions): the F statistic does not
        depend on this choice but SAS's multi-row Satterthwaite df does.
        """
        cells = self.data.drop_duplicates(subset=list(self.design.variables))
        x_t = self.design.matrix(cells, coding="treatment")
        x_s = self.design.matrix(cells, coding="sum")
        to_sum = np.linalg.lstsq(x_s, x_t, rcond=None)[0]  # X_t = X_s B, so beta_s = B beta_t
        rows = []
        for term in self.design.terms:
            if not term.variables:
                continue
            cols = self.design.term_slices()[term.name]
            if to_sum[cols].shape[0] == 0:
                continue  # a factor with one level (a single visit): no parameter, no test
            basis = np.ones((1, 1))
            for name in term.variables:
                var = self.design.variables[name]
                size = len(var.coded_levels) if var.is_factor else 1
                # effect_j - effect_ref = beta_j + sum_k beta_k under sum coding
                block = np.eye(size) + (np.ones((size, size)) if var.is_factor else 0.0)
                basis = np.kron(basis, block)
            test = self.f_test(basis @ to_sum[cols])
            rows.append({"term": term.name, **test})
        return pd.DataFrame(rows).set_index("term")

    # ------------------------------------------------------------------ LS-means
    def lsmeans_matrix(
        self, specs: Sequence[str], at: Mapping[str, float] | None = None
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """Rows of the LS-means over the levels of the factors ``specs``.

        Other factors are averaged with equal weights over their levels (as SAS and
        emmeans do); numeric covariates are set to their mean over the analysed rows
        unless given in ``at``.

        Returns
        -------
        grid : DataFrame
            One row per combination of the ``specs`` levels.
        lc : ndarray
            Matching rows of the contrast matrix.
        """
        specs = list(specs)
        design = self.design
        for name in specs:
            if name not in design.factor_names:
                raise ValueError(f"{name!r} is not a factor of the model")
        factors = design.factor_names
        at = dict(at or {})
        levels = [design.variables[name].levels for name in factors]
        grid = pd.DataFrame(list(itertools.product(*levels)), columns=factors)
        for name in design.numeric_names:
            grid[name] = at.get(name, float(self.data[name].astype(float).mean()))
        grid[design.response] = 0.0
        x = design.matrix(grid)
        # average the grid rows of each combination of the specs levels (equal weights)
        sizes = [len(level) for level in levels]
        codes = np.indices(sizes).reshape(len(sizes), -1)  # same order as the product
        spec_pos = [factors.index(name) for name in specs]
        spec_sizes = [sizes[i] for i in spec_pos]
        group = (
            np.ravel_multi_index(codes[spec_pos], spec_sizes)
            if specs
            else np.zeros(len(grid), dtype=int)
        )
        n_groups = int(np.prod(spec_sizes)) if specs else 1
        rows = np.zeros((n_groups, x.shape[1]))
        np.add.at(rows, group, x)
        rows /= np.bincount(group, minlength=n_groups)[:, None]
        spec_levels = list(itertools.product(*(levels[i] for i in spec_pos)))
        return pd.DataFrame(spec_levels, columns=specs), rows

    def lsmeans(
        self, specs: Sequence[str], alpha: float = 0.05, at: Mapping[str, float] | None = None
    ) -> pd.DataFrame:
        """LS-means of the ``specs`` factor combinations with SE, df, t test and CI."""
        grid, lc = self.lsmeans_matrix(specs, at=at)
        table = self.contrast(lc, alpha=alpha)
        return pd.concat([grid, table.reset_index(drop=True)], axis=1)

    def lsmean_diffs(
        self,
        factor: str,
        by: str | None = None,
        reference: str | None = None,
        alpha: float = 0.05,
        at: Mapping[str, float] | None = None,
    ) -> pd.DataFrame:
        """Differences of LS-means, each level of ``factor`` minus ``reference``, within ``by``.

        Parameters
        ----------
        factor : str
            E.g. the arm.
        by : str, optional
            E.g. the visit: one difference per level of ``by``.
        reference : str, optional
            Default: the factor's reference level.
        """
        var = self.design.variables[factor]
        reference = str(reference) if reference is not None else var.reference
        specs = [factor] if by is None else [by, factor]
        grid, lc = self.lsmeans_matrix(specs, at=at)
        out = []
        by_levels = [None] if by is None else self.design.variables[by].levels
        factor_values = grid[factor].to_numpy()
        by_values = grid[by].to_numpy() if by is not None else None
        for by_level in by_levels:
            here = np.ones(len(grid), dtype=bool) if by is None else by_values == by_level
            ref_row = lc[here & (factor_values == reference)][0]
            for level in var.levels:
                if level == reference:
                    continue
                row = lc[here & (factor_values == level)][0]
                item = {"contrast": f"{level} - {reference}", "level": level}
                if by is not None:
                    item = {by: by_level, **item}
                out.append((item, row - ref_row))
        table = self.contrast(np.array([row for _, row in out]), alpha=alpha)
        labels = pd.DataFrame([item for item, _ in out])
        return pd.concat([labels, table.reset_index(drop=True)], axis=1)

    # ------------------------------------------------------------------ summary
    def summary_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """Fixed-effects table: estimate, SE, df, t, p, CI."""
        ci = self.conf_int(alpha)
        return pd.DataFrame(
            {
                "estimate": self.params,
                "se": self.bse,
                "df": self.df,
                "t": self.tvalues,
                "p_value": self.pvalues,
                "ci_low": ci["lower"],
                "ci_high": ci["upper"],
            }
        )

    def summary(self) -> str:
        """A text summary: model information, fit statistics, covariance and fixed effects."""
        tried = ", ".join(
            f"{a.structure} ({'converged' if a.converged else a.message})" for a in self.attempts
        )
        lines = [
            "MMRM (linear model with correlated residuals within subject)",
            f"Response: {self.design.response}   Subject: {self.subject}   Time: {self.time}",
            f"Covariance structure: {self.covariance_structure.label}   Tried: {tried}",
            f"Estimation: {self.method}   DF method: {self.ddf}",
            f"Subjects: {self.n_subjects}   Observations: {self.n_obs}   "
            f"Missingness patterns: {self.n_patterns}",
            f"-2 log-likelihood: {self.minus2_loglik:.4f}   AIC: {self.aic:.4f}   "
            f"BIC: {self.bic:.4f}",
            "",
            "Covariance parameters",
            self.covariance_parameters().to_string(float_format=lambda v: f"{v:.4f}"),
            "",
            "Fixed effects",
            self.summary_frame().to_string(float_format=lambda v: f"{v:.4f}"),
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<MMRMResults {self.design.response}: {self.structure} {self.method}, "
            f"{self.ddf}, {self.n_subjects} subjects>"
        )


def _is_variance(name: str) -> bool:
    """True for parameters SAS treats as variances (chi-square limits)."""
    if name.startswith("UN("):
        i, j = name[3:-1].split(",")
        return i == j
    return name.startswith("Var(") or name in ("Residual", "TOEP(1)")
