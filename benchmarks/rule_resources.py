"""Peak memory and time of every rule against the size of its inputs.

The measurements behind ``JOB_COSTS`` in ``workflow/rules/common.smk`` (each rule's memory
and run time request: a fixed part plus a part per MiB of input). The committed workflow is
copied into a temporary directory (``git archive HEAD``), a Snakemake ``benchmark:`` file is
added to every rule there (peak RSS, wall and CPU seconds of the job's process tree), and the
default pipeline runs with ``--cores 2`` on the default studies and on simulated studies of
each ``--n`` (``python -m trialflow.simulate --all --n N``). The input size of each job is
measured the way ``input_mb`` in common.smk does (files, and the files inside input
directories), from each job's input list in a forced dry run.

Run from the repository root (never from the test suite; about 15 minutes alone)::

    .venv/bin/python benchmarks/rule_resources.py --n 1000 4000

Writes ``benchmarks/results/rule_resources.csv`` and ``benchmarks/results/rule_resources.md``.
"""

from __future__ import annotations

import argparse
import csv
import math
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BENCH_LINE = '    benchmark:\n        "bench/{study}/%s.tsv",\n'


def _add_benchmarks(workflow: Path) -> None:
    """Give every rule in ``workflow/rules`` a benchmark file (after its ``log:`` block)."""
    for rules in (workflow / "workflow" / "rules").glob("*.smk"):
        text = rules.read_text()
        text = re.sub(
            r'(    log:\n        "logs/\{study\}/(\w+)\.log",\n)',
            lambda m: m.group(1) + BENCH_LINE % m.group(2),
            text,
        )
        rules.write_text(text)


def _size_mb(path: Path) -> float:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20
    return path.stat().st_size / 2**20


def _job_inputs(workflow: Path, rundir: Path, config: Path) -> dict[tuple[str, str], float]:
    """Input MiB of every (rule, study) job, from the job list of a forced dry run."""
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(workflow / "Snakefile"), "-n"]
        + ["--forceall", "--directory", str(rundir), "--configfile", str(config)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    sizes = {}
    for block in re.split(r"\n(?=rule \w+:)", out):
        rule = re.match(r"rule (\w+):", block)
        inputs = re.search(r"^    input: (.*)$", block, re.MULTILINE)
        study = re.search(r"^    wildcards: study=(\w+)", block, re.MULTILINE)
        if rule and inputs and study:
            paths = inputs.group(1).split(", ")
            sizes[rule.group(1), study.group(1)] = sum(_size_mb(rundir / p) for p in paths)
    return sizes


def _run(workflow: Path, rundir: Path, config: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(workflow / "Snakefile")]
        + ["--directory", str(rundir), "--configfile", str(config), "--cores", "2", "--quiet"],
        check=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="*", default=[1000, 4000])
    parser.add_argument(
        "--fit-only", action="store_true", help="refit and rewrite the report from the CSV"
    )
    args = parser.parse_args()
    if args.fit_only:
        with (RESULTS / "rule_resources.csv").open() as f:
            rows = [
                {k: v if k in ("rule", "study", "size") else float(v) for k, v in row.items()}
                for row in csv.DictReader(f)
            ]
        _write(rows)
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="trialflow-rule-resources-") as tmp:
        tmp = Path(tmp)
        workflow = tmp / "workflow"
        workflow.mkdir()
        archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(workflow)], input=archive.stdout, check=True)
        _add_benchmarks(workflow)
        config_text = (ROOT / "config.yaml").read_text()
        sizes = [("default", None)] + [(f"n{n}", n) for n in args.n]
        for label, n in sizes:
            rundir = tmp / label
            raw = rundir / "data" / "raw"
            raw.parent.mkdir(parents=True)
            if n is None:
                subprocess.run(["cp", "-a", str(ROOT / "data" / "raw"), str(raw)], check=True)
            else:
                subprocess.run(
                    [sys.executable, "-m", "trialflow.simulate", "--all", "--n", str(n)]
                    + ["--out", str(raw)],
                    check=True,
                    capture_output=True,
                )
            config = rundir / "config.yaml"
            config.write_text(config_text)
            seconds = _run(workflow, rundir, config)
            print(f"{label}: pipeline {seconds:.0f} s", flush=True)
            inputs = _job_inputs(workflow, rundir, config)
            for bench in sorted((rundir / "bench").glob("*/*.tsv")):
                study, rule = bench.parent.name, bench.stem
                with bench.open() as f:
                    record = list(csv.DictReader(f, delimiter="\t"))[-1]
                rows.append(
                    {
                        "rule": rule,
                        "study": study,
                        "size": label,
                        "input_mib": round(inputs[rule, study], 3),
                        "wall_s": float(record["s"]),
                        "cpu_s": float(record["cpu_time"]),
                        "peak_rss_mib": float(record["max_rss"]),
                    }
                )
    _write(rows)


MEMORY_HEADROOM = 1.5  # requested / measured peak RSS
TIME_HEADROOM = 3.0  # requested wall time / measured CPU time (slower or busier nodes)
MIN_MINUTES = 10  # Slurm kills a job at its time limit: never ask for less


def _upper_line(points: list[tuple[float, float]]) -> tuple[float, float]:
    """The least-squares slope (at least 0), raised to the least intercept that keeps every
    point on or under the line."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    slope = max(sxy / sxx, 0.0) if sxx > 0 else 0.0
    return slope, max(y - slope * x for x, y in points)


def fit_costs(rows: list[dict]) -> dict[str, tuple[int, int, int, float]]:
    """Per rule: (MiB fixed, MiB per input MiB, minutes fixed, minutes per input MiB)."""
    costs = {}
    for rule in dict.fromkeys(r["rule"] for r in rows):
        mine = [r for r in rows if r["rule"] == rule]
        slope, fixed = _upper_line([(r["input_mib"], r["peak_rss_mib"]) for r in mine])
        mem = (50 * math.ceil(MEMORY_HEADROOM * fixed / 50), math.ceil(MEMORY_HEADROOM * slope))
        slope, fixed = _upper_line([(r["input_mib"], r["cpu_s"]) for r in mine])
        minutes = max(MIN_MINUTES, math.ceil(TIME_HEADROOM * fixed / 60))
        per_mib = math.ceil(10 * TIME_HEADROOM * slope / 60) / 10
        costs[rule] = (*mem, minutes, per_mib)
    return costs


def _write(rows: list[dict]) -> None:
    order = ["validate", "score", "assemble", "descriptives", "analyse", "figures"]
    order += ["tables", "report"]
    rows.sort(key=lambda r: (order.index(r["rule"]) if r["rule"] in order else 99, r["size"]))
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (RESULTS / "rule_resources.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    lines = [
        "# Peak memory and time per rule against input size",
        "",
        "`benchmarks/rule_resources.py`, `--cores 2` on the project's 2-core machine. Input MiB",
        "as `input_mb` in `workflow/rules/common.smk` counts it; wall time depends on what else",
        "ran on the machine, CPU time less so. These numbers set `JOB_COSTS` there.",
        "",
        "| rule | study | size | input MiB | wall s | CPU s | peak RSS MiB |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['rule']} | {r['study']} | {r['size']} | {r['input_mib']:.2f} "
            f"| {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['peak_rss_mib']:.0f} |"
        )
    lines += [
        "",
        "## Requests fitted from these numbers",
        "",
        "Per rule, over both studies and all sizes: the least-squares slope against input MiB,",
        "with the intercept raised until every measured point lies on or under the line;",
        f"memory times {MEMORY_HEADROOM}, run time {TIME_HEADROOM} times the CPU time and at",
        f"least {MIN_MINUTES} minutes. `JOB_COSTS` in `workflow/rules/common.smk` holds these",
        "values.",
        "",
        "| rule | MiB fixed | MiB per input MiB | minutes fixed | minutes per input MiB |",
        "|---|---:|---:|---:|---:|",
    ]
    for rule, (mem, mem_per, minutes, minutes_per) in fit_costs(rows).items():
        lines.append(f"| {rule} | {mem} | {mem_per} | {minutes} | {minutes_per} |")
    (RESULTS / "rule_resources.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
