"""Every rule of the workflow declares what the developers' guide asks of it: a ``log:``
and a ``benchmark:`` file under ``logs/`` (never under ``results/``, never in provenance)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RULE_FILES = sorted((ROOT / "workflow" / "rules").glob("*.smk"))


def rule_blocks() -> dict[str, str]:
    """Rule name -> its text, from every rules file (``rule all`` makes no file)."""
    blocks = {}
    for path in RULE_FILES:
        text = path.read_text()
        starts = [m for m in re.finditer(r"^rule (\w+):$", text, re.M)]
        for i, match in enumerate(starts):
            end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
            blocks[match.group(1)] = text[match.start() : end]
    return blocks


BLOCKS = rule_blocks()


def test_the_rules_files_are_found():
    assert {"validate", "analyse", "figures", "report", "provenance"} <= set(BLOCKS)


@pytest.mark.parametrize("rule", sorted(BLOCKS))
def test_rule_has_a_log_and_a_benchmark_under_logs(rule):
    block = BLOCKS[rule]
    log = re.search(r"^    log:\n        \"([^\"]+)\"", block, re.M)
    benchmark = re.search(r"^    benchmark:\n        \"([^\"]+)\"", block, re.M)
    assert log and log.group(1).startswith("logs/"), rule
    assert benchmark, f"rule {rule} has no benchmark:"
    assert benchmark.group(1) == f"logs/{{study}}/{rule}.benchmark.tsv"
