"""Between-arm comparisons: Welch t, Mann-Whitney with Hodges-Lehmann shift, and the
chi-square / Fisher test of a categorical variable across arms.

Why not pingouin here: its ``compute_effsize(eftype="hedges")`` applies the approximate
small-sample factor ``1 - 3 / (4 (n_x + n_y) - 9)``, while R's ``effectsize::hedges_g`` (the
reference) uses the exact gamma-function factor; the two differ from the fourth significant
digit on small samples (R's ``sleep`` data: 0.796935 vs 0.797019), far above the output
precision. Its ``mwu``/``wilcoxon`` give no Hodges-Lehmann interval and treat zeros and ties
unlike R's ``wilcox.test`` (see :mod:`trialflow.stats.wilcoxon`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import gammaln

from ..config import Study
from ..roster import PLAN_COLUMNS
from ._tidy import is_numeric_like, wide_tables
from .contract import (
    between_contrast,
    empty_numbers,
    keyed_rows,
    numbers_frame,
    within_contrast,
)
from .effect_sizes import floats, hedges_g_numbers, rank_biserial_numbers, with_effect_size
from .flags import rank_interval_flags
from .normality import MIN_N, change_pairs
from .student_t import student_t_numbers
from .wilcoxon import interval_notes, rank_sum_test, rank_test_numbers

NO_V_INTERVAL = "no confidence interval for Cramer's V"
#: ``analysis.between_test``: the two-sample t-test of the between-arm rows.
BETWEEN_TESTS = ("welch", "student")
# Enumerating every table with the observed margins is exact but grows fast; beyond this many
# tables the chi-square test is reported with a note instead.
_MAX_FISHER_TABLES = 200_000


def welch_t(x: np.ndarray, y: np.ndarray, conf_level: float = 0.95) -> pd.DataFrame:
    """Welch two-sample t-test of ``x - y`` (R's ``t.test(x, y)``) with Hedges' g.

    Parameters
    ----------
    x, y : array_like
        The two samples (treatment arm first); NaN are dropped.
    conf_level : float

    Returns
    -------
    DataFrame
        One row: ``n`` (both arms), ``estimate`` (difference in means), ``se``, ``df``
        (Welch-Satterthwaite), ``ci_low``, ``ci_high``, ``statistic`` (t), ``p_value``,
        ``effect_size`` (Hedges' g: pooled-SD Cohen's d times the exact small-sample factor
        J = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2)), m = n_x + n_y - 2).
    """
    return numbers_frame(welch_numbers(x, y, conf_level))


def mann_whitney(x: np.ndarray, y: np.ndarray, conf_level: float = 0.95) -> pd.DataFrame:
    """Mann-Whitney (Wilcoxon rank-sum) test with R's location shift ``x - y``.

    Follows R's ``wilcox.test(x, y, conf.int = TRUE)``; see :mod:`trialflow.stats.wilcoxon`.

    Parameters
    ----------
    x, y : array_like
        The two samples (treatment arm first); NaN are dropped.
    conf_level : float

    Returns
    -------
    DataFrame
        One row: ``n``, ``estimate``, ``ci_low``, ``ci_high``, ``statistic`` (R's W =
        Mann-Whitney U of ``x``), ``p_value`` exactly as R's ``wilcox.test`` reports them,
        ``effect_size`` (rank-biserial r = 2U / (n_x n_y) - 1, positive when ``x`` tends to be
        larger).

    Notes
    -----
    ``estimate`` is R's: in the exact case the Hodges-Lehmann shift (median of all pairwise
    differences), in the normal case (ties or an arm of 50 or more) the ``uniroot`` root of
    the uncorrected statistic, which can lie anywhere in a stretch where that statistic is
    exactly zero (the Hodges-Lehmann shift is ``rank_sum_test(...).hodges_lehmann``). With
    heavily tied data R's interval can collapse to a point at one jump of the statistic, with
    its limits in either order, or miss its estimate by ``tol.root``; R's numbers are kept and
    the note says so, advises the Welch t interval and gives the Hodges-Lehmann shift where it
    differs (see :func:`trialflow.stats.wilcoxon.interval_notes`).
    """
    return numbers_frame(mann_whitney_numbers(x, y, conf_level))


def categorical_association(groups: pd.Series, values: pd.Series) -> pd.DataFrame:
    """Chi-square or Fisher's exact test of a categorical variable across groups.

    Pearson's chi-square (Yates-corrected for 2 x 2, as R's ``chisq.test``) when every
    expected count is at least 5, else Fisher's exact test (R's ``fisher.test``: the 2 x 2
    and the r x c Freeman-Halton test by complete enumeration).

    Parameters
    ----------
    groups, values : Series
        Aligned group labels and category values; pairs with a missing value are dropped.

    Returns
    -------
    DataFrame
        One row with the number columns plus ``analysis`` (``chi_square`` or
        ``fisher_exact``): ``n``, ``statistic`` (chi-square, empty for Fisher), ``df``,
        ``p_value``, ``effect_size`` (Cramer's V, uncorrected).
    """
    name, numbers = _categorical_numbers(groups, values)
    frame = numbers_frame(numbers)
    frame.insert(0, "analysis", name)
    return frame


def _clean(x) -> np.ndarray:
    x = floats(x)
    return x[~np.isnan(x)]


def welch_numbers(x, y, conf_level: float = 0.95) -> dict:
    """:func:`welch_t` as a dict of the contract's number columns."""
    x, y = _clean(x), _clean(y)
    nx, ny = len(x), len(y)
    if min(nx, ny) < MIN_N:
        return empty_numbers(f"fewer than {MIN_N} observations in an arm", n=nx + ny)
    vx, vy = float(x.var(ddof=1)), float(y.var(ddof=1))
    difference = float(x.mean() - y.mean())
    if vx == 0 and vy == 0:
        return empty_numbers("zero variance in both arms", n=nx + ny, estimate=difference)
    se = math.sqrt(vx / nx + vy / ny)
    df = (vx / nx + vy / ny) ** 2 / ((vx / nx) ** 2 / (nx - 1) + (vy / ny) ** 2 / (ny - 1))
    t = difference / se
    half = stats.t.ppf(0.5 + conf_level / 2, df) * se
    numbers = empty_numbers(
        n=nx + ny,
        estimate=difference,
        se=se,
        df=df,
        ci_low=difference - half,
        ci_high=difference + half,
        statistic=t,
        p_value=float(2 * stats.t.sf(abs(t), df)),
    )
    return with_effect_size(numbers, hedges_g_numbers(x, y, conf_level))


def mann_whitney_numbers(x, y, conf_level: float = 0.95) -> dict:
    """:func:`mann_whitney` as a dict of the contract's number columns."""
    x, y = _clean(x), _clean(y)
    n = len(x) + len(y)
    if min(len(x), len(y)) < MIN_N:
        return empty_numbers(f"fewer than {MIN_N} observations in an arm", n=n)
    if np.ptp(np.concatenate([x, y])) == 0:
        return empty_numbers("all values tied", n=n, estimate=0.0)
    result = rank_sum_test(x, y, conf_level)
    notes = ["exact" if result.exact else "normal approximation with continuity correction"]
    if math.isnan(result.ci_low):
        notes.append("confidence interval not computable")
    elif result.conf_level != conf_level:
        notes.append(f"requested confidence level not achievable; achieved {result.conf_level:g}")
    notes += interval_notes(result, "Welch t interval", "median of all pairwise differences")
    numbers = rank_test_numbers(result, n, notes) | {"flags": rank_interval_flags(result)}
    return with_effect_size(numbers, rank_biserial_numbers(x, y, False, conf_level))


def _categorical_numbers(groups: pd.Series, values: pd.Series) -> tuple[str, dict]:
    blank = values.astype("string").str.strip().eq("").fillna(False).to_numpy(bool)
    keep = groups.notna().to_numpy() & values.notna().to_numpy() & ~blank
    table = pd.crosstab(
        np.asarray(groups)[keep].astype(str), np.asarray(values)[keep].astype(str)
    ).to_numpy()
    n = int(table.sum())
    if table.shape[0] < 2 or table.shape[1] < 2:
        return "chi_square", empty_numbers("fewer than two groups or two categories", n=n)
    expected = stats.contingency.expected_freq(table)
    chi2, p, dof, _ = stats.chi2_contingency(table, correction=True)
    uncorrected = stats.chi2_contingency(table, correction=False)[0]
    cramer_v = math.sqrt(uncorrected / (n * (min(table.shape) - 1)))
    if expected.min() >= 5:
        return "chi_square", empty_numbers(
            "Pearson chi-square"
            + (" with Yates correction" if table.shape == (2, 2) else "")
            + f"; {NO_V_INTERVAL}",
            n=n,
            df=dof,
            statistic=chi2,
            p_value=p,
            effect_size=cramer_v,
            effect_size_name="cramer_v",
        )
    fisher_p = _fisher_p(table)
    if math.isnan(fisher_p):
        return "chi_square", empty_numbers(
            f"expected counts < 5 but the table is too large for the exact test; {NO_V_INTERVAL}",
            n=n,
            df=dof,
            statistic=chi2,
            p_value=p,
            effect_size=cramer_v,
            effect_size_name="cramer_v",
        )
    return "fisher_exact", empty_numbers(
        f"expected counts < 5; {NO_V_INTERVAL}",
        n=n,
        p_value=fisher_p,
        effect_size=cramer_v,
        effect_size_name="cramer_v",
    )


def fisher_exact_p(table: np.ndarray) -> float:
    """Two-sided Fisher exact p-value of an r x c table, as R's ``fisher.test``.

    Sums the probabilities of every table with the observed margins that is no more likely
    than the observed one (relative tolerance 1e-7, as R).

    Parameters
    ----------
    table : array_like of int

    Returns
    -------
    float
        NaN when more than 200,000 tables would have to be enumerated.
    """
    return _fisher_p(np.asarray(table, dtype=int))


def _fisher_p(table: np.ndarray) -> float:
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    n = int(table.sum())
    constant = gammaln(rows + 1).sum() + gammaln(cols + 1).sum() - gammaln(n + 1)
    observed = constant - gammaln(table + 1).sum()
    log_probs: list[float] = []
    r, c = table.shape

    def fill(i: int, col_left: list[int], cells: float) -> bool:
        # complete row by row; the last row is fixed by the column margins
        if len(log_probs) > _MAX_FISHER_TABLES:
            return False
        if i == r - 1:
            log_probs.append(constant - cells - sum(gammaln(k + 1) for k in col_left))
            return True
        for row in _compositions(int(rows[i]), col_left):
            left = [a - b for a, b in zip(col_left, row, strict=True)]
            if not fill(i + 1, left, cells + sum(gammaln(k + 1) for k in row)):
                return False
        return True

    if not fill(0, [int(k) for k in cols], 0.0):
        return math.nan
    probs = np.exp(np.array(log_probs))
    # R: sum(d[d <= d_obs * (1 + 1e-7)])
    return float(min(1.0, probs[probs <= math.exp(observed) * (1 + 1e-7)].sum()))


def _compositions(total: int, caps: list[int]):
    """Every way to split ``total`` into len(caps) non-negative parts within ``caps``."""
    if len(caps) == 1:
        if total <= caps[0]:
            yield (total,)
        return
    rest = sum(caps[1:])
    for first in range(max(0, total - rest), min(total, caps[0]) + 1):
        for tail in _compositions(total - first, caps[1:]):
            yield (first, *tail)


def between_group(
    analysis: pd.DataFrame,
    study: Study,
    conf_level: float = 0.95,
    tables: Mapping[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Between-arm rows of a study: each non-reference arm against the reference arm, at each
    visit on the values and on each within-arm change, by Welch t (or Student's t with
    ``analysis.between_test: student``) and Mann-Whitney.

    Parameters
    ----------
    analysis : DataFrame
        Long analysis data: ``participant_id, arm, visit, outcome, value``.
    study : Study
    conf_level : float
    tables : mapping of str to DataFrame, optional
        Each outcome's wide table as :func:`trialflow.stats._tidy.wide_tables` makes them,
        when the caller already has them (:func:`trialflow.stats.analyse_study` reshapes once
        for all analyses); made here otherwise.

    Returns
    -------
    DataFrame
        Contract rows (``welch_t`` or ``student_t``, and ``mann_whitney``); ``contrast`` is
        e.g. ``exercise - control`` on values and ``exercise - control (week8 - baseline)``
        on changes; ``group`` is empty. No rows for single-arm studies.
    """
    student = study.analysis.between_test == "student"
    t_name, t_numbers = ("student_t", student_t_numbers) if student else ("welch_t", welch_numbers)
    rows = []
    reference = study.reference_arm.id
    for outcome, wide in (wide_tables(analysis, study) if tables is None else tables).items():
        for arm in study.arm_ids[1:]:
            treated = wide.loc[wide["arm"] == arm]
            control = wide.loc[wide["arm"] == reference]
            samples = [(visit, None, treated[visit], control[visit]) for visit in study.visit_ids]
            for later, earlier in change_pairs(study):
                samples.append(
                    (
                        later,
                        within_contrast(later, earlier),
                        treated[later] - treated[earlier],
                        control[later] - control[earlier],
                    )
                )
            for visit, change, x, y in samples:
                keys = {
                    "study": study.id,
                    "outcome": outcome,
                    "visit": visit,
                    "contrast": between_contrast(arm, reference, change),
                    "group": "",
                }
                rows.append(keys | {"analysis": t_name} | t_numbers(x, y, conf_level))
                rows.append(
                    keys | {"analysis": "mann_whitney"} | mann_whitney_numbers(x, y, conf_level)
                )
    return keyed_rows(rows)


def baseline_categorical(participants: pd.DataFrame, study: Study) -> pd.DataFrame:
    """Chi-square / Fisher rows for the categorical roster variables across arms.

    The variables are the non-numeric roster columns other than ``participant_id``, ``arm``
    and the disposition columns (``last_visit``, ``withdrawal_reason``). CONSORT advises
    against reporting baseline significance tests; the rows are kept for completeness and
    Table 1 does not show them.

    Parameters
    ----------
    participants : DataFrame
        The roster: ``participant_id, arm, ...``.
    study : Study

    Returns
    -------
    DataFrame
        Contract rows with ``outcome`` the variable, ``visit`` the baseline visit and
        ``contrast`` listing the arms.
    """
    if len(study.arm_ids) < 2:
        return keyed_rows([])
    rows = []
    roster = participants.loc[participants["arm"].astype(str).isin(study.arm_ids)]
    for variable in categorical_variables(roster):
        name, numbers = _categorical_numbers(roster["arm"].astype(str), roster[variable])
        numbers["note"] = "; ".join(filter(None, [numbers["note"], "baseline balance test"]))
        rows.append(
            {
                "study": study.id,
                "outcome": variable,
                "visit": study.baseline.id,
                "analysis": name,
                "contrast": " vs ".join(study.arm_ids),
                "group": "",
            }
            | numbers
        )
    return keyed_rows(rows)


# identifiers, disposition, the analysis plan's conduct columns and the provenance columns
# trialflow.io adds
NON_VARIABLES = (
    "participant_id",
    "arm",
    "last_visit",
    "withdrawal_reason",
    *PLAN_COLUMNS,
    "source_file",
    "source_row",
)


def categorical_variables(participants: pd.DataFrame) -> list[str]:
    """Roster columns treated as categorical baseline characteristics: every column outside
    :data:`NON_VARIABLES` that does not hold numbers (numbers read as text count as numbers)."""
    return [
        column
        for column in participants.columns
        if column not in NON_VARIABLES and not is_numeric_like(participants[column])
    ]
