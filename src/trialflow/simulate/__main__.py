"""Command line: ``python -m trialflow.simulate --study NAME --out DIR`` or ``--all``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trialflow.simulate import STUDIES, simulate_study, write_study


def main(argv: list[str] | None = None) -> int:
    """Run the simulator CLI.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    parser = argparse.ArgumentParser(
        prog="python -m trialflow.simulate",
        description="Write the SIMULATED default cohorts as raw CSV files.",
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--study", choices=sorted(STUDIES), help="one study")
    which.add_argument("--all", action="store_true", help="every study, into OUT/<study>/")
    parser.add_argument(
        "--seed", type=int, help="random seed (default: each study's committed seed)"
    )
    parser.add_argument("--n", type=int, help="number of participants (default: the study's)")
    parser.add_argument(
        "--out",
        type=Path,
        help="output directory (default: data/raw/<study> with --study, data/raw with --all)",
    )
    args = parser.parse_args(argv)
    if args.n is not None and args.n < 2:
        parser.error("--n must be at least 2")
    if args.all:
        root = args.out or Path("data/raw")
        targets = [(name, root / name) for name in STUDIES]
    else:
        targets = [(args.study, args.out or Path("data/raw") / args.study)]
    for name, folder in targets:
        seed = STUDIES[name].default_seed if args.seed is None else args.seed
        frames = simulate_study(name, seed=seed, n=args.n)
        written = write_study(name, frames, folder)
        people = len(frames["participants"])
        print(f"{name}: seed {seed}, {people} participants, {len(written)} files in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
