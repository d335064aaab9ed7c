rule descriptives:
    input:
        analysis="data/processed/{study}/analysis.parquet",
        validated="data/processed/{study}/validated",
    output:
        descriptives="results/{study}/tables/descriptives.csv",
    log:
        "logs/{study}/descriptives.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("descriptives"),
        runtime=runtime_min("descriptives"),
    script:
        "../../scripts/describe.py"


rule analyse:
    input:
        analysis="data/processed/{study}/analysis.parquet",
        outcomes="data/processed/{study}/outcomes.parquet",
        validated="data/processed/{study}/validated",
    output:
        results="results/{study}/tables/results.csv",
    log:
        "logs/{study}/analyse.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("analyse"),
        runtime=runtime_min("analyse"),
    script:
        "../../scripts/analyse.py"
