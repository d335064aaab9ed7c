# trialflow: raw per-participant CSVs -> validated items -> scores -> tidy analysis data
# -> statistics -> tables, figures and report, for every study in config.yaml.
from snakemake.utils import min_version

min_version("9.0")


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
