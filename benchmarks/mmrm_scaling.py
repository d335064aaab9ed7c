"""Scaling benchmark of trialflow's MMRM against statsmodels MixedLM and R nlme::gls.

Simulated two-arm trials with four post-baseline visits, a baseline covariate and 20%
monotone dropout (a dropout leaves after visit 1, 2 or 3 with equal probability). For each
size the same data are fitted by

- trialflow: ``y ~ base + arm * visit``, unstructured covariance, REML, Kenward-Roger,
  plus the LS-mean differences by visit (the pipeline's work);
- statsmodels ``MixedLM`` with a random intercept (the nearest model it can fit), REML;
- R ``nlme::gls`` with ``corSymm`` + ``varIdent`` (the unstructured model), REML, when
  ``Rscript`` is on the PATH.

Wall time of the fit is measured with ``time.perf_counter`` (best of ``--repeat`` for
trialflow); peak memory as the peak of traced Python/numpy allocations during a separate
fit (``tracemalloc``) for Python, and as ``gc()``'s "max used" for R. Slow competitors are
run only at the sizes given (defaults keep the whole run to a few minutes); the report
extrapolates gls linearly in the number of subjects and says so.

Run from the repository root (never from the test suite)::

    .venv/bin/python benchmarks/mmrm_scaling.py

Writes ``benchmarks/results/mmrm_scaling.csv`` and ``benchmarks/results/mmrm_scaling.md``.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from trialflow.stats.mmrm import MMRMControl, fit_mmrm  # noqa: E402

N_VISITS = 4


def simulate(n_subjects: int, seed: int = 20261121) -> pd.DataFrame:
    """Long data of a simulated 2-arm, 4-visit trial with 20% monotone dropout."""
    rng = np.random.default_rng(seed)
    t = N_VISITS
    arm = rng.integers(0, 2, n_subjects)
    base = rng.normal(50.0, 10.0, n_subjects)
    sd = np.array([5.0, 6.0, 7.0, 8.0])
    corr = 0.6 ** np.abs(np.subtract.outer(np.arange(t), np.arange(t)))
    chol = np.linalg.cholesky(corr * np.outer(sd, sd))
    eps = rng.standard_normal((n_subjects, t)) @ chol.T
    effect = np.array([0.5, 1.0, 1.5, 2.0])
    y = 10.0 + 0.8 * base[:, None] + np.arange(t) + arm[:, None] * effect + eps
    # 20% of subjects drop out after visit 1, 2 or 3 (monotone)
    visits_done = np.where(rng.random(n_subjects) < 0.2, rng.integers(1, t, n_subjects), t)
    keep = (np.arange(t)[None, :] < visits_done[:, None]).ravel()
    frame = pd.DataFrame(
        {
            "id": np.repeat(np.arange(n_subjects), t),
            "arm": np.where(np.repeat(arm, t) == 1, "trt", "pbo"),
            "visit": np.tile([f"w{k}" for k in range(1, t + 1)], n_subjects),
            "base": np.repeat(base, t),
            "y": y.ravel(),
        }
    )
    return frame.loc[keep].reset_index(drop=True)


def trialflow_fit(data: pd.DataFrame):
    result = fit_mmrm(
        data,
        "y ~ base + arm * visit",
        subject="id",
        time="visit",
        reference={"arm": "pbo"},
        control=MMRMControl(covariance="unstructured", ddf="kenward-roger"),
    )
    return result, result.lsmean_diffs("arm", by="visit")


def statsmodels_fit(data: pd.DataFrame):
    import statsmodels.formula.api as smf

    model = smf.mixedlm("y ~ base + C(arm) * C(visit)", data, groups=data["id"])
    return model.fit(reml=True)


def measure(func, data, repeat: int = 1) -> tuple[float, float, float, object]:
    """Median and first wall time of ``repeat`` runs, peak traced MiB of one more run.

    The first run pays for fresh memory pages; later runs reuse the allocator's pages.
    """
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        out = func(data)
        times.append(time.perf_counter() - start)
    gc.collect()
    tracemalloc.start()
    func(data)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return float(np.median(times)), times[0], peak, out


R_CODE = r"""
suppressPackageStartupMessages(library(nlme))
d <- read.csv(commandArgs(trailingOnly = TRUE)[1])
d$arm <- relevel(factor(d$arm), ref = "pbo")
d$visit <- factor(d$visit)
d$vnum <- as.integer(d$visit)
invisible(gc(reset = TRUE))
# A failed fit (gls stops with "false convergence" on large data) is a result too: its time
# and message are reported instead of a difference.
start <- proc.time()[["elapsed"]]
fit <- tryCatch(
  gls(y ~ base + arm * visit, data = d,
      correlation = corSymm(form = ~ vnum | id),
      weights = varIdent(form = ~ 1 | visit), method = "REML"),
  error = function(e) e
)
elapsed <- proc.time()[["elapsed"]] - start
mem <- sum(gc()[, 6])
if (inherits(fit, "error")) {
  cat(sprintf("%.6f %.3f NA %s\n", elapsed, mem, gsub("\\s+", "_", conditionMessage(fit))))
} else {
  est <- coef(fit)[["armtrt:visitw4"]] + coef(fit)[["armtrt"]]
  cat(sprintf("%.6f %.3f %.10g ok\n", elapsed, mem, est))
}
"""


def gls_fit(data: pd.DataFrame) -> tuple[float, float, float, str]:
    """Elapsed seconds, R peak memory (MiB, gc max used), the week-4 difference and the status
    (``ok`` or gls's error message)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        data.to_csv(path, index=False)
        script = Path(tmp) / "gls.R"
        script.write_text(R_CODE)
        out = subprocess.run(
            ["Rscript", str(script), str(path)], capture_output=True, text=True, check=True
        )
    elapsed, mem, est, status = out.stdout.split(maxsplit=3)
    difference = math.nan if est == "NA" else float(est)  # NA: the fit failed
    return float(elapsed), float(mem), difference, status.strip().replace("_", " ")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000]
    )
    parser.add_argument("--statsmodels-sizes", type=int, nargs="*", default=[1_000, 10_000])
    parser.add_argument("--gls-sizes", type=int, nargs="*", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    have_r = shutil.which("Rscript") is not None
    load = os.getloadavg()[0]  # other work on the machine inflates wall times
    rows = []
    for n in args.sizes:
        data = simulate(n)
        seconds, first, peak, (result, diffs) = measure(trialflow_fit, data, args.repeat)
        week4 = float(diffs["estimate"].iloc[-1])
        rows.append(
            {
                "subjects": n,
                "observations": len(data),
                "engine": "trialflow",
                "model": "UN REML + Kenward-Roger + LS-mean differences",
                "seconds": seconds,
                "first_run_seconds": first,
                "peak_mib": peak,
                "week4_difference": week4,
                "note": f"structure {result.structure}; {result.attempts[-1].iterations} "
                f"Newton iterations; {result.n_patterns} missingness patterns",
            }
        )
        print(f"trialflow   n={n:>9,}  {seconds:8.3f} s (first {first:.3f} s)  {peak:8.1f} MiB")
        if n in args.statsmodels_sizes:
            seconds, first, peak, sm = measure(statsmodels_fit, data, 1)
            rows.append(
                {
                    "subjects": n,
                    "observations": len(data),
                    "engine": "statsmodels MixedLM",
                    "model": "random intercept, REML",
                    "seconds": seconds,
                    "first_run_seconds": first,
                    "peak_mib": peak,
                    "week4_difference": float(
                        sm.fe_params["C(arm)[T.trt]"]
                        + sm.fe_params["C(arm)[T.trt]:C(visit)[T.w4]"]
                    ),
                    "note": "different (compound-symmetry) covariance model",
                }
            )
            print(f"statsmodels n={n:>9,}  {seconds:8.3f} s  {peak:8.1f} MiB", flush=True)
        if have_r and n in args.gls_sizes:
            seconds, peak, est, status = gls_fit(data)
            rows.append(
                {
                    "subjects": n,
                    "observations": len(data),
                    "engine": "R nlme::gls",
                    "model": "corSymm + varIdent (UN), REML",
                    "seconds": seconds,
                    "first_run_seconds": seconds,
                    "peak_mib": peak,
                    "week4_difference": est,
                    "note": "fit only; memory is R's gc() max used"
                    + ("" if status == "ok" else f"; FAILED: {status}"),
                }
            )
            print(f"nlme::gls   n={n:>9,}  {seconds:8.3f} s  {peak:8.1f} MiB {status}", flush=True)
        del data
    table = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(
        args.out / "mmrm_scaling.csv", index=False, float_format="%.6g", lineterminator="\n"
    )
    (args.out / "mmrm_scaling.md").write_text(report(table, have_r, load))
    print(f"wrote {args.out / 'mmrm_scaling.csv'} and {args.out / 'mmrm_scaling.md'}")
    return 0


def report(table: pd.DataFrame, have_r: bool, load: float) -> str:
    """Markdown table plus the speed-up against gls (measured, then extrapolated)."""
    lines = [
        "# MMRM scaling benchmark",
        "",
        "Simulated 2-arm trials, 4 visits, baseline covariate, 20% monotone dropout; "
        "`benchmarks/mmrm_scaling.py`.",
        f"Machine: {os.cpu_count()} CPU cores, {platform.machine()}, Python "
        f"{platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}; "
        f"1-minute load average at the start: {load:.2f}.",
        "Seconds: wall time of the fit; for trialflow the median of repeated fits (first "
        "run, with fresh memory pages, in its own column), each including building the "
        "design, the sufficient statistics, REML, Kenward-Roger and LS-mean differences. "
        "Peak MiB: traced Python/numpy allocations during the fit (R: gc() max used).",
        "",
        "| subjects | observations | engine | model | seconds | first run s | peak MiB "
        "| week-4 difference |",
        "|---:|---:|---|---|---:|---:|---:|---:|",
    ]
    for row in table.itertuples(index=False):
        lines.append(
            f"| {row.subjects:,} | {row.observations:,} | {row.engine} | {row.model} | "
            f"{row.seconds:.3f} | {row.first_run_seconds:.3f} | {row.peak_mib:.1f} | "
            + (
                f"{row.week4_difference:.4f} |"
                if np.isfinite(row.week4_difference)
                else "failed |"
            )
        )
    tf = table[table["engine"] == "trialflow"].set_index("subjects")["seconds"]
    gls_rows = table[table["engine"] == "R nlme::gls"].set_index("subjects")
    failed = gls_rows["week4_difference"].isna()
    gls = gls_rows.loc[~failed, "seconds"]
    lines += ["", "## Speed-up against nlme::gls (same data, same unstructured model)", ""]
    if not have_r or gls_rows.empty:
        lines.append("R was not available: no comparison.")
    for n, row in gls_rows[failed].iterrows():
        lines.append(
            f"- {n:,} subjects (measured): gls gave up after {row['seconds']:.0f} s "
            f"({row['note'].split('FAILED: ')[-1]}); trialflow converged in {tf[n]:.3f} s, "
            f"at least {row['seconds'] / tf[n]:.0f}x faster."
        )
    if not gls.empty:
        for n, seconds in gls.items():
            lines.append(
                f"- {n:,} subjects (measured): gls {seconds:.2f} s, trialflow "
                f"{tf[n]:.3f} s: {seconds / tf[n]:.0f}x faster."
            )
        largest, smallest = gls.index.max(), gls.index.min()
        per_subject = gls[largest] / largest
        if largest > smallest:
            growth = gls[largest] / gls[smallest]
            lines.append(
                f"- gls time grew {growth:.0f}x from {smallest:,} to {largest:,} subjects "
                f"({largest / smallest:.0f}x the data), so the linear extrapolation below "
                "understates it."
            )
        for n in tf.index:
            if n > largest and n not in gls_rows.index:
                guess = per_subject * n
                lines.append(
                    f"- {n:,} subjects (gls extrapolated linearly from {largest:,}: "
                    f"about {guess:.0f} s, not run): trialflow {tf[n]:.3f} s, about "
                    f"{guess / tf[n]:.0f}x faster."
                )
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
