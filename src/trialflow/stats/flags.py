"""Machine flags of a results row (the ``flags`` column), from the fields of a test result.

``note`` tells people what is odd about a row; ``flags`` tells code, so that tables and
reports never parse the note. Tokens: :data:`trialflow.stats.contract.FLAGS`.
"""

from __future__ import annotations

from .contract import DEGENERATE_INTERVAL, ESTIMATE_OUTSIDE_INTERVAL
from .wilcoxon import WilcoxonResult, _root_slack

__all__ = ["rank_interval_flags"]


def rank_interval_flags(result: WilcoxonResult) -> str:
    """The ``flags`` of a Wilcoxon row whose interval R's algorithm cannot resolve.

    ``result.interval_issue`` is set for two problems (see
    :mod:`trialflow.stats.wilcoxon`): limits that locate the same jump of the statistic
    (zero width or reversed, :data:`~trialflow.stats.contract.DEGENERATE_INTERVAL`), or an
    estimate just outside a proper interval
    (:data:`~trialflow.stats.contract.ESTIMATE_OUTSIDE_INTERVAL`). The kind is told apart
    as the Wilcoxon module does: by the width against ``uniroot``'s slack.

    Parameters
    ----------
    result : WilcoxonResult

    Returns
    -------
    str
        One token, or ``""`` for a proper interval.
    """
    if not result.interval_issue:
        return ""
    if result.ci_high - result.ci_low <= _root_slack(result.ci_low, result.ci_high):
        return DEGENERATE_INTERVAL
    return ESTIMATE_OUTSIDE_INTERVAL
