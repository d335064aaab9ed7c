"""Single-arm designs: repeated-measures ANOVA (Greenhouse-Geisser) and Friedman test across
visits on complete cases, then Holm-adjusted pairwise paired comparisons of the visits.

The RM-ANOVA is pingouin's ``rm_anova``: its F, Greenhouse-Geisser epsilon, corrected p and
partial eta squared agree with R (``car::Anova``, tests/reference/classic_tests.R) to the
output precision (``%.10g``). Degenerate data are caught before pingouin sees them (it
asserts on fewer than three participants and divides by a zero error term), and with two
visits, where pingouin reports no corrected p, epsilon is 1 and the corrected p is the
uncorrected one.

The Friedman test is computed here, vectorised over participants: pingouin's ``friedman``
agrees with R's ``friedman.test`` but counts ties with a Python loop over participants,
which does not scale to the 100 000 participants the pipeline must handle.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..config import Study
from ._tidy import outcome_ids, wide_by_visit
from .contract import empty_numbers, keyed_rows, within_contrast
from .multiplicity import p_adjust
from .normality import MIN_N
from .paired import UNCONTROLLED_NOTE, paired_t_numbers, signed_rank_numbers

# the across-visit effect sizes have no interval in the contract (issue 12)
NO_INTERVAL = {
    "rm_anova": "no confidence interval for partial eta squared",
    "friedman": "no confidence interval for Kendall's W",
}
# relative size below which the within-participant error sum of squares counts as zero
_ZERO_ERROR = 1e-12


def rm_anova(values: pd.DataFrame) -> pd.DataFrame:
    """One-way repeated-measures ANOVA with the Greenhouse-Geisser correction.

    Parameters
    ----------
    values : DataFrame
        One row per participant, one column per visit (in visit order); participants with a
        missing visit are dropped (complete cases).

    Returns
    -------
    DataFrame
        One row: ``n`` (complete cases), ``k`` (visits), ``F``, ``df1``, ``df2``,
        ``p_uncorrected``, ``eps_gg`` (Greenhouse-Geisser epsilon from the orthonormalised
        covariance matrix), ``df1_gg``, ``df2_gg``, ``p_gg``, ``partial_eta_squared``
        (SS_visit / (SS_visit + SS_error)) and ``note`` (empty unless degenerate).
    """
    complete = values.dropna()
    n, k = complete.shape
    out = dict.fromkeys(
        ["F", "df1", "df2", "p_uncorrected", "eps_gg", "df1_gg", "df2_gg", "p_gg"], math.nan
    )
    out.update(n=n, k=k, partial_eta_squared=math.nan, note="")
    if n < MIN_N or k < 2:
        out["note"] = f"fewer than {MIN_N} complete cases or 2 visits"
        return pd.DataFrame([out])
    df1, df2 = k - 1, (k - 1) * (n - 1)
    if _no_error_variance(complete.to_numpy(float)):
        out.update(note="no within-participant error variance", df1=df1, df2=df2)
        return pd.DataFrame([out])
    import pingouin as pg  # here: it loads matplotlib.pyplot, for the jobs that fit models

    long = complete.reset_index(drop=True).rename_axis("subject").reset_index()
    long = long.melt(id_vars="subject", var_name="visit", value_name="value")
    with warnings.catch_warnings():
        # pingouin 0.7 calls a pandas API that pandas 3 deprecates; nothing for us to act on
        warnings.simplefilter("ignore", DeprecationWarning)
        table = pg.rm_anova(
            data=long,
            dv="value",
            within="visit",
            subject="subject",
            correction=True,
            effsize="np2",
        ).iloc[0]
    eps = float(table["eps"]) if k > 2 else 1.0
    p_gg = float(table["p_GG_corr"]) if k > 2 else float(table["p_unc"])
    out.update(
        F=float(table["F"]),
        df1=df1,
        df2=df2,
        p_uncorrected=float(table["p_unc"]),
        eps_gg=eps,
        df1_gg=df1 * eps,
        df2_gg=df2 * eps,
        p_gg=p_gg,
        partial_eta_squared=float(table["np2"]),
    )
    return pd.DataFrame([out])


def _no_error_variance(complete: np.ndarray) -> bool:
    """Whether participants x visits is exactly additive (the F test is undefined)."""
    n, k = complete.shape
    grand = complete.mean()
    ss_visit = n * float(((complete.mean(axis=0) - grand) ** 2).sum())
    ss_subject = k * float(((complete.mean(axis=1) - grand) ** 2).sum())
    ss_error = float(((complete - grand) ** 2).sum()) - ss_visit - ss_subject
    return ss_error <= _ZERO_ERROR * max(ss_visit + ss_subject, 1.0)


def friedman(values: pd.DataFrame) -> pd.DataFrame:
    """Friedman rank test across visits (R's ``friedman.test``; tie-corrected).

    Parameters
    ----------
    values : DataFrame
        One row per participant, one column per visit; incomplete rows are dropped.

    Returns
    -------
    DataFrame
        One row: ``n``, ``k``, ``statistic`` (chi-square), ``df``, ``p_value``, ``kendall_w``
        (statistic / (n (k - 1))) and ``note``.
    """
    complete = values.dropna().to_numpy(float)
    n, k = complete.shape
    out = {"n": n, "k": k, "statistic": math.nan, "df": k - 1, "p_value": math.nan}
    out.update(kendall_w=math.nan, note="")
    if n < MIN_N or k < 2:
        out["note"] = f"fewer than {MIN_N} complete cases or 2 visits"
        return pd.DataFrame([out])
    ranks = stats.rankdata(complete, axis=1)  # within each participant, all rows at once
    _, tie_counts = np.unique(
        np.column_stack([np.repeat(np.arange(n), k), ranks.ravel()]), axis=0, return_counts=True
    )
    ties = float((tie_counts.astype(float) ** 3 - tie_counts).sum())
    denominator = n * k * (k + 1) - ties / (k - 1)
    if denominator <= 0:
        out["note"] = "all values tied within every participant"
        return pd.DataFrame([out])
    # R's friedman.test: 12 sum(R_j - n(k+1)/2)^2 / (n k (k+1) - sum(t^3 - t)/(k-1))
    statistic = 12 * float(((ranks.sum(axis=0) - n * (k + 1) / 2) ** 2).sum()) / denominator
    out.update(
        statistic=statistic,
        p_value=float(stats.chi2.sf(statistic, k - 1)),
        kendall_w=statistic / (n * (k - 1)),
    )
    return pd.DataFrame([out])


def pairwise_visits(
    values: pd.DataFrame, parametric: bool, conf_level: float = 0.95
) -> pd.DataFrame:
    """Paired comparisons of every pair of visits on complete cases, Holm-adjusted.

    Parameters
    ----------
    values : DataFrame
        One row per participant, one column per visit (in visit order).
    parametric : bool
        Paired t-tests (after the RM-ANOVA) or Wilcoxon signed-rank tests (after Friedman).
    conf_level : float

    Returns
    -------
    DataFrame
        One row per pair (later, earlier) in visit order: ``visit`` (later), ``contrast``,
        then the number columns with ``p_adjusted`` Holm over all pairs.
    """
    complete = values.dropna()
    visits = list(values.columns)
    rows = []
    for i, earlier in enumerate(visits):
        for later in visits[i + 1 :]:
            after, before = complete[later].to_numpy(), complete[earlier].to_numpy()
            numbers = (
                paired_t_numbers(after, before, conf_level)
                if parametric
                else signed_rank_numbers(after, before, conf_level)
            )
            rows.append({"visit": later, "contrast": within_contrast(later, earlier)} | numbers)
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame["p_adjusted"] = p_adjust(frame["p_value"].to_numpy(float), "holm")
    return frame


def single_arm_analyses(
    analysis: pd.DataFrame, study: Study, conf_level: float = 0.95
) -> pd.DataFrame:
    """RM-ANOVA, Friedman and their Holm-adjusted pairwise follow-ups for a single-arm study.

    Parameters
    ----------
    analysis : DataFrame
        Long analysis data: ``participant_id, arm, visit, outcome, value``.
    study : Study
        Only studies with one arm produce rows (more than two visits are not needed: with two
        visits the tests reduce to the paired ones but are still reported).

    Returns
    -------
    DataFrame
        Contract rows: ``rm_anova`` (``statistic`` F, ``df`` the Greenhouse-Geisser corrected
        numerator df, ``p_value`` GG-corrected, effect size partial eta squared; the note gives
        epsilon, both corrected dfs and the uncorrected p), ``friedman`` (chi-square, df, p,
        Kendall's W) with ``visit`` empty and ``contrast`` the visits compared, then
        ``posthoc_paired_t`` / ``posthoc_wilcoxon`` rows with Holm ``p_adjusted``.
    """
    if len(study.arm_ids) != 1:
        return keyed_rows([])
    arm = study.arm_ids[0]
    rows = []
    for outcome in outcome_ids(analysis):
        wide = wide_by_visit(analysis, outcome, study)
        values = wide.loc[wide["arm"] == arm, study.visit_ids]
        keys = {
            "study": study.id,
            "outcome": outcome,
            "visit": "",
            "contrast": ", ".join(study.visit_ids),
            "group": arm,
        }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            anova = rm_anova(values).iloc[0]
            rank_test = friedman(values).iloc[0]
        if not np.isfinite(anova["F"]):  # degenerate: the note says why
            anova_numbers = empty_numbers(anova["note"], n=anova["n"])
        else:
            anova_numbers = empty_numbers(
                f"complete cases; Greenhouse-Geisser epsilon = {anova['eps_gg']:.4g}, "
                f"df = ({anova['df1_gg']:.4g}, {anova['df2_gg']:.4g}); "
                f"uncorrected p = {anova['p_uncorrected']:.4g}",
                n=anova["n"],
                df=anova["df1_gg"],
                statistic=anova["F"],
                p_value=anova["p_gg"],
                effect_size=anova["partial_eta_squared"],
                effect_size_name="partial_eta_squared",
            )
        rank_numbers = empty_numbers(
            rank_test["note"] or "complete cases",
            n=rank_test["n"],
            df=rank_test["df"],
            statistic=rank_test["statistic"],
            p_value=rank_test["p_value"],
            effect_size=rank_test["kendall_w"],
            effect_size_name="kendall_w" if np.isfinite(rank_test["kendall_w"]) else "",
        )
        for name, numbers in (("rm_anova", anova_numbers), ("friedman", rank_numbers)):
            interval = NO_INTERVAL[name] if np.isfinite(numbers["effect_size"]) else ""
            numbers["note"] = "; ".join(filter(None, [numbers["note"], interval]))
            numbers["note"] = f"{numbers['note']}; {UNCONTROLLED_NOTE}"
            rows.append(keys | {"analysis": name} | numbers)
        for name, parametric in (("posthoc_paired_t", True), ("posthoc_wilcoxon", False)):
            pairs = pairwise_visits(values, parametric, conf_level)
            for record in pairs.to_dict("records"):
                record["note"] = "; ".join(
                    filter(None, [record["note"], "complete cases; Holm over all visit pairs"])
                )
                rows.append(keys | {"analysis": name} | record)
    return keyed_rows(rows)
