# trialflow: raw per-participant CSVs -> validated items -> scores -> tidy analysis data
# -> statistics -> tables, figures and report, for every study in config.yaml.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/analyse.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        all_outputs(),
    default_target: True
