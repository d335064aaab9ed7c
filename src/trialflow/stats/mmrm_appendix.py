"""The MMRM appendix: the fitted model behind each planned MMRM result, in detail.

For every analysis of the plan (primary, key secondary) whose method is ``mmrm``, the model
is fitted again on exactly the data the analyse stage used (the declared analysis set, the
estimand's handling of intercurrent events, the covariates) with the same engine options,
so that the appendix shows the model whose rows are in ``results.csv`` (the tests check
that its -2 log-likelihood equals ``model_fits.csv``). Without a planned MMRM, the primary
outcome's exploratory MMRM is shown.

Each :class:`MMRMDetails` carries tidy frames: the structures tried, the within-subject
covariance and correlation matrices, the Type 3 F tests and the LS-means per arm and visit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import Study
from .confirmatory import estimand_data, estimand_text
from .mmrm import MMRMResults
from .mmrm_analysis import analyse_mmrm
from .results import with_covariates

__all__ = ["MMRMDetails", "mmrm_appendix_models"]


@dataclass(frozen=True)
class MMRMDetails:
    """One planned MMRM as fitted.

    Attributes
    ----------
    outcome : str
    role : str
        ``"primary"``, ``"key secondary 1"``, ... or ``"exploratory"``.
    fit : dict
        Its ``model_fits.csv`` row.
    result : MMRMResults or None
        None when the model could not be fitted (``fit["note"]`` says why).
    """

    outcome: str
    role: str
    fit: dict
    result: MMRMResults | None

    def attempts(self) -> pd.DataFrame:
        """``structure, converged, iterations, minus2_loglik, message`` per structure tried."""
        columns = ["structure", "converged", "iterations", "minus2_loglik", "message"]
        if self.result is None:
            return pd.DataFrame(columns=columns)
        return pd.DataFrame(
            [
                (a.structure, a.converged, a.iterations, a.objective, a.message)
                for a in self.result.attempts
            ],
            columns=columns,
        )

    def covariance(self) -> pd.DataFrame:
        """Long within-subject covariance: ``visit_1, visit_2, covariance, correlation``."""
        columns = ["visit_1", "visit_2", "covariance", "correlation"]
        if self.result is None:
            return pd.DataFrame(columns=columns)
        sigma = self.result.sigma
        values = sigma.to_numpy()
        sd = np.sqrt(np.diag(values))
        rows = []
        for i, first in enumerate(sigma.index):
            for j in range(i, len(sigma.columns)):
                rows.append(
                    (first, sigma.columns[j], values[i, j], values[i, j] / (sd[i] * sd[j]))
                )
        return pd.DataFrame(rows, columns=columns)

    def type3(self) -> pd.DataFrame:
        """Type 3 F tests: ``term, num_df, den_df, f_value, p_value``."""
        if self.result is None:
            return pd.DataFrame(columns=["term", "num_df", "den_df", "f_value", "p_value"])
        return self.result.type3().reset_index()

    def lsmeans(self, alpha: float) -> pd.DataFrame:
        """LS-means per arm (parallel) and visit: the factor levels, then
        ``estimate, se, df, t, p_value, ci_low, ci_high``."""
        if self.result is None:
            return pd.DataFrame()
        factors = [f for f in ("arm", "visit") if f in self.result.design.factor_names]
        return self.result.lsmeans(factors, alpha=alpha)


def mmrm_appendix_models(
    analysis: pd.DataFrame, participants: pd.DataFrame, study: Study
) -> list[MMRMDetails]:
    """The planned MMRMs of ``study`` refitted on the analyse stage's data.

    Parameters
    ----------
    analysis : pandas.DataFrame
        The long analysis data (as the analyse stage reads it).
    participants : pandas.DataFrame
        The validated roster.
    study : Study

    Returns
    -------
    list of MMRMDetails
        In the order of the plan; the primary outcome's exploratory MMRM when the plan has no
        MMRM; empty without a primary analysis.
    """
    # imported here: study_analysis imports the whole analysis stack
    from .study_analysis import set_data

    analysis = with_covariates(analysis, participants, study)
    main = set_data(participants, analysis, study, study.analysis.analysis_set)
    found = []
    for i, planned in enumerate(study.analysis.planned):
        if planned.method != "mmrm":
            continue
        where = "analysis.primary" if i == 0 else f"analysis.key_secondary[{i - 1}]"
        data = estimand_data(main.data, main.roster, study, planned, where)
        data = main.data if data is None else data
        data = data.loc[data["outcome"] == planned.outcome]
        kept: dict = {}
        analyse_mmrm(data, study, main.name, estimand_text(planned, study), keep_fits=kept)
        role = "primary" if i == 0 else f"key secondary {i}"
        found.append(_details(planned.outcome, role, kept))
    primary = study.analysis.primary
    if not found and primary is not None:
        data = main.data.loc[main.data["outcome"] == primary.outcome]
        kept = {}
        analyse_mmrm(data, study, main.name, keep_fits=kept)
        found.append(_details(primary.outcome, "exploratory", kept))
    return [f for f in found if f is not None]


def _details(outcome: str, role: str, kept: dict) -> MMRMDetails | None:
    if outcome not in kept:
        return None
    fit, result = kept[outcome]
    return MMRMDetails(outcome, role, fit, result)
