"""The ``trialflow`` command line: ``trialflow verify results/<study>/provenance.json``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trialflow", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser(
        "verify",
        help="rerun a study from its provenance.json and compare every output",
        description=(
            "Rerun a study from the config and inputs recorded in its provenance.json, in a "
            "fresh temporary directory, and print one line per package, input and output "
            "(identical, different, missing, extra). Exit 0 only when every output is "
            "identical."
        ),
    )
    verify.add_argument("manifest", help="results/<study>/provenance.json")
    verify.add_argument("--jobs", "-j", type=int, default=1, help="cores for the rerun")
    verify.add_argument("--snakefile", help="default: the Snakefile of this checkout")
    verify.add_argument(
        "--data-root",
        help="directory the recorded input paths are relative to "
        "(default: the run's working directory, two levels above results/<study>/)",
    )
    verify.add_argument("--keep", metavar="DIR", help="rerun in DIR and keep it")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "verify":
        from trialflow.verify import verify

        def echo(line: str) -> None:
            print(line, flush=True)

        return verify(
            args.manifest,
            jobs=args.jobs,
            snakefile=args.snakefile,
            data_root=args.data_root,
            keep=args.keep,
            echo=echo,
        )
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
