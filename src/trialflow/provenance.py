"""What produced a study's results: config, input and output hashes, code and environment.

``results/<study>/provenance.json`` is written last by the workflow. It holds the fully
resolved study config and its SHA-256, the SHA-256 and size of every raw input file, the
SHA-256 of every output file, trialflow's version and git commit, the Python version, every
installed distribution, the platform and the Snakemake command line. Paths are relative to
the working directory (absolute only for data outside it). It holds no wall-clock time, and
it is the only output allowed to differ between two runs of the same inputs and config.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shlex
import stat
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from trialflow.config import Study
from trialflow.io import raw_input_files
from trialflow.stage_config import canonical_json, config_sha256, resolved_study

#: the manifest's own format; bump when its keys change meaning
FORMAT_VERSION = 1
MANIFEST_NAME = "provenance.json"
#: set by the Snakefile of the first (outermost) Snakemake process, inherited by its jobs
COMMAND_VARIABLE = "TRIALFLOW_SNAKEMAKE_COMMAND"
# The report's Provenance section (commit, environment digest) may differ between two runs of
# the same inputs and config; it sits between these markers and no other output may differ.
VOLATILE_START = b"<!-- trialflow:provenance:start -->"
VOLATILE_END = b"<!-- trialflow:provenance:end -->"


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    return _file_record(path)["sha256"]


def _file_record(path: str | Path) -> dict[str, Any]:
    # one open, fstat and unbuffered read per file: 100,000 small files in about a second
    with open(path, "rb", buffering=0) as handle:
        size = os.fstat(handle.fileno()).st_size
        digest = hashlib.file_digest(handle, "sha256")
    return {"sha256": digest.hexdigest(), "size": size}


def reproducible_bytes(data: bytes) -> bytes:
    """The bytes every rerun must reproduce: ``data`` without its volatile sections."""
    start = data.find(VOLATILE_START)
    end = data.find(VOLATILE_END, start + 1)
    if start < 0 or end < 0:
        return data
    return data[:start] + reproducible_bytes(data[end + len(VOLATILE_END) :])


def output_record(path: str | Path) -> dict[str, Any]:
    """Hash and size of an output file, and the hash of its :func:`reproducible_bytes`."""
    data = Path(path).read_bytes()
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "reproducible_sha256": hashlib.sha256(reproducible_bytes(data)).hexdigest(),
    }


def output_records(
    paths: Iterable[str | Path], root: str | Path | None = None
) -> dict[str, dict[str, Any]]:
    """:func:`output_record` for every file of ``paths`` (directories expanded)."""
    root = _resolved_root(root)
    return {_display_path(file, root): output_record(file) for file in _expanded(paths)}


def display_path(path: str | Path, root: str | Path | None = None) -> str:
    """``path`` relative to ``root`` (the working directory) when inside it, else absolute."""
    return _display_path(path, _resolved_root(root))


def _resolved_root(root: str | Path | None) -> str:
    return os.path.realpath(root if root is not None else os.getcwd())


def _display_path(path: str | Path, root: str) -> str:
    # string operations on a resolved root: pathlib per file cost 11 s for 100,000 files
    absolute = os.path.abspath(os.path.join(root, path))
    if absolute == root:
        return "."
    inside = root if root.endswith(os.sep) else root + os.sep
    if absolute.startswith(inside):
        return absolute[len(inside) :].replace(os.sep, "/")
    return Path(absolute).resolve().as_posix()


# Snakemake's marker inside a directory output: bookkeeping, not a result.
_BOOKKEEPING = {".snakemake_timestamp"}


def expand_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files of ``paths``, every file of a directory included, sorted and without repeats."""
    return [Path(file) for file in _expanded(paths)]


def _expanded(paths: Iterable[str | Path]) -> list[str]:
    """:func:`expand_files` as strings: one ``stat`` per path given, directories listed with
    ``scandir`` (100,000 raw files of a per-participant folder)."""
    files: set[str] = set()
    for path in paths:
        path = os.path.normpath(os.fspath(path))
        try:
            mode = os.stat(path).st_mode
        except OSError:
            continue
        if stat.S_ISDIR(mode):
            files.update(_files_under(path))
        elif stat.S_ISREG(mode):
            files.add(path)
    return sorted(files, key=lambda p: p.replace(os.sep, "/"))


def _files_under(folder: str) -> Iterator[str]:
    """Every file below ``folder`` (symbolic links to files included, linked folders not
    entered, as :meth:`pathlib.Path.rglob`), Snakemake's bookkeeping left out."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir():
                if not entry.is_symlink():
                    yield from _files_under(entry.path)
            elif entry.is_file() and entry.name not in _BOOKKEEPING:
                yield entry.path


def file_records(
    paths: Iterable[str | Path], root: str | Path | None = None
) -> dict[str, dict[str, Any]]:
    """``{path: {"sha256", "size"}}`` for every file of ``paths`` (directories expanded)."""
    root = _resolved_root(root)
    return {_display_path(file, root): _file_record(file) for file in _expanded(paths)}


def input_records(study: Study) -> dict[str, dict[str, Any]]:
    """Hash and size of every raw input file the study reads (every file of a directory
    instrument), keyed by path relative to the working directory; missing files are left
    out (validation reports them)."""
    return file_records(raw_input_files(study))


def distributions() -> list[str]:
    """Every installed distribution as ``name==version``, sorted as ``pip freeze`` lists them."""
    seen = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and name.lower() not in seen:
            seen[name.lower()] = f"{name}=={dist.version}"
    return [seen[key] for key in sorted(seen)]


def environment() -> dict[str, Any]:
    """Python version and implementation, platform, and every installed distribution."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "distributions": distributions(),
    }


def environment_digest(env: Mapping[str, Any]) -> str:
    """SHA-256 of the environment record: equal digests, equal software."""
    return hashlib.sha256(canonical_json(env).encode("utf-8")).hexdigest()


def code_state(package_dir: str | Path | None = None) -> dict[str, Any]:
    """trialflow's version and, when it runs from a git checkout, its commit and dirtiness."""
    package_dir = Path(package_dir or Path(__file__).parent)
    state: dict[str, Any] = {"version": metadata.version("trialflow"), "git": None}
    try:
        top = _git(package_dir, "rev-parse", "--show-toplevel")
        commit = _git(package_dir, "rev-parse", "HEAD")
        dirty = bool(_git(package_dir, "status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return state
    # only a checkout that holds this package describes its code (not a site-packages parent)
    if Path(top).resolve() in package_dir.resolve().parents:
        state["git"] = {"commit": commit, "dirty": dirty}
    return state


def _git(directory: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(directory), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return result.stdout.strip()


def command_line() -> str:
    """The Snakemake command line of the run (set by the Snakefile), else this process's."""
    return os.environ.get(COMMAND_VARIABLE) or shlex.join(sys.argv)


def build_provenance(
    study: Study,
    inputs: Mapping[str, Mapping[str, Any]],
    outputs: Mapping[str, Mapping[str, Any]],
    *,
    command: str | None = None,
    env: Mapping[str, Any] | None = None,
    code: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The provenance manifest of one study run (see the module docstring).

    Parameters
    ----------
    study : Study
    inputs, outputs : mapping
        From :func:`input_records` and :func:`file_records`.
    command, env, code : optional
        Default to :func:`command_line`, :func:`environment` and :func:`code_state`.
    """
    env = dict(env if env is not None else environment())
    return {
        "format_version": FORMAT_VERSION,
        "study": study.id,
        "config": {"studies": {study.id: resolved_study(study)}},
        "config_sha256": config_sha256(study),
        "inputs": dict(sorted(inputs.items())),
        "outputs": dict(sorted(outputs.items())),
        "trialflow": dict(code if code is not None else code_state()),
        "environment": env,
        "environment_sha256": environment_digest(env),
        "snakemake_command": command if command is not None else command_line(),
    }


def provenance_summary(study: Study, inputs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """What the report's Provenance section shows: hashes of config, inputs and environment,
    and the code version. Nothing here depends on the command line or the machine's clock."""
    env = environment()
    return {
        "config_sha256": config_sha256(study),
        "inputs": dict(sorted(inputs.items())),
        "trialflow": code_state(),
        "python": env["python"],
        "environment_sha256": environment_digest(env),
    }


def write_provenance(manifest: Mapping[str, Any], path: str | Path) -> Path:
    """Write the manifest as indented JSON with a final newline.

    Keys keep the order :func:`build_provenance` gives them (every part is built in a
    deterministic order): sorting them would lose the order of the config's instruments,
    which is the order of the outcomes in every table.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8", newline="\n")
    return path


def read_provenance(path: str | Path) -> dict[str, Any]:
    """Read a manifest written by :func:`write_provenance`."""
    manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{path}: provenance format {manifest.get('format_version')!r} is not "
            f"{FORMAT_VERSION}, the format this trialflow reads"
        )
    return manifest
