import functools
import math
import os
import shlex
import sys

from snakemake.utils import validate

from trialflow.config import studies_from_config
from trialflow.input_gate import exit_on_input_problems
from trialflow.provenance import COMMAND_VARIABLE, input_records
from trialflow.stage_config import canonical_json, stage_params

# The Snakefile has reported every config problem already; this fills the schema's defaults.
validate(config, schema="../schemas/config.schema.yaml")

STUDIES = studies_from_config(config)
ENV = "../envs/trialflow.yaml"

# The outermost Snakemake process records its command line for provenance.json; jobs (and
# cluster jobs, which parse this file again) inherit it instead of overwriting it.
os.environ.setdefault(COMMAND_VARIABLE, shlex.join(["snakemake", *sys.argv[1:]]))


wildcard_constraints:
    study="|".join(STUDIES),


def study_config(stage):
    """A ``params:`` function: the slice of the job's study config that ``stage`` reads,
    as canonical JSON (see trialflow.stage_config), so an edit reruns what depends on it.
    """

    def params(wildcards):
        return stage_params(STUDIES[wildcards.study], stage)

    return params


@functools.cache
def _input_hashes(study_id):
    return canonical_json(input_records(STUDIES[study_id]))


# Bad inputs stop the run here, before any job starts: Snakemake removes a job's outputs
# before running it, so a failing validate job would lose the earlier results.
exit_on_input_problems(STUDIES, _input_hashes)


def raw_input_hashes(wildcards):
    """A ``params:`` function: SHA-256 and size of every raw input file of the job's study.

    Snakemake's own rerun triggers compare modification times and paths; this param makes a
    changed file content rerun ``validate`` even when its modification time is older."""
    return _input_hashes(wildcards.study)


def raw_inputs(wildcards):
    """The roster and every instrument file (or directory) of one study."""
    from trialflow.io import raw_input_paths

    return {
        name: str(path)
        for name, path in raw_input_paths(STUDIES[wildcards.study]).items()
    }


def all_outputs():
    return expand(rules.provenance.output.manifest, study=list(STUDIES))


def within_arm_table_files(wildcards):
    """Table 4's files when the study writes it (parallel design, tables.within_arm)."""
    study = STUDIES[wildcards.study]
    if study.single_arm or not study.tables.within_arm:
        return []
    return expand(
        "results/{study}/tables/table4_within_arm.{ext}",
        study=wildcards.study,
        ext=["html", "csv", "md", "docx"],
    )


def tipping_point_files(wildcards):
    """The tipping-point figure when the study declares analysis.tipping_point."""
    study = STUDIES[wildcards.study]
    if study.analysis.tipping_point is None:
        return []
    return expand(
        "results/{study}/figures/tipping_point.{ext}",
        study=wildcards.study,
        ext=["png"],
    )


# --- Job resources: threads, memory and run time for a cluster scheduler -----------------
# Every script runs single-threaded (numeric libraries are pinned to one thread in the
# Snakefile), so each rule asks for one thread. Memory and run time grow with the size of
# the job's inputs: a fixed part (Python, pandas and the rule's imports) plus a part per MiB
# of input. The constants are fitted by benchmarks/rule_resources.py to the peak RSS and CPU
# time of every rule on the default studies and on simulated ones of 1,000 and 4,000
# participants (benchmarks/results/rule_resources.md): memory 1.5x the measured peak, run
# time 3x the CPU time and at least 10 minutes. A retried job (--retries) asks for that many
# times more on each attempt.
JOB_COSTS = {
    # rule: (MiB fixed, MiB per input MiB, minutes fixed, minutes per input MiB)
    "validate": (250, 42, 10, 0.2),
    "score": (300, 143, 10, 0.1),
    "assemble": (250, 71, 10, 0.1),
    "descriptives": (400, 51, 10, 0.1),
    "analyse": (650, 122, 10, 0.4),
    "figures": (550, 70, 10, 13.1),
    "tables": (400, 40, 10, 0.1),
    "report": (550, 161, 10, 0.1),
    # Table 4 alone: as the tables rule
    "within_arm_table": (400, 40, 10, 0.1),
    # not fitted: reads and writes the analysis dataset, as assemble does
    "export": (250, 71, 10, 0.1),
    # refits the planned MMRMs: as analyse (not yet measured by benchmarks/rule_resources.py)
    "supplementary_tables": (650, 122, 10, 0.4),
    # one figure from results.csv: as the tables rule (not fitted)
    "tipping_point_figure": (400, 40, 10, 0.1),
    # hashing every input and output file: not fitted, a generous fixed request
    "provenance": (300, 2, 10, 0.05),
}


def input_mb(input):
    """Total size in MiB of a job's input files and of the files inside its input directories.

    ``os.stat`` raises FileNotFoundError for an input not made yet, which tells Snakemake to
    evaluate the resource again once it exists.
    """
    total = 0
    for path in input:
        if os.path.isdir(path):
            for root, _dirs, files in os.walk(path):
                total += sum(
                    os.path.getsize(os.path.join(root, name)) for name in files
                )
        else:
            total += os.stat(path).st_size
    return total / 2**20


def mem_mb(rule):
    """Memory for a job of ``rule``: its fixed part plus a part per MiB of input.

    In MiB, as Slurm reads the plugin's ``--mem`` (Snakemake's mem_mb).
    """
    fixed, per_mib = JOB_COSTS[rule][:2]

    def request(wildcards, input, attempt):
        return math.ceil(fixed + per_mib * input_mb(input)) * attempt

    return request


def runtime_min(rule):
    """Wall time (minutes) for a job of ``rule``: its fixed part plus a part per MiB of input."""
    fixed, per_mib = JOB_COSTS[rule][2:]

    def request(wildcards, input, attempt):
        return math.ceil(fixed + per_mib * input_mb(input)) * attempt

    return request
