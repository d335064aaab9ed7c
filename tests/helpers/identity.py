"""Byte identity between two runs, as the provenance contract defines it: every output file
is compared whole, except ``provenance.json`` (it names the command line, commit and machine)
and the report's Provenance section."""

from pathlib import Path

from trialflow.provenance import MANIFEST_NAME, reproducible_bytes


def output_files(root: Path, under: str = "results") -> list[Path]:
    """Every output file under ``root/under``, relative to ``root``, sorted."""
    return sorted(p.relative_to(root) for p in (root / under).rglob("*") if p.is_file())


def differing_files(first: Path, second: Path, under: str = "results") -> list[Path]:
    """Files whose reproducible bytes differ between two run directories (or exist in one
    only); ``provenance.json`` is left out."""
    a, b = output_files(first, under), output_files(second, under)
    different = sorted(set(a) ^ set(b))
    for path in sorted(set(a) & set(b)):
        if path.name == MANIFEST_NAME:
            continue
        if reproducible_bytes((first / path).read_bytes()) != reproducible_bytes(
            (second / path).read_bytes()
        ):
            different.append(path)
    return different
