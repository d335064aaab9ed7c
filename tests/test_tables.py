"""Tests of trialflow.tables: formatting, cell contents against hand computations, writers."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from docx import Document
from helpers.report_inputs import parallel_inputs, parallel_study, results_frame, single_arm_inputs
from helpers.studies import make_study
from scipy import stats

from trialflow import tables as T
from trialflow.config import AnalysisOptions, PlannedAnalysis, Table1Options, TablesOptions
from trialflow.reported import ReportedResults, outcome_labels
from trialflow.stage_config import config_sha256
from trialflow.stats import descriptives

# --------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("p", "plain", "prefixed"),
    [
        (0.0234, "0.023", "p = 0.023"),
        (0.0004, "< 0.001", "p < 0.001"),
        (0.001, "0.001", "p = 0.001"),
        (0.5, "0.500", "p = 0.500"),
        (0.9996, "> 0.999", "p > 0.999"),
        (np.nan, "", ""),
    ],
)
def test_format_p(p, plain, prefixed):
    assert T.format_p(p) == plain
    assert T.format_p(p, prefix=True) == prefixed


def test_number_formats():
    assert T.format_number(-0.04, 1) == "0.0"  # no negative zero
    assert T.format_number(-0.06, 1) == "-0.1"
    assert T.format_number(np.nan, 2) == ""
    assert T.format_mean_sd(45.25, 15.04, 1) == "45.2 (15.0)"
    assert T.format_mean_sd(45.26, 15.04, 1, style="pm") == "45.3 ± 15.0"
    assert T.format_ci(2.126, 0.5, 3.749, 2) == "2.13 (0.50 to 3.75)"
    assert T.format_ci(2.1, np.nan, np.nan, 1) == "2.1"


@pytest.mark.parametrize(("sd", "places"), [(15.0, 1), (3.0, 2), (0.3, 3), (150.0, 1), (0.001, 3)])
def test_decimals_for(sd, places):
    assert T.decimals_for(sd) == places


def test_outcome_labels_have_unit_and_direction():
    outcomes = pd.DataFrame(
        {
            "outcome": ["back_peak_torque", "quad_peak_torque", "tug_time", "vas_vas"],
            "instrument": ["back", "quad", "tug", "vas"],
            "label": ["Peak torque", "Peak torque", "Timed Up and Go", "Pain"],
            "unit": ["Nm", "Nm", "s", None],
            "higher_is_better": [True, True, False, False],
        }
    )
    labels = outcome_labels(outcomes)
    assert labels["tug_time"] == "Timed Up and Go (s, lower = better)"
    # a label two outcomes share gets the instrument id in front
    assert labels["back_peak_torque"] == "back: Peak torque (Nm, higher = better)"
    assert labels["quad_peak_torque"] == "quad: Peak torque (Nm, higher = better)"
    assert labels["vas_vas"] == "Pain (lower = better)"


# --------------------------------------------------------------------------- a hand-sized study


def tiny() -> dict:
    """Two arms of three participants, values chosen so that means and SDs are round."""
    study = make_study(
        "tiny",
        [("control", "Control"), ("exercise", "Exercise")],
        [("baseline", "Baseline", 0, "baseline"), ("week8", "Week 8", 8, "end_of_treatment")],
        analysis=AnalysisOptions(test_selection="parametric"),
        title="Tiny",
    )
    values = {
        ("control", "baseline"): [10.0, 12.0, 14.0],  # mean 12, SD 2
        ("control", "week8"): [11.0, 12.0, 16.0],  # mean 13, SD sqrt(7)
        ("exercise", "baseline"): [9.0, 12.0, 15.0],  # mean 12, SD 3
        ("exercise", "week8"): [14.0, 17.0, 20.0],  # mean 17, SD 3
    }
    rows = []
    for (arm, visit), vals in values.items():
        for i, v in enumerate(vals):
            rows.append(
                {
                    "participant_id": f"{arm}{i}",
                    "arm": arm,
                    "visit": visit,
                    "week": 0.0 if visit == "baseline" else 8.0,
                    "outcome": "strength",
                    "value": v,
                }
            )
    analysis = pd.DataFrame(rows)
    outcomes = pd.DataFrame(
        {
            "outcome": ["strength"],
            "instrument": ["dyn"],
            "label": ["Strength"],
            "unit": ["Nm"],
            "higher_is_better": [True],
        }
    )
    results = pd.DataFrame(
        [
            {
                "outcome": "strength",
                "visit": "week8",
                "analysis": "paired_t",
                "contrast": "week8 - baseline",
                "group": "exercise",
                "estimate": 5.0,
                "ci_low": 4.99,
                "ci_high": 5.01,
                "p_value": 0.0234,
            },
            {
                "outcome": "strength",
                "visit": "week8",
                "analysis": "ancova",
                "contrast": "exercise - control",
                "group": np.nan,
                "estimate": 3.456,
                "ci_low": -0.1234,
                "ci_high": 7.0,
                "p_value": 0.0712,
                "p_adjusted": 0.1424,
            },
        ]
    )
    roster = pd.DataFrame(
        {
            "participant_id": [f"control{i}" for i in range(3)]
            + [f"exercise{i}" for i in range(3)],
            "arm": ["control"] * 3 + ["exercise"] * 3,
            "age": [50.0, 60.0, 70.0, 50.0, 56.0, 62.0],
            "sex": ["F", "F", "M", "F", "F", "F"],
        }
    )
    return {
        "study": study,
        "analysis": analysis,
        "outcomes": outcomes,
        "results": results,
        "participants": roster,
        "descriptives": descriptives(analysis),
    }


def test_outcomes_by_visit_cells_match_hand_values():
    t = tiny()
    table = T.outcomes_by_visit_table(t["study"], t["outcomes"], t["results"], t["descriptives"])
    frame = table.frame.set_index("Visit")
    assert list(table.frame["Outcome"].unique()) == ["Strength (Nm, higher = better)"]
    # the randomised comparison first, then the arms' descriptions
    assert list(table.frame.columns)[:4] == [
        "Outcome",
        "Visit",
        "Analysis plan",
        "ANCOVA difference (95% CI)",
    ]
    # baseline SDs 2 and 3 -> two decimals
    assert frame.loc["Baseline", "Control: mean (SD) [n]"] == "12.00 (2.00) [3]"
    assert (
        frame.loc["Week 8", "Control: mean (SD) [n]"]
        == f"13.00 ({np.sqrt(7):.2f}) [3]"
        == "13.00 (2.65) [3]"
    )
    assert frame.loc["Week 8", "Exercise: mean (SD) [n]"] == "17.00 (3.00) [3]"
    # the mean change with its t interval, no within-arm test
    assert frame.loc["Week 8", "Exercise: mean change from baseline (95% CI)"] == (
        "5.00 (4.99 to 5.01)"
    )
    assert (
        frame.loc["Week 8", "ANCOVA difference (95% CI)"]
        == "3.46 (-0.12 to 7.00); p = 0.071; adj. p = 0.142"
    )
    assert frame.loc["Week 8", "Analysis plan"] == "Exploratory"
    # no control change and no MMRM rows in results: those columns are left out
    assert "Control: mean change from baseline (95% CI)" not in frame.columns
    assert "MMRM difference (95% CI)" not in frame.columns
    (note,) = [n for n in table.footnotes if n.startswith("Exploratory")]
    assert "Holm" in note and "descriptive" in note and "significan" not in note
    # the resolved config's hash, as provenance.json records it
    digest = config_sha256(t["study"])
    assert table.footnotes[-1] == f"Configuration SHA-256 {digest[:12]} (provenance.json)."


def test_planned_rows_are_labelled_and_a_stopped_sequence_says_so():
    t = tiny()
    planned = PlannedAnalysis("strength", "week8", "ancova")
    study = dataclasses.replace(
        t["study"], analysis=dataclasses.replace(t["study"].analysis, primary=planned)
    )
    results = t["results"].copy()
    results["flags"] = ["", "primary"]
    table = T.outcomes_by_visit_table(study, t["outcomes"], results, t["descriptives"])
    frame = table.frame.set_index("Visit")
    assert frame.loc["Week 8", "Analysis plan"] == "Primary (ANCOVA)"
    assert any(
        n.startswith("Primary and key secondary analyses") and "fixed-sequence" in n
        for n in table.footnotes
    )
    results["flags"] = ["", "key_secondary;not_formally_tested"]
    table = T.outcomes_by_visit_table(study, t["outcomes"], results, t["descriptives"])
    cell = table.frame.set_index("Visit").loc["Week 8", "ANCOVA difference (95% CI)"]
    assert cell.endswith("; not formally tested")


def test_table1_values_match_roster():
    t = tiny()
    table = T.table1_table(t["study"], t["participants"])
    frame = table.frame
    assert list(frame.columns) == [
        "Characteristic",
        "Level",
        "Control (n = 3)",
        "Exercise (n = 3)",
        "Total (n = 6)",
    ]
    age = frame[frame["Characteristic"] == "Age (years), mean (SD)"].iloc[0]
    assert age["Control (n = 3)"] == "60.0 (10.0)"  # 50, 60, 70
    assert age["Exercise (n = 3)"] == "56.0 (6.0)"  # 50, 56, 62
    assert age["Total (n = 6)"] == "58.0 (7.7)"  # SD = sqrt(296 / 5)
    male = frame[(frame["Characteristic"] == "Sex, n (%)") & (frame["Level"] == "Male")].iloc[0]
    assert male["Control (n = 3)"] == "1 (33.3%)"
    assert male["Exercise (n = 3)"] == "0 (0.0%)"
    assert male["Total (n = 6)"] == "1 (16.7%)"
    missing = frame[frame["Characteristic"] == "Age (years), missing, n"].iloc[0]
    assert missing.iloc[2:].tolist() == ["0", "0", "0"]


def test_table1_is_declared_never_chosen_by_a_normality_test():
    """table1.variables and table1.summary decide; a 0/1 variable shows both levels."""
    t = tiny()
    roster = t["participants"].assign(
        smoker=[1, 1, 1, 1, np.nan, 1], bmi=[20.0, 35.0, 21.0, 22.0, 23.0, 40.0]
    )
    study = dataclasses.replace(
        t["study"],
        table1=Table1Options(variables=("bmi", "smoker"), summary={"bmi": "median_iqr"}),
    )
    frame = T.table1_table(study, roster).frame
    bmi = frame[frame["Characteristic"] == "Body-mass index (kg/m²), median [Q1, Q3]"].iloc[0]
    assert bmi["Control (n = 3)"] == "21.0 [20.5, 28.0]"  # R quantile type 7 of 20, 21, 35
    smoker = frame[frame["Characteristic"] == "Smoker, n (%)"]
    assert smoker["Level"].tolist() == ["0", "1"]
    assert smoker["Exercise (n = 3)"].tolist() == ["0 (0.0%)", "2 (100.0%)"]
    missing = frame[frame["Characteristic"] == "Smoker, missing, n"].iloc[0]
    assert missing["Exercise (n = 3)"] == "1"
    assert frame["Characteristic"].str.startswith("Age").sum() == 0  # not declared
    assert "declared" in table1_note(T.table1_table(study, roster))


def test_table1_single_arm_has_no_total_column():
    inp = single_arm_inputs()
    table = T.table1_table(inp["study"], inp["participants"])
    assert list(table.frame.columns) == ["Characteristic", "Level", "Training (n = 10)"]


def test_table1_accepts_a_long_frame_of_display_strings():
    t = tiny()
    long = pd.DataFrame(
        {
            "variable": ["age", "age"],
            "level": [None, None],
            "arm": ["control", "exercise"],
            "summary": ["60 (10)", "56 (2)"],
        }
    )
    table = T.table1_table(t["study"], t["participants"], long)
    assert table.frame.iloc[0].tolist() == ["Age (years)", "", "60 (10)", "56 (2)"]


def table1_note(table) -> str:
    return " ".join(table.footnotes)


# --------------------------------------------------------------------------- test selection


@pytest.mark.parametrize("selection", ["nonparametric", "auto", "parametric"])
def test_change_cells_are_the_mean_change_whatever_the_test_selection(selection):
    inp = parallel_inputs(selection)
    table = T.outcomes_by_visit_table(
        inp["study"], inp["outcomes"], inp["results"], inp["descriptives"]
    )
    res = inp["results"]
    paired = res[
        (res["analysis"] == "paired_t")
        & (res["group"] == "exercise")
        & (res["outcome"] == "back_peak_torque")
    ].iloc[0]
    cell = table.frame.loc[
        (table.frame["Visit"] == "Week 8") & table.frame["Outcome"].str.startswith("Back"),
        "Exercise: mean change from baseline (95% CI)",
    ].iloc[0]
    assert cell == T.format_ci(paired["estimate"], paired["ci_low"], paired["ci_high"], 2)
    assert not any("Wilcoxon" in note for note in table.footnotes)


def test_degenerate_rank_interval_is_marked_and_explained():
    inp = parallel_inputs("nonparametric")
    res = inp["results"].copy()
    hit = (
        (res["analysis"] == "mann_whitney")
        & (res["visit"] == "week8")
        & res["contrast"].str.endswith(")")
        & (res["outcome"] == "back_peak_torque")
    )
    res.loc[hit, ["estimate", "ci_low", "ci_high"]] = [7.5, 7.5000592, 7.5000089]
    res.loc[hit, "flags"] = "degenerate_interval"  # the tables read flags, never the note
    table = T.between_arm_table(inp["study"], inp["outcomes"], res, inp["descriptives"])
    cells = table.frame["Mann-Whitney U: shift in change (95% CI)"]
    marked = [c for c in cells if T.DEGENERATE_MARK in c]
    assert len(marked) == 1 and marked[0].startswith("7.50 (7.50 to 7.50)‡§")
    assert any(note.startswith(T.DEGENERATE_MARK) for note in table.footnotes)
    prose_only = inp["results"].copy()
    prose_only.loc[hit, "note"] = "normal-approximation interval degenerate with heavy ties"
    clean = T.between_arm_table(inp["study"], inp["outcomes"], prose_only, inp["descriptives"])
    assert not any(note.startswith(T.DEGENERATE_MARK) for note in clean.footnotes)


def test_auto_selection_follows_the_pipeline_rule():
    inp = parallel_inputs("auto")
    res = inp["results"].copy()
    sw = (res["analysis"] == "shapiro_wilk") & (res["outcome"] == "tug_time")
    res.loc[sw, "p_value"] = 0.5
    change = sw & (res["group"] == "control") & (res["contrast"] == "week8 - baseline")
    res.loc[change, "p_value"] = 0.001  # the control arm's change is not normal
    r = ReportedResults(res, inp["study"])
    assert (
        r.within("tug_time", "week8", "baseline", "control")["analysis"] == "wilcoxon_signed_rank"
    )
    assert r.within("tug_time", "week8", "baseline", "exercise")["analysis"] == "paired_t"
    # between arms on change: one non-normal arm is enough; on values both arms are normal
    assert (
        r.between("tug_time", "week8", "exercise", "control", change=True)["analysis"]
        == "mann_whitney"
    )
    assert (
        r.between("tug_time", "week8", "exercise", "control", change=False)["analysis"]
        == "welch_t"
    )


def test_reported_rows_are_the_rows_whose_columns_match():
    """Lookups by outcome search that outcome's rows only; the answer is what a filter on
    the whole results table gives, rows in results order, and empty for an unknown outcome."""
    inp = parallel_inputs("parametric")
    r = ReportedResults(inp["results"], inp["study"])
    whole = r.frame
    for outcome in whole["outcome"].unique():
        for visit in ("baseline", "week8"):
            expected = whole[(whole["outcome"] == outcome) & (whole["visit"] == visit)]
            got = r.rows(visit=visit, outcome=outcome)
            pd.testing.assert_frame_equal(got, expected)
            assert len(got) > 0
    unknown = r.rows(outcome="no_such_outcome", visit="week8")
    assert unknown.empty and list(unknown.columns) == list(whole.columns)
    shapiro = r.rows(analysis="shapiro_wilk")  # no outcome named: the whole table
    pd.testing.assert_frame_equal(shapiro, whole[whole["analysis"] == "shapiro_wilk"])


# --------------------------------------------------------------------------- layouts


def test_between_arm_table_is_the_randomised_comparison():
    inp = parallel_inputs("parametric")
    table = T.between_arm_table(inp["study"], inp["outcomes"], inp["results"], inp["descriptives"])
    frame = table.frame
    assert table.title.startswith("Table 3. Between-arm tests (exploratory)")
    # (the fixture's Welch rows carry no effect size: that column is left out)
    assert list(frame.columns) == [
        "Outcome",
        "Visit",
        "Welch t: difference in change (95% CI)",
        "Welch t: difference at visit (95% CI)",
    ]
    assert frame["Visit"].tolist() == ["Week 8", "Week 8"]  # no baseline comparison
    # the planned outcome first
    assert frame["Outcome"].iloc[0].startswith("Back-extensor")
    a = inp["analysis"]
    wide = a[a["outcome"] == "tug_time"].pivot(
        index="participant_id", columns="visit", values="value"
    )
    arm = a.drop_duplicates("participant_id").set_index("participant_id")["arm"]
    ex, co = wide[arm[wide.index] == "exercise"], wide[arm[wide.index] == "control"]
    change = stats.ttest_ind(
        (ex["week8"] - ex["baseline"]).dropna(),
        (co["week8"] - co["baseline"]).dropna(),
        equal_var=False,
    ).pvalue
    row = frame[frame["Outcome"].str.startswith("Timed")].iloc[0]
    assert T.format_p(change, prefix=True) in row["Welch t: difference in change (95% CI)"]
    # with rank tests reported, they get their own labelled columns
    auto = parallel_inputs("auto")
    columns = T.between_arm_table(
        auto["study"], auto["outcomes"], auto["results"], auto["descriptives"]
    ).frame.columns
    assert "Mann-Whitney U: shift in change (95% CI)" in columns
    assert "Welch t: difference in change (95% CI)" in columns


def test_classic_table_p_values_are_recomputable():
    inp = parallel_inputs("parametric")
    table = T.within_arm_table(inp["study"], inp["outcomes"], inp["results"], inp["descriptives"])
    frame = table.frame
    assert frame["Arm"].tolist() == ["Control", "Exercise", "Control", "Exercise"]
    a = inp["analysis"]
    wide = a[a["outcome"] == "tug_time"].pivot(
        index="participant_id", columns="visit", values="value"
    )
    arm = a.drop_duplicates("participant_id").set_index("participant_id")["arm"]
    ex, co = wide[arm[wide.index] == "exercise"], wide[arm[wide.index] == "control"]
    within = stats.ttest_rel(ex["week8"], ex["baseline"], nan_policy="omit").pvalue
    between = stats.ttest_ind(ex["week8"].dropna(), co["week8"].dropna(), equal_var=False).pvalue
    change = stats.ttest_ind(
        (ex["week8"] - ex["baseline"]).dropna(),
        (co["week8"] - co["baseline"]).dropna(),
        equal_var=False,
    ).pvalue
    row = frame[frame["Outcome"].str.startswith("Timed") & (frame["Arm"] == "Exercise")].iloc[0]
    assert row["p within arm, Week 8 vs Baseline"] == T.format_p(within)
    assert row["p between arms, Week 8"] == T.format_p(between)
    assert row["p between arms, change to Week 8"] == T.format_p(change)
    control = frame[frame["Outcome"].str.startswith("Timed") & (frame["Arm"] == "Control")].iloc[0]
    assert control["p between arms, Week 8"] == ""  # the comparison sits on the other arm's row
    mean, sd = ex["week8"].mean(), ex["week8"].std()
    assert row["Week 8, mean ± SD"] == f"{mean:.2f} ± {sd:.2f}"


def test_single_arm_table_layout_and_values():
    inp = single_arm_inputs()
    table = T.single_arm_table(inp["study"], inp["outcomes"], inp["results"], inp["descriptives"])
    assert list(table.frame.columns) == [
        "Outcome",
        "Baseline, mean ± SD",
        "Week 12, mean ± SD",
        "Week 24, mean ± SD",
        "p Week 12 vs Baseline",
        "p Week 24 vs Baseline",
        "p Week 24 vs Week 12",
        "p over visits",
    ]
    a = inp["analysis"]
    wide = a[a["outcome"] == "back_peak_torque"].pivot(
        index="participant_id", columns="visit", values="value"
    )
    kept = stats.ttest_rel(wide["week24"], wide["week12"], nan_policy="omit").pvalue
    row = table.frame.iloc[0]
    assert row["p Week 24 vs Week 12"] == T.format_p(kept)
    assert row["p over visits"] == "< 0.001"  # fixture rm_anova p = 0.0004
    assert (
        row["Baseline, mean ± SD"]
        == f"{wide['baseline'].mean():.1f} ± {wide['baseline'].std():.1f}"
    )


def test_build_study_tables_picks_layout_by_design():
    par = parallel_inputs()
    names = [
        t.name
        for t in T.build_study_tables(
            par["study"], par["outcomes"], par["participants"], par["results"], par["descriptives"]
        )
    ]
    assert names == [
        "table1_baseline",
        "table2_outcomes_by_visit",
        "table3_tests",
        "table4_within_arm",
    ]
    off = dataclasses.replace(par["study"], tables=TablesOptions(within_arm=False))
    tables = T.build_study_tables(
        off, par["outcomes"], par["participants"], par["results"], par["descriptives"]
    )
    assert [t.name for t in tables][-1] == "table3_tests"
    single = single_arm_inputs()
    tables = T.build_study_tables(
        single["study"],
        single["outcomes"],
        single["participants"],
        single["results"],
        analysis=single["analysis"],
    )
    assert [t.name for t in tables][-1] == "table3_tests"


def test_degenerate_results_row_prints_its_note():
    t = tiny()
    res = t["results"].copy()
    res.loc[1, ["estimate", "ci_low", "ci_high", "p_value", "p_adjusted"]] = np.nan
    res["note"] = ["", "singular fit"]
    table = T.outcomes_by_visit_table(t["study"], t["outcomes"], res, t["descriptives"])
    cell = table.frame.set_index("Visit").loc["Week 8", "ANCOVA difference (95% CI)"]
    assert cell == "not estimable (singular fit)"


# --------------------------------------------------------------------------- writers


def _write(inp, outdir):
    return T.write_study_tables(
        inp["study"],
        inp["analysis"],
        inp["outcomes"],
        inp["participants"],
        inp["results"],
        inp["descriptives"],
        outdir,
    )


def test_writers_produce_every_format(tmp_path):
    inp = parallel_inputs()
    paths = _write(inp, tmp_path)
    stems = ["table1_baseline", "table2_outcomes_by_visit", "table3_tests", "table4_within_arm"]
    assert [p.name for p in paths] == [f"{s}.{ext}" for s in stems for ext in T.TABLE_FORMATS]
    table2 = T.outcomes_by_visit_table(
        inp["study"], inp["outcomes"], inp["results"], inp["descriptives"]
    )
    csv = pd.read_csv(tmp_path / "table2_outcomes_by_visit.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(csv, table2.frame)
    md = (tmp_path / "table2_outcomes_by_visit.md").read_text()
    assert md.startswith(f"**{table2.title}**") and "| Outcome" in md
    page = (tmp_path / "table3_tests.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<table" in page
    doc = Document(str(tmp_path / "table2_outcomes_by_visit.docx"))
    grid = doc.tables[0]
    assert [c.text for c in grid.rows[0].cells] == list(table2.frame.columns)
    assert grid.rows[2].cells[2].text == table2.frame.iloc[1, 2]
    assert doc.core_properties.created == datetime(2000, 1, 1, tzinfo=UTC)
    assert doc.core_properties.modified == datetime(2000, 1, 1, tzinfo=UTC)


def test_tables_are_byte_identical_on_rerun(tmp_path):
    inp = parallel_inputs()
    first = _write(inp, tmp_path / "a")
    second = _write(parallel_inputs(), tmp_path / "b")
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_docx_dates_follow_source_date_epoch(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    t = tiny()
    path = T.write_docx([T.table1_table(t["study"], t["participants"])], tmp_path / "t.docx")
    assert Document(str(path)).core_properties.created == datetime(
        2023, 11, 14, 22, 13, 20, tzinfo=UTC
    )


def test_results_fixture_round_trips_through_csv(tmp_path):
    # results.csv read back from disk has NaN groups and notes; the tables must not care
    study = parallel_study()
    inp = parallel_inputs()
    path = tmp_path / "results.csv"
    results_frame(study, inp["analysis"]).to_csv(path, index=False, float_format="%.10g")
    from_disk = pd.read_csv(path)
    a = T.outcomes_by_visit_table(study, inp["outcomes"], from_disk, inp["descriptives"]).frame
    b = T.outcomes_by_visit_table(
        study, inp["outcomes"], inp["results"], inp["descriptives"]
    ).frame
    pd.testing.assert_frame_equal(a, b)


def test_classic_table_marks_nonparametric_p_values():
    inp = parallel_inputs("nonparametric")
    table = T.within_arm_table(inp["study"], inp["outcomes"], inp["results"], inp["descriptives"])
    res = inp["results"]
    wil = res[
        (res["analysis"] == "wilcoxon_signed_rank")
        & (res["outcome"] == "back_peak_torque")
        & (res["group"] == "control")
    ].iloc[0]
    row = table.frame.iloc[0]
    assert row["p within arm, Week 8 vs Baseline"] == T.format_p(wil["p_value"]) + "‡"
    assert (
        "‡ non-parametric test (Wilcoxon signed-rank test, Mann-Whitney U test)."
        in table.footnotes
    )
