# trialflow: raw per-participant CSVs -> validated items -> scores -> tidy analysis data
# -> statistics -> tables, figures and report, for every study in config.yaml.
from pathlib import Path

from snakemake.utils import min_version

from trialflow.config_load import exit_on_config_problems

min_version("9.0")

# Every config problem at once (YAML syntax with file and line, keys given twice, schema,
# cross-field rules), each as key path and sentence, before Snakemake reads config.yaml
# for itself; exits 1 with only that message.
# The files checked are the ones the run reads: the --configfile(s), else config.yaml (which
# the directive below reads only when no config was given on the command line).
exit_on_config_problems(
    config,
    Path(workflow.current_basedir) / "workflow" / "schemas" / "config.schema.yaml",
    workflow.overwrite_configfiles or ([] if config else ["config.yaml"]),
)


# Numeric libraries (BLAS, OpenMP, numexpr) run on one thread inside every job, whatever the
# job's `threads`, so that parallelism never changes a floating-point result. Snakemake itself
# exports OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS, ... = the job's threads to
# each job's command; this prefix runs after that, in the job's own shell, so it holds for
# local jobs and for Slurm jobs alike (the job step reads this Snakefile again).
SINGLE_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "GOTO_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
shell.prefix(
    "set -euo pipefail; "
    + " ".join(f"export {name}=1;" for name in SINGLE_THREAD_VARIABLES)
    + " "
)


# The default config, unless one was given with --configfile (which would otherwise merge).
if not config:

    configfile: "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/analyse.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        all_outputs(),
