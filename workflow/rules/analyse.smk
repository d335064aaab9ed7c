rule descriptives:
    input:
        analysis=rules.assemble.output.analysis,
        validated=rules.validate.output.validated,
    output:
        descriptives="results/{study}/tables/descriptives.csv",
    log:
        "logs/{study}/descriptives.log",
    benchmark:
        "logs/{study}/descriptives.benchmark.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("descriptives"),
        runtime=runtime_min("descriptives"),
    params:
        study=study_config("describe"),
    script:
        "../../scripts/describe.py"


rule analyse:
    input:
        analysis=rules.assemble.output.analysis,
        outcomes=rules.score.output.outcomes,
        validated=rules.validate.output.validated,
    output:
        results="results/{study}/tables/results.csv",
        model_fits="results/{study}/tables/model_fits.csv",
        participant_flow="results/{study}/tables/participant_flow.csv",
    log:
        "logs/{study}/analyse.log",
    benchmark:
        "logs/{study}/analyse.benchmark.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("analyse"),
        runtime=runtime_min("analyse"),
    params:
        study=study_config("analyse"),
    script:
        "../../scripts/analyse.py"
