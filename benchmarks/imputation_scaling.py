"""Scaling benchmark of the missing-data sensitivity analyses (trialflow.stats.imputation).

Simulated two-arm trials with a baseline covariate, four post-baseline visits, 25% monotone
dropout (after visit 0, 1, 2 or 3 with equal probability) and 3% intermittent gaps. Timed:

- conditional mean imputation under jump to reference with the jackknife (the whole
  ``conditional_mean`` call: data checks, REML fit, N leave-one-out refits, re-imputation
  and re-analysis), at 1,000 and 10,000 subjects;
- bootstrapped-REML multiple imputation (``bootstrap_mi``, J2R) with M = 500 at 1,000
  subjects;
- for comparison, one fresh REML fit of the imputation model by ``fit_mmrm`` (the unit of
  an explicit jackknife loop), times N: what the loop of N fresh fits would cost.

Wall time with ``time.perf_counter``, median of ``--repeat`` runs. The 2-core machine is
shared with other work, so the numbers are upper bounds of what the code needs.

Run from the repository root (never from the test suite)::

    .venv/bin/python benchmarks/imputation_scaling.py

Writes ``benchmarks/results/imputation_scaling.csv`` and ``.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from trialflow.stats.imputation import bootstrap_mi, conditional_mean  # noqa: E402
from trialflow.stats.mmrm import fit_mmrm  # noqa: E402

VISITS = ["w1", "w2", "w3", "w4"]
ARMS = ["pbo", "trt"]


def simulate(n_subjects: int, seed: int = 20261202) -> pd.DataFrame:
    """Long data: participant_id, arm, visit, value, baseline."""
    rng = np.random.default_rng(seed)
    t = len(VISITS)
    arm = rng.integers(0, 2, n_subjects)
    base = rng.normal(50.0, 10.0, n_subjects)
    sd = np.array([5.0, 6.0, 7.0, 8.0])
    corr = 0.6 ** np.abs(np.subtract.outer(np.arange(t), np.arange(t)))
    eps = rng.standard_normal((n_subjects, t)) @ np.linalg.cholesky(corr * np.outer(sd, sd)).T
    y = 10.0 + 0.8 * base[:, None] + np.arange(t) + arm[:, None] * np.linspace(0.5, 2, t) + eps
    stop = np.where(rng.random(n_subjects) < 0.25, rng.integers(0, t, n_subjects), t)
    missing = (np.arange(t)[None, :] >= stop[:, None]) | (rng.random((n_subjects, t)) < 0.03)
    y[missing] = np.nan
    return pd.DataFrame(
        {
            "participant_id": np.repeat([f"p{i:06d}" for i in range(n_subjects)], t),
            "arm": np.repeat(np.array(ARMS)[arm], t),
            "visit": np.tile(VISITS, n_subjects),
            "value": y.ravel(),
            "baseline": np.repeat(base, t),
        }
    )


def timed(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    conditional_mean(simulate(200), VISITS, ARMS, strategy="j2r")  # warm-up (imports, BLAS)
    rows = []
    for n, target in ((1000, 2.0), (10000, 30.0)):
        data = simulate(n)
        seconds = timed(
            lambda data=data: conditional_mean(data, VISITS, ARMS, strategy="j2r"),
            args.repeat if n <= 1000 else 1,
        )
        rows.append(("conditional_mean + jackknife", "j2r", n, np.nan, seconds, target, ""))
        fit = timed(
            lambda data=data: fit_mmrm(
                data.assign(arm=pd.Categorical(data["arm"], ARMS)),
                "value ~ baseline * visit + arm * visit",
                subject="participant_id",
                time="visit",
                time_levels=VISITS,
            ),
            3,
        )
        rows.append(
            (
                "explicit loop of N fresh fit_mmrm fits (extrapolated)",
                "j2r",
                n,
                np.nan,
                fit * n,
                np.nan,
                f"one fresh fit {fit:.3f} s x {n}",
            )
        )
    data = simulate(1000)
    seconds = timed(
        lambda: bootstrap_mi(data, VISITS, ARMS, n_imputations=500, seed=1, strategy="j2r"),
        args.repeat,
    )
    rows.append(("bootstrap_mi", "j2r", 1000, 500, seconds, 20.0, ""))
    table = pd.DataFrame(
        rows,
        columns=[
            "method",
            "strategy",
            "n_subjects",
            "n_imputations",
            "seconds",
            "target_seconds",
            "note",
        ],
    )
    table.insert(3, "n_visits", len(VISITS))
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "imputation_scaling.csv", index=False, float_format="%.4g")
    machine = (
        f"{platform.machine()}, {os.cpu_count()} logical CPUs, Python "
        f"{platform.python_version()}, numpy {np.__version__}"
    )
    lines = [
        "# Imputation scaling benchmark",
        "",
        f"Machine: {machine}; shared with other jobs while measured (times are upper bounds).",
        "Data: 2 arms, 4 visits, 25% monotone dropout, 3% intermittent gaps. "
        f"Median of {args.repeat} runs at 1,000 subjects, one run at 10,000.",
        "",
        table.to_markdown(index=False, floatfmt=".4g"),
        "",
    ]
    (args.out / "imputation_scaling.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
