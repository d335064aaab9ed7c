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
