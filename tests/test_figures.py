"""Tests of trialflow.figures: the numbers drawn, the files written, byte-identical reruns."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from helpers.report_inputs import parallel_inputs, single_arm_inputs
from PIL import Image

from trialflow import figures as G
from trialflow.config import PlannedAnalysis
from trialflow.stats.flow import participant_flow
from trialflow.tables import format_p


def test_trajectory_figure_draws_arm_means():
    inp = parallel_inputs()
    fig = G.trajectory_figure(
        inp["analysis"],
        "back_peak_torque",
        "Torque",
        ["control", "exercise"],
        {"control": "Control", "exercise": "Exercise"},
    )
    ax = fig.axes[0]
    means = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert len(means) == 2
    a = inp["analysis"]
    expected = (
        a[(a["outcome"] == "back_peak_torque") & (a["arm"] == "exercise")]
        .groupby("week")["value"]
        .mean()
    )
    np.testing.assert_allclose(means[1].get_ydata(), expected.to_numpy())
    faint = [line for line in ax.get_lines() if line.get_alpha() == pytest.approx(0.18)]
    assert len(faint) == a["participant_id"].nunique()  # one trajectory per participant
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Control (n = 8)",
        "Exercise (n = 8)",
    ]


def test_standardised_effects_are_the_model_rows_effect_sizes():
    """The forest plot reads effect_size and its interval from results.csv (the fixture's
    model rows: difference / a baseline SD of 12 Nm and 1.5 s), signed so that positive
    means improvement."""
    inp = parallel_inputs()
    eff = G.standardised_effects(
        inp["study"], inp["analysis"], inp["outcomes"], inp["results"]
    ).set_index("outcome")
    for outcome, sign, sd in (("back_peak_torque", 1.0, 12.0), ("tug_time", -1.0, 1.5)):
        row = eff.loc[outcome]
        assert row["source"] == "ancova"  # the primary analysis's method
        assert row["smd"] == pytest.approx(sign * row["estimate"] / sd)
        assert row["smd_low"] == pytest.approx(
            min(sign * row["ci_low"], sign * row["ci_high"]) / sd
        )
        assert row["smd_high"] == pytest.approx(
            max(sign * row["ci_low"], sign * row["ci_high"]) / sd
        )
    # TUG fell more with exercise: a lower-is-better improvement plots as positive
    assert eff.loc["tug_time", "smd"] > 0


def test_standardised_effects_follow_the_primary_method_and_fall_back():
    inp = parallel_inputs("parametric")
    study = inp["study"]
    mmrm_first = dataclasses.replace(
        study,
        analysis=dataclasses.replace(
            study.analysis, primary=PlannedAnalysis("back_peak_torque", "week8", "mmrm")
        ),
    )
    eff = G.standardised_effects(mmrm_first, inp["analysis"], inp["outcomes"], inp["results"])
    assert set(eff["source"]) == {"mmrm"}
    no_ancova = inp["results"][inp["results"]["analysis"] != "ancova"]
    eff = G.standardised_effects(study, inp["analysis"], inp["outcomes"], no_ancova)
    assert set(eff["source"]) == {"mmrm"}
    # classic tests carry other effect sizes (Hedges' g): never in the forest plot
    classic = inp["results"][~inp["results"]["analysis"].isin(["ancova", "mmrm"])]
    assert G.standardised_effects(study, inp["analysis"], inp["outcomes"], classic).empty


def test_qq_cells_are_the_distributions_that_chose_tests():
    inp = parallel_inputs()
    cells = G.qq_cells(inp["study"], inp["analysis"], inp["results"], "tug_time")
    assert [(c["arm"], c["kind"], c["contrast"]) for c in cells] == [
        ("control", "change", "week8 - baseline"),
        ("exercise", "change", "week8 - baseline"),
        ("control", "values", "baseline"),
        ("control", "values", "week8"),
        ("exercise", "values", "baseline"),
        ("exercise", "values", "week8"),
    ]
    a = inp["analysis"]
    wide = a[(a["outcome"] == "tug_time") & (a["arm"] == "control")].pivot(
        index="participant_id", columns="visit", values="value"
    )
    np.testing.assert_allclose(
        np.sort(cells[0]["values"]), np.sort((wide["week8"] - wide["baseline"]).dropna())
    )
    res = inp["results"]
    sw = res[
        (res["analysis"] == "shapiro_wilk")
        & (res["outcome"] == "tug_time")
        & (res["group"] == "control")
        & (res["contrast"] == "week8 - baseline")
    ]
    assert len(sw) == 1
    assert cells[0]["shapiro_p"] == pytest.approx(sw["p_value"].iloc[0])
    fig = G.qq_figure(
        cells,
        "TUG",
        {"control": "Control", "exercise": "Exercise"},
        {"week8": "Week 8", "baseline": "Baseline"},
    )
    title = fig.axes[0].get_title()
    assert title.startswith("Control: Week 8 − Baseline")
    assert f"Shapiro-Wilk {format_p(cells[0]['shapiro_p'], prefix=True)}" in title
    assert cells[0]["test"] in title
    # values cells: the raw values at the visit, feeding the between-arm test on values
    week8 = cells[3]
    np.testing.assert_allclose(np.sort(week8["values"]), np.sort(wide["week8"].dropna()))
    welch_or_mw = res[
        res["analysis"].isin(["welch_t", "mann_whitney"])
        & (res["outcome"] == "tug_time")
        & (res["visit"] == "week8")
        & (res["contrast"] == "exercise - control")
    ]
    assert week8["test"] in {"Welch t-test", "Mann-Whitney U test"} and len(welch_or_mw) == 2
    # one row of panels per arm and kind: 4 rows x 2 columns, two panels unused
    assert [ax.get_visible() for ax in fig.axes].count(True) == 6
    assert fig.axes[4].get_title().startswith("Control: Baseline values")


def test_qq_values_cells_single_arm_feed_the_test_across_visits():
    inp = single_arm_inputs()
    cells = G.qq_cells(inp["study"], inp["analysis"], inp["results"], "tug_time")
    values = [c for c in cells if c["kind"] == "values"]
    assert [c["contrast"] for c in values] == ["baseline", "week12", "week24"]
    assert {c["test"] for c in values} == {"repeated-measures ANOVA"}  # parametric study


def test_consort_figure_is_drawn_from_participant_flow():
    inp = parallel_inputs()
    flow = participant_flow(
        inp["participants"].assign(received_allocation="yes"),
        inp["study"],
        analysed={"control": 7, "exercise": 6},
        exclusions=pd.DataFrame({"arm": ["exercise"], "reason": ["not per protocol"], "n": [1]}),
        screening={"screened": 30, "excluded": {"declined": 10, "ineligible": 4}},
    )
    fig = G.consort_figure(inp["study"], flow)
    texts = " | ".join(t.get_text() for t in fig.axes[0].texts)
    for expected in (
        "Assessed for eligibility (n = 30)",
        "Excluded (n = 14)",
        "– declined: 10",
        "Randomised (n = 16)",
        "Allocated to Exercise (n = 8)",
        "Received the allocated intervention (n = 8)",
        "Withdrew (n = 1)",
        "– moved away: 1",
        "Analysed in the primary analysis (n = 6)",
        "Excluded from the analysis (n = 2)",
        "– not per protocol: 1",
    ):
        assert expected in texts, expected
    # read back from participant_flow.csv (blank reasons read as missing): the same figure
    from_csv = flow.assign(reason=flow["reason"].replace("", np.nan))
    again = " | ".join(
        t.get_text() for t in G.consort_figure(inp["study"], from_csv).axes[0].texts
    )
    assert again == texts


def _write(inp, outdir):
    return G.write_study_figures(
        inp["study"], inp["analysis"], inp["outcomes"], inp["participants"], inp["results"], outdir
    )


@pytest.mark.parametrize(
    "make", [parallel_inputs, single_arm_inputs], ids=["parallel", "single_arm"]
)
def test_write_study_figures_files_and_manifest(tmp_path, make):
    inp = make()
    paths = _write(inp, tmp_path)
    manifest = pd.read_csv(tmp_path / G.MANIFEST, keep_default_na=False)
    expected = [f"{stem}.{ext}" for stem in manifest["stem"] for ext in G.FIGURE_FORMATS] + [
        G.MANIFEST
    ]
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == expected
    assert manifest["kind"].tolist()[:2] == ["consort", "forest"]
    assert set(manifest.loc[manifest["kind"] == "trajectory", "outcome"]) == {
        "back_peak_torque",
        "tug_time",
    }
    png = Image.open(tmp_path / "trajectory" / "tug_time.png")
    assert png.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    assert png.size == (1800, 1200)  # 6 x 4 inches at 300 dpi
    assert "Software" not in png.info
    svg = (tmp_path / "forest.svg").read_text()
    assert "<dc:date>" not in svg and "tmp" not in svg


def test_figures_are_byte_identical_on_rerun(tmp_path):
    first = _write(parallel_inputs(), tmp_path / "a")
    second = _write(parallel_inputs(), tmp_path / "b")
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_strip_offsets_spread_ties_evenly():
    offsets = G.strip_offsets([1.0, 5.0, 1.0, 1.0], width=0.6)
    # the three tied values share the widest bin: -0.3, 0, 0.3 in value-then-input order
    np.testing.assert_allclose(offsets, [-0.3, 0.0, 0.0, 0.3])
    assert G.strip_offsets([2.0], 0.6).tolist() == [0.0]


def test_change_figure_draws_mean_change():
    inp = parallel_inputs()
    fig = G.change_figure(inp["analysis"], "tug_time", "baseline", "TUG", ["control", "exercise"])
    ax = fig.axes[0]
    diamonds = [line for line in ax.get_lines() if line.get_marker() == "D"]
    a = inp["analysis"]
    wide = a[(a["outcome"] == "tug_time") & (a["arm"] == "exercise")].pivot(
        index="participant_id", columns="visit", values="value"
    )
    assert diamonds[1].get_ydata()[0] == pytest.approx((wide["week8"] - wide["baseline"]).mean())


def test_qq_figure_thins_large_samples_but_keeps_the_extremes():
    values = np.arange(500, dtype=float) ** 1.5
    cell = {"arm": "a", "kind": "change", "contrast": "w1 - w0", "values": values}
    cell |= {"test": "", "shapiro_p": np.nan}
    fig = G.qq_figure([cell], "X")
    points = fig.axes[0].collections[0].get_offsets()
    assert len(points) == G.QQ_MAX_POINTS
    assert points[0][1] == values.min() and points[-1][1] == values.max()


def test_forest_has_number_columns_and_favours_labels_on_their_sides():
    inp = parallel_inputs()
    study = inp["study"]
    eff = G.standardised_effects(study, inp["analysis"], inp["outcomes"], inp["results"])
    # n per arm: participants with baseline and week-8 values, counted here from the data
    a = inp["analysis"]
    for outcome, n_by_arm in zip(eff["outcome"], eff["n_by_arm"], strict=True):
        rows = a[(a["outcome"] == outcome) & a["value"].notna()]
        wide = rows.pivot_table(index=["participant_id", "arm"], columns="visit", values="value")
        pairs = wide.dropna().reset_index()["arm"].value_counts()
        assert n_by_arm == f"{pairs.get('control', 0)}/{pairs.get('exercise', 0)}"
    fig = G.forest_figure(eff, "SMD", ("favours Control", "favours Exercise"), "n")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    plot, columns = fig.axes
    texts = [t.get_text() for t in columns.texts]
    row = eff.iloc[0]
    assert f"{row['smd']:.2f} ({row['smd_low']:.2f} to {row['smd_high']:.2f})" in texts
    assert row["n_by_arm"] in texts and "Estimate (CI)" in texts
    renderer = canvas.get_renderer()
    zero = plot.transData.transform((0, 0))[0]
    left = next(t for t in plot.texts if "Control" in t.get_text())
    right = next(t for t in plot.texts if "Exercise" in t.get_text())
    assert left.get_window_extent(renderer).x1 <= zero + 0.5
    assert right.get_window_extent(renderer).x0 >= zero - 0.5
    low, high = plot.get_xlim()
    assert low < 0 < high
