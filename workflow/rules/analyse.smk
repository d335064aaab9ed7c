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
    script:
        "../../scripts/describe.py"


rule analyse:
    input:
        analysis="data/processed/{study}/analysis.parquet",
        outcomes="data/processed/{study}/outcomes.parquet",
        validated="data/processed/{study}/validated",
    output:
        results="results/{study}/tables/results.csv",
        model_fits="results/{study}/tables/model_fits.csv",
    log:
        "logs/{study}/analyse.log",
    conda:
        ENV
    script:
        "../../scripts/analyse.py"
