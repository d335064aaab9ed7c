rule figures:
    input:
        analysis="data/processed/{study}/analysis.parquet",
        outcomes="data/processed/{study}/outcomes.parquet",
        validated="data/processed/{study}/validated",
        results="results/{study}/tables/results.csv",
    output:
        consort=report(
            "results/{study}/figures/consort.png",
            caption="../report/consort.rst",
            category="{study}",
            subcategory="Participant flow",
        ),
        consort_svg="results/{study}/figures/consort.svg",
        forest=report(
            "results/{study}/figures/forest.png",
            caption="../report/forest.rst",
            category="{study}",
            subcategory="Standardised effects",
        ),
        forest_svg="results/{study}/figures/forest.svg",
        trajectory=report(
            directory("results/{study}/figures/trajectory"),
            patterns=["{name}.png"],
            caption="../report/trajectory.rst",
            category="{study}",
            subcategory="Trajectories",
        ),
        change=report(
            directory("results/{study}/figures/change"),
            patterns=["{name}.png"],
            caption="../report/change.rst",
            category="{study}",
            subcategory="Change from baseline",
        ),
        qq=report(
            directory("results/{study}/figures/qq"),
            patterns=["{name}.png"],
            caption="../report/qq.rst",
            category="{study}",
            subcategory="Normality diagnostics",
        ),
        manifest="results/{study}/figures/figures.csv",
    log:
        "logs/{study}/figures.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("figures"),
        runtime=runtime_min("figures"),
    script:
        "../../scripts/draw_figures.py"


rule tables:
    input:
        analysis="data/processed/{study}/analysis.parquet",
        outcomes="data/processed/{study}/outcomes.parquet",
        validated="data/processed/{study}/validated",
        results="results/{study}/tables/results.csv",
        descriptives="results/{study}/tables/descriptives.csv",
    output:
        table1=report(
            "results/{study}/tables/table1_baseline.html",
            caption="../report/table1.rst",
            category="{study}",
            subcategory="Tables",
        ),
        table2=report(
            "results/{study}/tables/table2_outcomes_by_visit.html",
            caption="../report/table2.rst",
            category="{study}",
            subcategory="Tables",
        ),
        table3=report(
            "results/{study}/tables/table3_tests.html",
            caption="../report/table3.rst",
            category="{study}",
            subcategory="Tables",
        ),
        other_formats=expand(
            "results/{{study}}/tables/{table}.{ext}",
            table=["table1_baseline", "table2_outcomes_by_visit", "table3_tests"],
            ext=["csv", "md", "docx"],
        ),
    log:
        "logs/{study}/tables.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("tables"),
        runtime=runtime_min("tables"),
    script:
        "../../scripts/write_tables.py"


rule report:
    input:
        analysis="data/processed/{study}/analysis.parquet",
        outcomes="data/processed/{study}/outcomes.parquet",
        validated="data/processed/{study}/validated",
        results="results/{study}/tables/results.csv",
        descriptives="results/{study}/tables/descriptives.csv",
        data_quality="results/{study}/tables/data_quality.csv",
        scoring_summary="results/{study}/tables/scoring_summary.csv",
        figures="results/{study}/figures/figures.csv",
    output:
        report=report(
            "results/{study}/report.html",
            caption="../report/report.rst",
            category="{study}",
            subcategory="Report",
        ),
    log:
        "logs/{study}/report.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("report"),
        runtime=runtime_min("report"),
    script:
        "../../scripts/write_report.py"
