rule descriptives:
    input:
        analysis=rules.assemble.output.analysis,
        validated=rules.validate.output.validated,
    output:
        descriptives="results/{study}/tables/descriptives.csv",
    params:
        study=study_config("describe"),
    log:
        "logs/{study}/descriptives.log",
    conda:
        ENV
    script:
        "../../scripts/describe.py"


rule analyse:
    input:
        analysis=rules.assemble.output.analysis,
        outcomes=rules.score.output.outcomes,
        validated=rules.validate.output.validated,
    output:
        results="results/{study}/tables/results.csv",
    params:
        study=study_config("analyse"),
    log:
        "logs/{study}/analyse.log",
    conda:
        ENV
    script:
        "../../scripts/analyse.py"
