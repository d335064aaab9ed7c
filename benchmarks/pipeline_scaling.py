"""Wall time and memory of the whole pipeline at 1,000, 10,000 and 100,000 participants.

For each size the default studies' designs are simulated (``python -m trialflow.simulate
--all --n N``: the knee study with all its instruments and 3 visits, the spine RCT with its
two arms) into a fresh working directory with the default ``config.yaml`` (its data_dir
entries point there), and the full default pipeline runs with ``--cores 2`` from a detached
git worktree of HEAD. Recorded:

- per rule and study: wall and CPU seconds and peak RSS from the rule's Snakemake
  ``benchmark:`` file (``logs/<study>/<rule>.benchmark.tsv``);
- in total: wall time of the ``snakemake`` command, and peak memory of its whole process
  tree (Snakemake and every job running at the time): the summed PSS of all processes,
  sampled every 0.2 s; beside it the summed RSS (counts shared pages more than once) and
  GNU time's maximum RSS, which is the largest single process (a lower bound);
- the scaling exponent log(t_b / t_a) / log(n_b / n_a) between consecutive sizes, per rule
  and in total;
- a no-op rerun: ``snakemake --cores 2`` in the worktree after a complete default run
  (median of three), which must find nothing to do.

Run from the repository root by hand (the 100k point takes minutes; CI may run 1000)::

    .venv/bin/python benchmarks/pipeline_scaling.py --sizes 1000 10000 100000

Writes ``benchmarks/results/pipeline_scaling.csv`` and ``benchmarks/results/pipeline_scaling.md``
(``--out DIR`` elsewhere).
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from _pipeline_run import (
    RESULTS,
    ROOT,
    add_worktree,
    commit_id,
    dirty_paths,
    loadavg,
    read_benchmarks,
    remove_worktree,
    run_measured,
    without_slurm_client,
)

RULE_ORDER = ["validate", "score", "assemble", "descriptives", "analyse", "figures", "tables"]
RULE_ORDER += ["within_arm_table", "report", "provenance"]
TARGET_SECONDS_100K = 300
TARGET_PEAK_GIB = 4
TARGET_EXPONENT = 1.1
TARGET_NOOP_S = 3


def checkout_env(checkout: Path, base: dict | None = None) -> dict:
    """The environment of every command: trialflow imported from the checkout (ahead of the
    editable install of the repository's working tree)."""
    env = dict(os.environ if base is None else base)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(checkout / "src"), env.get("PYTHONPATH")])
    )
    return env


def _snakemake(*args: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--cores", "2", *args]


NOT_INSTRUMENTS = {"participants", "adverse_events"}


def _write_config(rundir: Path, raw: Path) -> Path:
    """The default config with every study's data_dir in ``raw`` (relative to ``rundir``);
    checks that the simulated designs are the default ones (knee: all simulated instruments,
    three visits; the roster and the optional adverse events are not instruments)."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    for name, study in config["studies"].items():
        study["data_dir"] = str((raw / name).relative_to(rundir))
    knee = config["studies"]["knee_sarcopenia"]
    simulated = {p.stem for p in (raw / "knee_sarcopenia").iterdir()} - NOT_INSTRUMENTS
    files = {
        spec.get("file", key).removesuffix(".csv") for key, spec in knee["instruments"].items()
    }
    if files != simulated or len(knee["visits"]) != 3:
        raise SystemExit(
            f"knee config {sorted(files)} does not match simulated {sorted(simulated)}"
        )
    path = rundir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run_size(checkout: Path, tmp: Path, n: int) -> tuple[dict, list[dict]]:
    """Simulate both studies at ``n`` participants and run the full pipeline once."""
    rundir = tmp / f"n{n}"
    raw = rundir / "data" / "raw"
    raw.parent.mkdir(parents=True)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "trialflow.simulate", "--all", "--n", str(n), "--out", str(raw)],
        check=True,
        capture_output=True,
        env=checkout_env(checkout),
    )
    simulate_s = time.perf_counter() - start
    config = _write_config(rundir, raw)
    load_before = loadavg()
    measured = run_measured(
        _snakemake("-s", str(checkout / "Snakefile"), "--configfile", str(config)),
        cwd=rundir,
        env=checkout_env(checkout),
        log=tmp / f"n{n}.log",
    )
    total = {"n": n, "simulate_s": simulate_s, "load_before": load_before}
    total |= measured | {"load_after": loadavg()}
    rules = [r | {"n": n} for r in read_benchmarks(rundir / "logs")]
    print(
        f"n={n}: {measured['wall_s']:.1f} s, tree PSS {measured['tree_peak_pss_mib']:.0f} MiB"
        f" (load {total['load_after']})",
        flush=True,
    )
    return total, rules


#: the no-op of this Snakefile is Snakemake's own start-up, the floor under any workflow's
ONE_RULE = """rule all:
    input:
        "a.txt",


rule a:
    output:
        "a.txt",
    shell:
        "touch {output}"
"""
FLOOR = "one-rule Snakefile"


def _time_noop(checkout: Path, repeats: int, env: dict) -> dict:
    seconds, outputs = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run(_snakemake(), cwd=checkout, capture_output=True, text=True, env=env)
        seconds.append(time.perf_counter() - start)
        outputs.append(done.stdout + done.stderr)
        if done.returncode:
            raise SystemExit(f"no-op rerun failed:\n{outputs[-1][-3000:]}")
    return {
        "median_s": statistics.median(seconds),
        "runs_s": seconds,
        "nothing_to_do": all("Nothing to be done" in text for text in outputs),
        "load": loadavg(),
    }


def noop_rerun(checkout: Path, repeats: int = 3) -> dict:
    """A complete default run in the worktree, then ``snakemake --cores 2`` ``repeats`` times.

    The Slurm executor plugin (installed with the environment) runs ``scontrol show config``
    whenever Snakemake starts; where Slurm's client is installed but no controller answers
    (this machine, after the Slurm end-to-end test) that waits out its 10 s timeout. The
    no-op is therefore also timed with an ``scontrol`` that fails at once first on the PATH,
    as on a machine without Slurm or with a controller that answers. For scale, the no-op of
    a one-rule Snakefile in the same environment (:data:`ONE_RULE`) is timed too: Snakemake's
    own start-up, which no workflow run with it can undercut.
    """
    env = checkout_env(checkout)
    subprocess.run(_snakemake("--quiet"), cwd=checkout, check=True, capture_output=True, env=env)
    timed = {"as installed": _time_noop(checkout, repeats, env)}
    with tempfile.TemporaryDirectory(prefix="no-scontrol-") as stub:
        if shutil.which("scontrol"):
            env = without_slurm_client(env, Path(stub))
            timed["scontrol failing at once"] = _time_noop(checkout, repeats, env)
        with tempfile.TemporaryDirectory(prefix="one-rule-") as floor:
            (Path(floor) / "Snakefile").write_text(ONE_RULE)
            subprocess.run(_snakemake("--quiet"), cwd=floor, check=True, capture_output=True)
            timed[FLOOR] = _time_noop(Path(floor), repeats, env)
    return timed


def exponent(t_small: float, t_large: float, n_small: int, n_large: int) -> float:
    if not (t_small > 0 and t_large > 0):
        return float("nan")
    return math.log(t_large / t_small) / math.log(n_large / n_small)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--no-noop", action="store_true", help="skip the no-op rerun")
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory for the results")
    parser.add_argument("--keep", type=Path, help="work here and keep it (default: a temp dir)")
    args = parser.parse_args()
    if dirty_paths():
        print(f"warning: uncommitted changes not measured: {dirty_paths()}", file=sys.stderr)
    commit = commit_id()
    tmp_context = tempfile.TemporaryDirectory(prefix="trialflow-scaling-")
    tmp = args.keep or Path(tmp_context.name)
    tmp.mkdir(parents=True, exist_ok=True)
    checkout = tmp / "checkout"
    add_worktree(commit, checkout)
    try:
        totals, rules = [], []
        for n in sorted(args.sizes):
            total, per_rule = run_size(checkout, tmp, n)
            totals.append(total)
            rules.extend(per_rule)
        noop = None if args.no_noop else noop_rerun(checkout)
    finally:
        remove_worktree(checkout)
        tmp_context.cleanup()
    write_results(args.out, commit, totals, rules, noop)


def _rows(totals: list[dict], rules: list[dict]) -> list[dict]:
    """One CSV row per (rule, study, n), then one 'total' row per n."""
    rows = []
    for r in rules:
        rows.append(
            {
                "n": r["n"],
                "rule": r["rule"],
                "study": r["study"],
                "wall_s": round(r["wall_s"], 3),
                "cpu_s": round(r["cpu_s"], 3),
                "peak_mib": round(r["max_rss_mib"], 1),
                "peak_kind": "max_rss of the job (benchmark file)",
                "load": "",
            }
        )
    for t in totals:
        rows.append(
            {
                "n": t["n"],
                "rule": "total",
                "study": "all",
                "wall_s": round(t["wall_s"], 3),
                "cpu_s": "",
                "peak_mib": round(t["tree_peak_pss_mib"], 1),
                "peak_kind": "summed PSS of the snakemake process tree (sampled)",
                "load": t["load_after"],
            }
        )
    key = {rule: i for i, rule in enumerate(RULE_ORDER + ["total"])}
    rows.sort(key=lambda r: (r["n"], key.get(r["rule"], 99), r["study"]))
    return rows


def write_results(out: Path, commit: str, totals, rules, noop) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rows = _rows(totals, rules)
    for variant, timed in (noop or {}).items():
        rows.append(
            {
                "n": "default",
                "rule": f"no-op rerun ({variant})",
                "study": "all",
                "wall_s": round(timed["median_s"], 3),
                "cpu_s": "",
                "peak_mib": "",
                "peak_kind": "",
                "load": timed["load"],
            }
        )
    with (out / "pipeline_scaling.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (out / "pipeline_scaling.md").write_text(report(commit, totals, rules, noop))


def _per_rule_seconds(rules: list[dict]) -> dict[tuple[str, str], dict[int, float]]:
    table: dict[tuple[str, str], dict[int, float]] = {}
    for r in rules:
        table.setdefault((r["rule"], r["study"]), {})[r["n"]] = r["wall_s"]
    order = {rule: i for i, rule in enumerate(RULE_ORDER)}
    return dict(sorted(table.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0][1])))


def _fmt(x: float, digits: int = 1) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.{digits}f}"


def report(commit: str, totals: list[dict], rules: list[dict], noop: dict | None) -> str:
    sizes = [t["n"] for t in totals]
    pairs = list(zip(sizes, sizes[1:], strict=False))
    lines = [
        "# Pipeline scaling: 1k, 10k and 100k participants",
        "",
        f"`benchmarks/pipeline_scaling.py` at commit `{commit[:12]}`, full default pipeline",
        "(both studies) with `--cores 2` on simulated data, on "
        f"{platform.machine()} with {os.cpu_count()} cores, Python {platform.python_version()}.",
        "The machine is shared: each load average (`/proc/loadavg`, 1/5/15 min) is stated",
        "beside the figure it qualifies.",
        "",
        "## In total",
        "",
        "| participants per study | wall s | before the first job s "
        "| peak memory MiB (summed PSS) | summed RSS MiB "
        "| largest process MiB | simulate s | load before | load after |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for t in totals:
        lines.append(
            f"| {t['n']:,} | {_fmt(t['wall_s'])} | {_fmt(t['first_job_s'])} "
            f"| {_fmt(t['tree_peak_pss_mib'], 0)} "
            f"| {_fmt(t['tree_peak_rss_mib'], 0)} | {_fmt(t['largest_process_rss_mib'], 0)} "
            f"| {_fmt(t['simulate_s'])} | {t['load_before']} | {t['load_after']} |"
        )
    lines += [
        "",
        "Wall s is the `snakemake` command's; before the first job: Snakemake's start-up,",
        "hashing every raw file and checking the inputs (trialflow's input gate) while it",
        "builds the DAG. Simulating the data is not included.",
        "",
        "Peak memory: the sum of the proportional set sizes (PSS) of the `snakemake` process and",
        "all its descendants (every job running at that moment, forked figure workers",
        "included), sampled every 0.2 s from `/proc/<pid>/smaps_rollup`; PSS divides a page",
        "shared by several processes among them, so the sum is the tree's real footprint.",
        "The summed RSS counts shared pages once per process (an upper bound); the largest",
        "process is GNU `time -v`'s maximum RSS (a lower bound).",
        "",
    ]
    total_by_n = {t["n"]: t["wall_s"] for t in totals}
    if pairs:
        lines += ["Scaling exponent of the total wall time, log(t_b/t_a) / log(n_b/n_a):", ""]
        for a, b in pairs:
            e = exponent(total_by_n[a], total_by_n[b], a, b)
            lines.append(f"- {a:,} -> {b:,}: {e:.2f}")
        lines.append("")
    cpu_by_n = {n: sum(r["cpu_s"] for r in rules if r["n"] == n) for n in sizes}
    lines += [
        "Sum of the jobs' CPU seconds (benchmark files; less sensitive to the machine's load): "
        + ", ".join(f"{n:,}: {cpu_by_n[n]:,.0f} s" for n in sizes)
        + "".join(
            f"; exponent {a:,} -> {b:,}: {exponent(cpu_by_n[a], cpu_by_n[b], a, b):.2f}"
            for a, b in pairs
        )
        + ".",
        "",
    ]
    lines += _targets(totals, pairs, total_by_n, noop)
    lines += ["## Per rule", "", "Each job's benchmark file: wall s / CPU s (peak RSS MiB);"]
    lines += ["exponents of wall / CPU time. Under load, CPU time is the steadier measure.", ""]
    header = ["rule", "study", *(f"{n:,}" for n in sizes)]
    header += [f"exponent {a:,}->{b:,}" for a, b in pairs]
    lines += ["| " + " | ".join(header) + " |"]
    lines.append("|---|---|" + "---:|" * (len(sizes) + len(pairs)))
    by_key = {(r["rule"], r["study"], r["n"]): r for r in rules}
    for rule, study in _per_rule_seconds(rules):
        cells = []
        for n in sizes:
            r = by_key.get((rule, study, n))
            cells.append(
                f"{_fmt(r['wall_s'])} / {_fmt(r['cpu_s'])} ({_fmt(r['max_rss_mib'], 0)})"
                if r
                else ""
            )
        for a, b in pairs:
            ra, rb = by_key.get((rule, study, a)), by_key.get((rule, study, b))
            cells.append(
                f"{exponent(ra['wall_s'], rb['wall_s'], a, b):.2f} / "
                f"{exponent(ra['cpu_s'], rb['cpu_s'], a, b):.2f}"
                if ra and rb
                else ""
            )
        lines.append(f"| {rule} | {study} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "A rule's exponent between two sizes where it takes a second or two mostly reflects",
        "its fixed start-up (Python and its imports), not its work.",
    ]
    return "\n".join(lines) + "\n"


def _targets(totals, pairs, total_by_n, noop) -> list[str]:
    lines = ["## Targets", "", "| target | measured | met |", "|---|---|---|"]
    if 100000 in total_by_n:
        t = next(t for t in totals if t["n"] == 100000)
        seconds, gib = t["wall_s"], t["tree_peak_pss_mib"] / 1024
        lines.append(
            f"| 100k end to end < {TARGET_SECONDS_100K} s | {seconds:.0f} s "
            f"(load {t['load_after']}) | {'yes' if seconds < TARGET_SECONDS_100K else 'no'} |"
        )
        lines.append(
            f"| 100k peak memory < {TARGET_PEAK_GIB} GiB | {gib:.2f} GiB summed PSS "
            f"| {'yes' if gib < TARGET_PEAK_GIB else 'no'} |"
        )
    if (10000, 100000) in pairs:
        e = exponent(total_by_n[10000], total_by_n[100000], 10000, 100000)
        lines.append(
            f"| exponent 10k -> 100k <= {TARGET_EXPONENT} | {e:.2f} "
            f"| {'yes' if e <= TARGET_EXPONENT else 'no'} |"
        )
    for variant, timed in (noop or {}).items():
        if variant == FLOOR:
            continue
        runs = ", ".join(f"{s:.2f}" for s in timed["runs_s"])
        met = timed["median_s"] < TARGET_NOOP_S and timed["nothing_to_do"]
        lines.append(
            f"| no-op rerun of the default config < {TARGET_NOOP_S} s ({variant}) "
            f"| {timed['median_s']:.2f} s, median of {runs} s (load {timed['load']}); "
            f"nothing to do: {'yes' if timed['nothing_to_do'] else 'NO'} "
            f"| {'yes' if met else 'no'} |"
        )
    if noop and FLOOR in noop:
        floor = noop[FLOOR]
        lines += [
            "",
            "For scale: the no-op of a one-rule Snakefile in the same environment, Snakemake's",
            f"own start-up with its installed plugins, took {floor['median_s']:.2f} s (median of",
            f"{', '.join(f'{s:.2f}' for s in floor['runs_s'])} s; load {floor['load']}).",
        ]
    if noop and "scontrol failing at once" in noop:
        lines += [
            "",
            "The Slurm executor plugin runs `scontrol show config` whenever Snakemake starts;",
            "on this machine Slurm's client is installed (by the Slurm end-to-end test) but no",
            "controller runs, so it waits out its timeout (about 9 s). The second no-op row puts",
            "an `scontrol` that fails at once first on the PATH, as on a machine without Slurm",
            "or with a controller that answers.",
        ]
    return [*lines, ""]


if __name__ == "__main__":
    main()
