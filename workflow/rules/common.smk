import math
import os

from snakemake.utils import validate

from trialflow.config import config_problems, studies_from_config

validate(config, schema="../schemas/config.schema.yaml")
_problems = config_problems(config)
if _problems:
    raise ValueError("Invalid config:\n  " + "\n  ".join(_problems))

STUDIES = studies_from_config(config)
ENV = "../envs/trialflow.yaml"


wildcard_constraints:
    study="|".join(STUDIES),


def raw_inputs(wildcards):
    """The roster and every instrument file (or directory) of one study."""
    study = STUDIES[wildcards.study]
    files = {"participants": f"{study.data_dir}/participants.csv"}
    for spec in study.instruments:
        files[spec.id] = str(spec.path(study.data_dir))
    return files


def study_outputs(study_id):
    """Every final file of one study (the rest are their inputs)."""
    return [
        f"results/{study_id}/report.html",
        f"results/{study_id}/tables/table1_baseline.html",
    ]


def all_outputs():
    return [path for study_id in STUDIES for path in study_outputs(study_id)]


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
