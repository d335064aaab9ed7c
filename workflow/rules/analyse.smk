rule descriptives:
    input:
        analysis="data/processed/{study}/analysis.parquet",
    output:
        descriptives="results/{study}/tables/descriptives.csv",
    log:
        "logs/{study}/descriptives.log",
    conda:
        ENV
    script:
        "../../scripts/describe.py"
