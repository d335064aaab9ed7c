import functools
import os
import shlex
import sys

from snakemake.utils import validate

from trialflow.config import config_problems, studies_from_config
from trialflow.provenance import COMMAND_VARIABLE, input_records
from trialflow.stage_config import canonical_json, stage_params

validate(config, schema="../schemas/config.schema.yaml")
_problems = config_problems(config)
if _problems:
    raise ValueError("Invalid config:\n  " + "\n  ".join(_problems))

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
