rule figures:
    input:
        analysis=rules.assemble.output.analysis,
        outcomes=rules.score.output.outcomes,
        validated=rules.validate.output.validated,
        results=rules.analyse.output.results,
        participant_flow=rules.analyse.output.participant_flow,
    output:
        # one directory per kind of figure, each with its report caption; every figure is
        # <name>.png, and <name>.svg too when figures.formats asks for it
        consort=report(
            directory("results/{study}/figures/consort"),
            patterns=["{name}.png"],
            caption="../report/consort.rst",
            category="{study}",
            subcategory="Participant flow",
        ),
        forest=report(
            directory("results/{study}/figures/forest"),
            patterns=["{name}.png"],
            caption="../report/forest.rst",
            category="{study}",
            subcategory="Standardised effects",
        ),
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
    benchmark:
        "logs/{study}/figures.benchmark.tsv"
    conda:
        ENV
    # worker processes drawing outcomes side by side; locally Snakemake lowers it to
    # --cores, on a cluster it is the CPUs the job asks for (2 fit the smallest node we test)
    threads: 2
    resources:
        mem_mb=mem_mb("figures"),
        runtime=runtime_min("figures"),
    params:
        study=study_config("report"),
    script:
        "../../scripts/draw_figures.py"


# The tipping-point figure (analysis.tipping_point), drawn from the results rows: a rule of
# its own, asked for by the report and provenance only when the study declares it.
rule tipping_point_figure:
    input:
        outcomes=rules.score.output.outcomes,
        results=rules.analyse.output.results,
    output:
        png=report(
            "results/{study}/figures/tipping_point.png",
            caption="../report/tipping_point.rst",
            category="{study}",
            subcategory="Sensitivity analyses",
        ),
    log:
        "logs/{study}/tipping_point_figure.log",
    benchmark:
        "logs/{study}/tipping_point_figure.benchmark.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("tipping_point_figure"),
        runtime=runtime_min("tipping_point_figure"),
    params:
        study=study_config("report"),
    script:
        "../../scripts/draw_tipping_point.py"


rule tables:
    input:
        analysis=rules.assemble.output.analysis,
        outcomes=rules.score.output.outcomes,
        validated=rules.validate.output.validated,
        results=rules.analyse.output.results,
        descriptives=rules.descriptives.output.descriptives,
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
    benchmark:
        "logs/{study}/tables.benchmark.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("tables"),
        runtime=runtime_min("tables"),
    params:
        study=study_config("report"),
        tables=["table1_baseline", "table2_outcomes_by_visit", "table3_tests"],
    script:
        "../../scripts/write_tables.py"


# Table 4 (within-arm and baseline tests, the source papers' layout): parallel studies with
# tables.within_arm only, so a rule of its own that provenance asks for when it applies.
rule within_arm_table:
    input:
        analysis=rules.assemble.output.analysis,
        outcomes=rules.score.output.outcomes,
        validated=rules.validate.output.validated,
        results=rules.analyse.output.results,
        descriptives=rules.descriptives.output.descriptives,
    output:
        table4=report(
            "results/{study}/tables/table4_within_arm.html",
            caption="../report/table4.rst",
            category="{study}",
            subcategory="Tables",
        ),
        other_formats=expand(
            "results/{{study}}/tables/table4_within_arm.{ext}",
            ext=["csv", "md", "docx"],
        ),
    log:
        "logs/{study}/within_arm_table.log",
    benchmark:
        "logs/{study}/within_arm_table.benchmark.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("within_arm_table"),
        runtime=runtime_min("within_arm_table"),
    params:
        study=study_config("report"),
        tables=["table4_within_arm"],
    script:
        "../../scripts/write_tables.py"


# Responders, categorical outcomes by visit (and their shift table), harms, the MMRM appendix, and
# tables.docx with every table of the study: a rule of its own, as it refits the planned MMRMs.
rule supplementary_tables:
    input:
        analysis=rules.assemble.output.analysis,
        outcomes=rules.score.output.outcomes,
        validated=rules.validate.output.validated,
        results=rules.analyse.output.results,
        descriptives=rules.descriptives.output.descriptives,
    output:
        responders=report(
            "results/{study}/tables/responders.html",
            caption="../report/responders.rst",
            category="{study}",
            subcategory="Tables",
        ),
        categorical=report(
            "results/{study}/tables/categorical_by_visit.html",
            caption="../report/categorical.rst",
            category="{study}",
            subcategory="Tables",
        ),
        harms=report(
            "results/{study}/tables/harms.html",
            caption="../report/harms.rst",
            category="{study}",
            subcategory="Tables",
        ),
        mmrm_appendix=report(
            "results/{study}/tables/mmrm_appendix.html",
            caption="../report/mmrm_appendix.rst",
            category="{study}",
            subcategory="Tables",
        ),
        other_formats=expand(
            "results/{{study}}/tables/{table}.{ext}",
            table=["responders", "categorical_by_visit", "harms", "mmrm_appendix"],
            ext=["csv", "md", "docx"],
        ),
        shift=expand(
            "results/{{study}}/tables/categorical_shift.{ext}",
            ext=["csv", "md", "html", "docx"],
        ),
        tables_docx="results/{study}/tables/tables.docx",
    log:
        "logs/{study}/supplementary_tables.log",
    benchmark:
        "logs/{study}/supplementary_tables.benchmark.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("supplementary_tables"),
        runtime=runtime_min("supplementary_tables"),
    params:
        study=study_config("report"),
    script:
        "../../scripts/write_supplementary_tables.py"


rule report:
    input:
        analysis=rules.assemble.output.analysis,
        outcomes=rules.score.output.outcomes,
        validated=rules.validate.output.validated,
        results=rules.analyse.output.results,
        descriptives=rules.descriptives.output.descriptives,
        model_fits=rules.analyse.output.model_fits,
        data_quality=rules.validate.output.quality,
        scoring_summary=rules.score.output.summary,
        figures=rules.figures.output.manifest,
        # the figures it embeds, so that a redrawn figure under an unchanged manifest
        # reruns the report
        figure_files=[
            rules.figures.output.consort,
            rules.figures.output.forest,
            rules.figures.output.trajectory,
            rules.figures.output.change,
            rules.figures.output.qq,
        ],
        participant_flow=rules.analyse.output.participant_flow,
        supplementary=rules.supplementary_tables.output.tables_docx,
        tipping_point=tipping_point_files,
    output:
        report=report(
            "results/{study}/report.html",
            caption="../report/report.rst",
            category="{study}",
            subcategory="Report",
        ),
    log:
        "logs/{study}/report.log",
    benchmark:
        "logs/{study}/report.benchmark.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("report"),
        runtime=runtime_min("report"),
    params:
        study=study_config("report"),
        input_hashes=raw_input_hashes,
    script:
        "../../scripts/write_report.py"


rule provenance:
    input:
        rules.validate.output,
        rules.score.output,
        rules.assemble.output,
        rules.descriptives.output,
        rules.analyse.output,
        rules.figures.output,
        rules.tables.output,
        within_arm_table_files,
        rules.supplementary_tables.output,
        tipping_point_files,
        rules.report.output,
        rules.export.output,
    output:
        manifest="results/{study}/provenance.json",
    log:
        "logs/{study}/provenance.log",
    benchmark:
        "logs/{study}/provenance.benchmark.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("provenance"),
        runtime=runtime_min("provenance"),
    params:
        study=study_config("report"),
        input_hashes=raw_input_hashes,
    script:
        "../../scripts/write_provenance.py"
