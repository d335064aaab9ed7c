"""What ``trialflow verify`` costs against a clean run of the same study.

``verify`` reruns one study from its provenance manifest in a temporary directory and hashes
every output (:mod:`trialflow.verify`). Its cost is compared here with what a reviewer would
otherwise do: a clean run of that study alone. In one temporary working copy of the default
data (``data/raw`` and ``config.yaml``), for each ``--repeat``, alternating so that a change in
the machine's load hits both alike:

1. a clean run: ``snakemake --cores N results/<study>/provenance.json`` after deleting
   ``results/``, ``data/processed/`` and ``.snakemake/`` (wall time of the process);
2. ``trialflow verify results/<study>/provenance.json --jobs N`` on that run's manifest
   (wall time of the process, which must exit 0: every output identical).

Run from the repository root (never from the test suite; a few minutes)::

    .venv/bin/python benchmarks/verify_cost.py --study spine_rct --repeat 2

Writes ``benchmarks/results/verify_cost.csv`` and ``benchmarks/results/verify_cost.md``.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BIN = Path(sys.executable).parent


def _timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    run = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    return seconds


def _clean_run(work: Path, study: str, cores: int) -> float:
    for name in ("results", "data/processed", ".snakemake", "logs"):
        shutil.rmtree(work / name, ignore_errors=True)
    command = [str(BIN / "snakemake"), "-s", str(ROOT / "Snakefile"), "--cores", str(cores)]
    return _timed([*command, f"results/{study}/provenance.json"], work)


def _verify(work: Path, study: str, cores: int) -> float:
    manifest = f"results/{study}/provenance.json"
    return _timed([str(BIN / "trialflow"), "verify", manifest, "--jobs", str(cores)], work)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="spine_rct")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="trialflow-verify-cost-") as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "data" / "raw", work / "data" / "raw")
        shutil.copy2(ROOT / "config.yaml", work / "config.yaml")
        for repeat in range(1, args.repeat + 1):
            clean = _clean_run(work, args.study, args.cores)
            verify = _verify(work, args.study, args.cores)
            load = Path("/proc/loadavg").read_text().split()[0]
            rows.append(
                {
                    "study": args.study,
                    "repeat": repeat,
                    "cores": args.cores,
                    "clean_run_s": round(clean, 1),
                    "verify_s": round(verify, 1),
                    "ratio": round(verify / clean, 3),
                    "load_1min": load,
                }
            )
            print(rows[-1], flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / "verify_cost.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    median = statistics.median(r["ratio"] for r in rows)
    lines = [
        "# trialflow verify against a clean run",
        "",
        f"Study `{args.study}`, `--cores {args.cores}`, {len(rows)} alternating repeats "
        "(`benchmarks/verify_cost.py`). `verify` reruns the study from its manifest in a "
        "temporary directory and hashes every output.",
        "",
        "| repeat | clean run (s) | verify (s) | verify / clean | load (1 min) |",
        "|---:|---:|---:|---:|---:|",
        *(
            f"| {r['repeat']} | {r['clean_run_s']} | {r['verify_s']} | {r['ratio']} "
            f"| {r['load_1min']} |"
            for r in rows
        ),
        "",
        f"Median verify / clean run: **{median:.2f}**.",
        "",
    ]
    (RESULTS / "verify_cost.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
