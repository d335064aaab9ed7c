"""Where scipy / pingouin agree with R and where they do not (why trialflow.stats computes
some things itself). Reference numbers: tests/reference/classic_tests_*.csv (R)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats
from test_stats_reference import read_long, reference

from trialflow.stats import friedman, rm_anova

pytestmark = pytest.mark.r_reference


@pytest.fixture(scope="module")
def sleep_pairs() -> tuple[np.ndarray, np.ndarray]:
    data = read_long("sleep_paired_long.csv").sort_values("participant_id")
    drug2 = data.loc[data["visit"] == "drug2", "value"].to_numpy()
    drug1 = data.loc[data["visit"] == "drug1", "value"].to_numpy()
    return drug2, drug1


def r_row(name: str, analysis: str) -> pd.Series:
    theirs = reference(name)
    return theirs.loc[theirs["analysis"] == analysis].iloc[0]


def test_scipy_and_pingouin_wilcoxon_differ_from_r_with_ties_and_zeros(sleep_pairs):
    # sleep has a zero difference and ties: R uses the normal approximation with continuity
    # correction after dropping zeros; scipy/pingouin do not, hence our own implementation
    r = r_row("sleep_paired", "wilcoxon_signed_rank")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scipy_p = stats.wilcoxon(*sleep_pairs).pvalue
        pingouin = pg.wilcoxon(*sleep_pairs)
    assert not np.isclose(scipy_p, r["p_value"], rtol=1e-3)
    assert not np.isclose(pingouin["p_val"].iloc[0], r["p_value"], rtol=1e-3)
    assert pingouin["W_val"].iloc[0] != r["statistic"]  # pingouin reports min(T+, T-), R T+


def test_pingouin_hedges_g_uses_an_approximate_correction(sleep_pairs):
    # effectsize::hedges_g (R) uses the exact gamma-function correction, as we do
    r = r_row("sleep_groups", "welch_t")
    approximate = pg.compute_effsize(*sleep_pairs, eftype="hedges")
    assert approximate == pytest.approx(r["effect_size"], rel=1e-3)
    assert not np.isclose(approximate, r["effect_size"], rtol=1e-6)


def test_pingouin_mann_whitney_rank_biserial_has_r_sign(sleep_pairs):
    r = r_row("sleep_groups", "mann_whitney")
    assert pg.mwu(*sleep_pairs)["RBC"].iloc[0] == pytest.approx(r["effect_size"], rel=1e-9)


def test_pingouin_rm_anova_and_friedman_agree_with_r_and_with_ours():
    analysis = read_long("ties_missing_long.csv")
    theirs = reference("ties_missing")
    for arm in ("control", "exercise"):
        cells = analysis.loc[(analysis["outcome"] == "score") & (analysis["arm"] == arm)]
        wide = cells.pivot(index="participant_id", columns="visit", values="value")
        wide = wide[["baseline", "week8", "week24"]]
        complete = wide.dropna().reset_index()
        long = complete.melt(id_vars="participant_id", var_name="visit", value_name="value")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pingouin = pg.rm_anova(
                data=long, dv="value", within="visit", subject="participant_id", correction=True
            ).iloc[0]
            pingouin_friedman = pg.friedman(
                data=long, dv="value", within="visit", subject="participant_id"
            ).iloc[0]
        ours = rm_anova(wide).iloc[0]
        r = theirs.query("analysis == 'rm_anova' and outcome == 'score' and group == @arm")
        assert pingouin["eps"] == pytest.approx(r["epsilon"].iloc[0], rel=1e-6)
        assert pingouin["p_GG_corr"] == pytest.approx(ours["p_gg"], rel=1e-9)
        r = theirs.query("analysis == 'friedman' and outcome == 'score' and group == @arm")
        assert pingouin_friedman["Q"] == pytest.approx(r["statistic"].iloc[0], rel=1e-6)
        assert friedman(wide).iloc[0]["statistic"] == pytest.approx(pingouin_friedman["Q"])
