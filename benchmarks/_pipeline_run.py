"""Shared by the pipeline benchmarks: checkouts, timed Snakemake runs, memory of a process tree.

Not a benchmark itself; ``figures_speed.py`` and ``pipeline_scaling.py`` import it (their
own directory is on ``sys.path`` when they run as scripts).
"""

from __future__ import annotations

import csv
import math
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TIME = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages, as /proc/loadavg has them."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def commit_id(ref: str = "HEAD") -> str:
    return subprocess.run(
        ["git", "rev-parse", ref], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def dirty_paths() -> list[str]:
    """Tracked files under src/, scripts/, workflow/ or Snakefile changed since HEAD."""
    out = subprocess.run(
        ["git", "status", "--porcelain", "--", "src", "scripts", "workflow", "Snakefile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line[3:] for line in out.splitlines() if not line.startswith("??")]


def add_worktree(commit: str, dest: Path) -> None:
    """A detached git worktree of ``commit`` at ``dest`` (a real checkout, so that the
    workflow finds its commit as it does in the repository)."""
    subprocess.run(
        ["git", "worktree", "add", "--detach", "--quiet", str(dest), commit],
        cwd=ROOT,
        check=True,
    )


def remove_worktree(dest: Path) -> None:
    subprocess.run(["git", "worktree", "remove", "--force", str(dest)], cwd=ROOT, check=False)
    subprocess.run(["git", "worktree", "prune"], cwd=ROOT, check=False)


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # the command name may hold spaces and parentheses: fields follow the last ")"
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _tree(pid: int) -> list[int]:
    children = _children()
    tree, todo = [], [pid]
    while todo:
        parent = todo.pop()
        tree.append(parent)
        todo.extend(children.get(parent, []))
    return tree


def _memory_kib(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in KiB, from /proc/<pid>/smaps_rollup; 0 if it has gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    pss = re.search(r"^Pss:\s+(\d+) kB", text, re.MULTILINE)
    rss = re.search(r"^Rss:\s+(\d+) kB", text, re.MULTILINE)
    return (int(pss.group(1)) if pss else 0), (int(rss.group(1)) if rss else 0)


class TreeMemory(threading.Thread):
    """Samples the summed PSS and RSS of a process and all its descendants.

    PSS (proportional set size) shares each page among the processes that map it, so the
    sum over concurrently running jobs (and forked workers sharing pages) is their real
    footprint; the RSS sum counts shared pages once per process (an upper bound).
    """

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_pss_kib = self.peak_rss_kib = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            pss = rss = 0
            for pid in _tree(self.pid):
                p, r = _memory_kib(pid)
                pss, rss = pss + p, rss + r
            self.peak_pss_kib = max(self.peak_pss_kib, pss)
            self.peak_rss_kib = max(self.peak_rss_kib, rss)
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


_JOB_START = re.compile(r"^(local)?rule \w+:")
_JOB_END = re.compile(r"^Finished jobid")


def run_measured(cmd: list[str], cwd: Path, env: dict | None = None, log: Path | None = None):
    """Run ``cmd`` (a Snakemake command) to completion; wall seconds and memory of its tree.

    Returns a dict: ``wall_s``; ``jobs_span_s``, from the first job Snakemake starts to the
    last it finishes (its output read as it comes, so Snakemake's own start-up is left
    out) and ``first_job_s``, when the first job started; ``tree_peak_pss_mib`` and ``tree_peak_rss_mib`` (sampled sums over the process
    tree, every 0.2 s); ``largest_process_rss_mib`` (GNU time's maximum resident set size:
    the largest single process of the tree, not a sum), when /usr/bin/time exists.
    Raises CalledProcessError with the output's tail on failure.
    """
    time_file = None
    if TIME:
        time_file = Path(cwd) / f".time-{os.getpid()}-{time.monotonic_ns()}.txt"
        cmd = [TIME, "-v", "-o", str(time_file), *cmd]
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    sampler = TreeMemory(proc.pid)
    sampler.start()
    first_job = last_end = None
    lines = []
    for line in proc.stdout:
        now = time.perf_counter() - start
        lines.append(line)
        if first_job is None and _JOB_START.match(line):
            first_job = now
        if _JOB_END.match(line):
            last_end = now
    returncode = proc.wait()
    wall = time.perf_counter() - start
    sampler.stop()
    if log:
        log.write_text("".join(lines))
    if returncode:
        tail = "".join(lines)[-3000:]
        print(f"{cmd} failed; log {log}:\n{tail}", file=sys.stderr)
        raise subprocess.CalledProcessError(returncode, cmd, output=tail)
    span = last_end - first_job if first_job is not None and last_end is not None else math.nan
    measured = {
        "wall_s": wall,
        "jobs_span_s": span,
        "first_job_s": first_job if first_job is not None else math.nan,
        "tree_peak_pss_mib": sampler.peak_pss_kib / 1024,
        "tree_peak_rss_mib": sampler.peak_rss_kib / 1024,
        "largest_process_rss_mib": float("nan"),
    }
    if time_file and time_file.exists():
        text = time_file.read_text()
        found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
        if found:
            measured["largest_process_rss_mib"] = int(found.group(1)) / 1024
        time_file.unlink()
    return measured


def without_slurm_client(env: dict, stub_dir: Path) -> dict:
    """``env`` with an ``scontrol`` that fails at once first on the PATH.

    The Slurm executor plugin (in the environment since the Slurm profile) runs ``scontrol
    show config`` whenever Snakemake starts; where Slurm's client is installed but no
    controller answers (this machine, after the Slurm end-to-end test) that waits out a
    timeout of about 9 s. With the stub Snakemake starts as on a machine without Slurm or
    with a controller that answers.
    """
    scontrol = Path(stub_dir) / "scontrol"
    scontrol.write_text("#!/bin/sh\nexit 1\n")
    scontrol.chmod(0o755)
    return {**env, "PATH": f"{stub_dir}{os.pathsep}{env.get('PATH', os.defpath)}"}


def read_benchmarks(logs: Path) -> list[dict]:
    """Every ``logs/<study>/<rule>.benchmark.tsv`` (the last line of each): rule, study,
    wall s, CPU s, max RSS and PSS MiB."""
    rows = []
    for path in sorted(logs.glob("*/*.benchmark.tsv")):
        with path.open() as f:
            record = list(csv.DictReader(f, delimiter="\t"))[-1]

        def number(key, record=record):
            value = record.get(key, "NA")
            return float(value) if value not in ("", "NA", "-") else float("nan")

        rows.append(
            {
                "rule": path.name.removesuffix(".benchmark.tsv"),
                "study": path.parent.name,
                "wall_s": number("s"),
                "cpu_s": number("cpu_time"),
                "max_rss_mib": number("max_rss"),
                "max_pss_mib": number("max_pss"),
            }
        )
    return rows
