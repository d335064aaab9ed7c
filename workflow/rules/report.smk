rule figures:
    input:
        analysis="data/processed/{study}/analysis.parquet",
        outcomes="data/processed/{study}/outcomes.parquet",
    output:
        figures=directory("results/{study}/figures"),
    log:
        "logs/{study}/figures.log",
    conda:
        ENV
    script:
        "../../scripts/draw_figures.py"
