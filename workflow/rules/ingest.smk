rule validate:
    input:
        unpack(raw_inputs),
    output:
        validated=directory("data/processed/{study}/validated"),
        quality="results/{study}/tables/data_quality.csv",
    log:
        "logs/{study}/validate.log",
    benchmark:
        "logs/{study}/validate.benchmark.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("validate"),
        runtime=runtime_min("validate"),
    params:
        study=study_config("validate"),
        input_hashes=raw_input_hashes,
    script:
        "../../scripts/validate_inputs.py"


rule score:
    input:
        validated=rules.validate.output.validated,
    output:
        scores="data/processed/{study}/scores.parquet",
        outcomes="data/processed/{study}/outcomes.parquet",
        summary="results/{study}/tables/scoring_summary.csv",
    log:
        "logs/{study}/score.log",
    benchmark:
        "logs/{study}/score.benchmark.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("score"),
        runtime=runtime_min("score"),
    params:
        study=study_config("score"),
    script:
        "../../scripts/score_instruments.py"


rule assemble:
    input:
        scores=rules.score.output.scores,
        outcomes=rules.score.output.outcomes,
        validated=rules.validate.output.validated,
    output:
        analysis="data/processed/{study}/analysis.parquet",
    log:
        "logs/{study}/assemble.log",
    benchmark:
        "logs/{study}/assemble.benchmark.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("assemble"),
        runtime=runtime_min("assemble"),
    params:
        study=study_config("assemble"),
    script:
        "../../scripts/assemble_analysis.py"


rule export:
    input:
        analysis=rules.assemble.output.analysis,
        outcomes=rules.score.output.outcomes,
    output:
        analysis="results/{study}/data/analysis.csv",
        bds="results/{study}/data/adam_bds.csv",
    log:
        "logs/{study}/export.log",
    benchmark:
        "logs/{study}/export.benchmark.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("export"),
        runtime=runtime_min("export"),
    params:
        study=study_config("export"),
    script:
        "../../scripts/export_data.py"
