"""The ``trialflow`` command line: ``trialflow verify results/<study>/provenance.json``,
``trialflow check-config [config.yaml ...]`` and ``trialflow init DATA_DIR --study ID``."""

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
    check = commands.add_parser(
        "check-config",
        help="report every problem of config files, as the workflow does before it runs",
        description=(
            "Check config files as the workflow does before it runs (strict YAML, schema, "
            "cross-field rules; paths relative to the current directory) and print every "
            "problem. Exit 0 when there is none. Snakemake parses a --configfile before "
            "trialflow sees it; this names the file, line and column of a YAML syntax error."
        ),
    )
    check.add_argument("configs", nargs="*", default=["config.yaml"], help="default: config.yaml")
    check.add_argument("--schema", help="default: the schema of this checkout")
    init = commands.add_parser(
        "init",
        help="scaffold a commented study config from the files of a data folder",
        description=(
            "Read the files of DATA_DIR, recognise the roster and the instruments trialflow "
            "knows by their columns (other numeric columns become measures), guess visits and "
            "arms from the values, and write a commented, schema-valid study config with TODO "
            "markers where it guessed. Prints the config unless --out is given; never "
            "overwrites an existing file."
        ),
    )
    init.add_argument("data_dir", metavar="DATA_DIR", help="the folder of the study's files")
    init.add_argument("--study", required=True, help="the study id (letters, digits, _)")
    init.add_argument("--out", metavar="FILE", help="write the config here (must not exist)")
    return parser


def _init(data_dir: str, study: str, out: str | None) -> int:
    import re
    from pathlib import Path

    from trialflow.scaffold import scaffold_config

    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", study):
        print(
            f"trialflow init: --study '{study}' must start with a letter and hold only "
            "letters, digits and _",
            file=sys.stderr,
        )
        return 2
    if out is not None and Path(out).exists():
        print(
            f"trialflow init: {out} exists; init never overwrites a config (choose another "
            "--out, or remove the file)",
            file=sys.stderr,
        )
        return 1
    if not Path(data_dir).is_dir():
        print(f"trialflow init: {data_dir} is not a folder", file=sys.stderr)
        return 1
    try:
        text = scaffold_config(data_dir, study)
    except ValueError as error:
        print(f"trialflow init: {error}", file=sys.stderr)
        return 1
    if out is None:
        sys.stdout.write(text)
        return 0
    with open(out, "x", encoding="utf-8") as handle:  # "x": never overwrite, even in a race
        handle.write(text)
    print(f"wrote {out}: review every TODO, then run trialflow check-config {out}")
    return 0


def _check_config(configs: Sequence[str], schema: str | None) -> int:
    from pathlib import Path

    from trialflow.config_load import check_config, load_schema

    root = Path(__file__).resolve().parents[2]
    path = Path(schema) if schema else root / "workflow" / "schemas" / "config.schema.yaml"
    problems = check_config(None, load_schema(path), list(configs))
    for problem in problems:
        print(f"- {problem}")
    print(f"{len(problems)} config problem(s) in {', '.join(configs)}")
    return 1 if problems else 0


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
    if args.command == "check-config":
        return _check_config(args.configs, args.schema)
    if args.command == "init":
        return _init(args.data_dir, args.study, args.out)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
