"""Wall time of the default pipeline's figures: commit 3a89c27 (baseline) against HEAD.

Both commits are checked out side by side into a temporary directory (``git worktree add
--detach``), each a fresh working copy with its own committed default config and data. Each
runs in a virtual environment built from its own ``requirements.lock`` (``python -m venv``,
``pip install -r requirements.lock``, ``pip install --no-deps -e .``); environments are kept
in ``~/.cache/trialflow-benchmarks/venv-<SHA-256 of the lock file>`` and reused by later runs
(and by both commits when their lock files are equal), the editable install pointed at the
checkout before it runs. In each checkout:

1. ``snakemake --cores 2 --until analyse`` makes every input of the figures rule (in both
   commits the figures rule reads validate's, score's, assemble's and analyse's outputs;
   a dry run afterwards checks that only figures jobs are left before it);
2. ``snakemake --cores 2 --forcerun figures --until figures`` is timed: the figures of both
   studies. The figures rule's wall time is the span from the first figures job's start to
   the last one's end, read from Snakemake's output as it comes (its start-up left out);
   the whole command's wall time is recorded too.

Both commands run with an ``scontrol`` that fails at once first on the PATH: HEAD's
environment holds the Slurm executor plugin, which runs ``scontrol show config`` when
Snakemake starts, and where Slurm's client is installed without a controller answering
(this machine) that waits out a 9 s timeout the baseline's environment never pays.

Per study, the seconds of each figures job come from its Snakemake benchmark file. HEAD's
figures rule has one (``logs/<study>/figures.benchmark.tsv``); the baseline's has none, so
the same ``benchmark:`` line is added to its figures rule in the temporary checkout (the only
change to it). The baseline's figures jobs take one thread, so ``--cores 2`` runs the two
studies side by side; HEAD's take two threads (a process pool inside the job) and run one
after the other: compare the totals, not the per-study times. ``--repeat`` alternates the
two commits and keeps every run; the report gives medians.

Run from the repository root by hand, on an otherwise idle machine if it can be::

    .venv/bin/python benchmarks/figures_speed.py

Writes ``benchmarks/results/figures_speed.csv`` and ``benchmarks/results/figures_speed.md``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _pipeline_run import (
    RESULTS,
    add_worktree,
    commit_id,
    dirty_paths,
    loadavg,
    read_benchmarks,
    remove_worktree,
    run_measured,
    without_slurm_client,
)

BASELINE = "3a89c27"
# the rule whose outputs complete the figures rule's inputs, in both commits
BEFORE_FIGURES = "analyse"
ENV_CACHE = Path.home() / ".cache" / "trialflow-benchmarks"
BENCHMARK_LINE = '    benchmark:\n        "logs/{study}/figures.benchmark.tsv"\n'
TARGET_SPEEDUP = 4.0
STAGE = "figures stage (first job start to last job end)"
COMMAND = "whole command (Snakemake start-up included)"


def environment(checkout: Path) -> Path:
    """The Python of a venv built from the checkout's requirements.lock, trialflow installed
    from the checkout (editable)."""
    lock = (checkout / "requirements.lock").read_bytes()
    venv = ENV_CACHE / f"venv-{hashlib.sha256(lock).hexdigest()[:16]}"
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if not stamp.exists():
        print(f"building {venv} from {checkout.name}/requirements.lock", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        _quiet([*pip, "-r", str(checkout / "requirements.lock")])
        # matplotlib builds its font cache on first import: not part of any timing
        _quiet([str(python), "-c", "import matplotlib.pyplot"])
        stamp.touch()
    _quiet([*pip, "--no-deps", "-e", str(checkout)])
    return python


def _quiet(cmd: list[str]) -> None:
    """Run ``cmd``; its output only when it fails."""
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{(done.stdout + done.stderr)[-3000:]}")


def _add_figures_benchmark(checkout: Path) -> None:
    rules = checkout / "workflow" / "rules" / "report.smk"
    text = rules.read_text()
    head, sep, tail = text.partition("rule figures:")
    if "benchmark:" in tail.split("\nrule ")[0]:
        return
    log = '    log:\n        "logs/{study}/figures.log",\n'
    start = tail.index(log) + len(log)
    rules.write_text(head + sep + tail[:start] + BENCHMARK_LINE + tail[start:])


def _left_before_figures(python: Path, checkout: Path) -> set[str]:
    dry = subprocess.run(
        [str(python), "-m", "snakemake", "-n", "--cores", "2", "--until", "figures"],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    jobs = {line.split()[1].rstrip(":") for line in dry.splitlines() if line.startswith("rule ")}
    return jobs


def measure(label: str, commit: str, checkout: Path, tmp: Path, run: int) -> list[dict]:
    python = environment(checkout)
    stub = tmp / "no-slurm-bin"
    stub.mkdir(exist_ok=True)
    env = without_slurm_client({**os.environ, "PYTHONNOUSERSITE": "1"}, stub)
    snakemake = [str(python), "-m", "snakemake", "--cores", "2"]
    subprocess.run(
        [*snakemake, "--quiet", "--until", BEFORE_FIGURES],
        cwd=checkout,
        env=env,
        check=True,
        capture_output=True,
    )
    left = _left_before_figures(python, checkout)
    if not left <= {"figures"}:  # a later run finds the figures made already
        raise SystemExit(f"{label}: jobs left before the figures: {sorted(left)}")
    load_before = loadavg()
    measured = run_measured(
        [*snakemake, "--forcerun", "figures", "--until", "figures"],
        cwd=checkout,
        env=env,
        log=tmp / f"{label}-{run}.log",
    )
    load_after = loadavg()
    print(
        f"{label} run {run}: figures jobs {measured['jobs_span_s']:.1f} s, command "
        f"{measured['wall_s']:.1f} s (load {load_after})",
        flush=True,
    )
    rows = [
        {
            "commit": commit,
            "label": label,
            "run": run,
            "study": COMMAND,
            "wall_s": round(measured["wall_s"], 3),
            "cpu_s": "",
            "peak_mib": round(measured["tree_peak_pss_mib"], 1),
            "load_before": load_before,
            "load_after": load_after,
        },
        {
            "commit": commit,
            "label": label,
            "run": run,
            "study": STAGE,
            "wall_s": round(measured["jobs_span_s"], 3),
            "cpu_s": "",
            "peak_mib": round(measured["tree_peak_pss_mib"], 1),
            "load_before": load_before,
            "load_after": load_after,
        },
    ]
    for r in read_benchmarks(checkout / "logs"):
        if r["rule"] == "figures":
            rows.append(
                {
                    "commit": commit,
                    "label": label,
                    "run": run,
                    "study": r["study"],
                    "wall_s": round(r["wall_s"], 3),
                    "cpu_s": round(r["cpu_s"], 3),
                    "peak_mib": round(r["max_rss_mib"], 1),
                    "load_before": load_before,
                    "load_after": load_after,
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each commit")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--keep", type=Path, help="work here and keep it (default: a temp dir)")
    args = parser.parse_args()
    if dirty_paths():
        print(f"warning: uncommitted changes not measured: {dirty_paths()}", file=sys.stderr)
    commits = {"baseline": commit_id(args.baseline), "current": commit_id("HEAD")}
    tmp_context = tempfile.TemporaryDirectory(prefix="trialflow-figures-speed-")
    tmp = args.keep or Path(tmp_context.name)
    tmp.mkdir(parents=True, exist_ok=True)
    checkouts = {label: tmp / label for label in commits}
    rows = []
    try:
        for label, commit in commits.items():
            add_worktree(commit, checkouts[label])
        _add_figures_benchmark(checkouts["baseline"])
        for run in range(1, args.repeat + 1):
            for label, commit in commits.items():
                rows += measure(label, commit, checkouts[label], tmp, run)
    finally:
        for checkout in checkouts.values():
            remove_worktree(checkout)
        tmp_context.cleanup()
    write_results(args.out, commits, rows)


def _median(rows: list[dict], label: str, study: str, key: str = "wall_s") -> float:
    values = [r[key] for r in rows if r["label"] == label and r["study"] == study]
    return statistics.median(values) if values else float("nan")


def write_results(out: Path, commits: dict[str, str], rows: list[dict]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "figures_speed.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    base, cur = _median(rows, "baseline", STAGE), _median(rows, "current", STAGE)
    speedup = base / cur
    studies = sorted({r["study"] for r in rows} - {STAGE, COMMAND})
    cpu = {
        label: statistics.median(
            sum(
                r["cpu_s"]
                for r in rows
                if r["label"] == label and r["run"] == run and r["cpu_s"] != ""
            )
            for run in {r["run"] for r in rows}
        )
        for label in ("baseline", "current")
    }
    lines = [
        "# Figures of the default pipeline: baseline 3a89c27 against HEAD",
        "",
        f"`benchmarks/figures_speed.py`, `--cores 2`, on {platform.machine()} with "
        f"{os.cpu_count()} cores (Python {platform.python_version()}).",
        f"Baseline `{commits['baseline']}`, current `{commits['current']}`.",
        "Each commit runs in a fresh worktree with its own default config and data and its own",
        "environment (built from its `requirements.lock`); after everything before the figures",
        "was made, `snakemake --cores 2 --forcerun figures --until figures` is timed. The",
        "figures rule's wall time is the span from the first figures job's start to the last",
        "one's end (Snakemake's start-up left out); the whole command's time is given too.",
        "The machine is shared with other work: the load averages (`/proc/loadavg`, 1/5/15",
        "min) before and after each run are given beside it. Medians over the runs.",
        "",
        "| | baseline | current | speed-up |",
        "|---|---:|---:|---:|",
        f"| **figures rule, both studies: wall s** | {base:.1f} | {cur:.1f} | **{speedup:.1f}x** |",
    ]
    b_cmd, c_cmd = _median(rows, "baseline", COMMAND), _median(rows, "current", COMMAND)
    lines.append(f"| whole command: wall s | {b_cmd:.1f} | {c_cmd:.1f} | {b_cmd / c_cmd:.1f}x |")
    lines.append(
        f"| CPU s of the figures jobs (benchmark files) | {cpu['baseline']:.1f} "
        f"| {cpu['current']:.1f} | {cpu['baseline'] / cpu['current']:.1f}x |"
    )
    for study in studies:
        b, c = _median(rows, "baseline", study), _median(rows, "current", study)
        lines.append(f"| figures job {study}: wall s | {b:.1f} | {c:.1f} | {b / c:.1f}x |")
    target = "met" if speedup >= TARGET_SPEEDUP else "NOT met"
    lines += [
        "",
        f"Target: the figures at least {TARGET_SPEEDUP:.0f}x faster in wall time with "
        f"`--cores 2`: {target} ({speedup:.1f}x).",
        "",
        "The baseline's figures jobs take one thread each, so its two studies ran side by side;",
        "the current jobs take two threads (outcomes drawn in a process pool) and ran",
        "one after the other, so the per-study rows do not compare one to one. Both commands",
        "ran with an `scontrol` that fails at once first on the PATH: the current environment",
        "holds the Slurm executor plugin, which runs `scontrol show config` when Snakemake",
        "starts, and on this machine (Slurm's client installed, no controller running) that",
        "waits out a 9 s timeout the baseline's environment, without the plugin, never pays.",
        "",
        "## Every run",
        "",
        "| commit | run | what | wall s | CPU s | peak MiB | load before | load after |",
        "|---|---:|---|---:|---:|---:|---|---|",
    ]
    for r in rows:
        cpu_s = f"{r['cpu_s']:.1f}" if r["cpu_s"] != "" else ""
        lines.append(
            f"| {r['label']} `{r['commit'][:7]}` | {r['run']} | {r['study']} | {r['wall_s']:.1f} "
            f"| {cpu_s} | {r['peak_mib']:.0f} | {r['load_before']} | {r['load_after']} |"
        )
    lines += [
        "",
        "Peak MiB: for the command, the summed PSS of the snakemake process tree (sampled",
        "every 0.2 s); per study, the job's max RSS from its benchmark file (forked workers'",
        "shared pages counted in each).",
    ]
    (out / "figures_speed.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
