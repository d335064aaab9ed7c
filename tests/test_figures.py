"""Tests of trialflow.figures: the numbers drawn, the files written, byte-identical reruns."""

from __future__ import annotations

import dataclasses
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from helpers.report_inputs import parallel_inputs, single_arm_inputs
from PIL import Image
from scipy import stats

from trialflow import figures as G
from trialflow.config import FigureOptions, PlannedAnalysis
from trialflow.stats import mean_ci
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
    # one faint line per participant, one collection per arm, each line its weeks in order
    faint = [c for c in ax.collections if c.get_label() == G.plots.INDIVIDUALS]
    assert [len(c.get_segments()) for c in faint] == [8, 8]
    assert faint[0].get_alpha() == pytest.approx(0.18)
    person = a[(a["participant_id"] == "CON01") & (a["outcome"] == "back_peak_torque")]
    person = person.dropna(subset=["value"]).sort_values("week")
    np.testing.assert_allclose(faint[0].get_segments()[0], person[["week", "value"]].to_numpy())
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Control (n = 8)",
        "Exercise (n = 8)",
        "Individual participants",
    ]


def _big_trial(n_per_arm: int, seed: int = 3) -> pd.DataFrame:
    """Long data of a two-arm trial, three visits, 10% of values missing."""
    rng = np.random.default_rng(seed)
    rows = []
    for arm, shift in (("control", 0.0), ("exercise", 2.0)):
        ids = [f"{arm[:1]}{i:06d}" for i in range(n_per_arm)]
        base = rng.normal(50, 10, n_per_arm)
        for visit, week in (("baseline", 0.0), ("week4", 4.0), ("week8", 8.0)):
            value = base + shift * week / 8 + rng.normal(0, 3, n_per_arm)
            value[rng.random(n_per_arm) < 0.1] = np.nan
            rows.append(
                pd.DataFrame(
                    {
                        "participant_id": ids,
                        "arm": arm,
                        "visit": visit,
                        "week": week,
                        "outcome": "x",
                        "value": value,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def test_trajectory_figure_samples_lines_but_summarises_everyone():
    data = _big_trial(5000)
    fig = G.trajectory_figure(data, "x", "X", ["control", "exercise"], sample=200, seed=5)
    ax = fig.axes[0]
    faint = [c for c in ax.collections if c.get_label() == G.plots.INDIVIDUALS]
    assert [len(c.get_segments()) for c in faint] == [200, 200]
    assert faint[0].get_alpha() == pytest.approx(0.03)  # 400 lines: the faintest
    # the sample: distinct participants of the arm, the same for the same seed
    again = G.trajectory_figure(data, "x", "X", ["control", "exercise"], sample=200, seed=5)
    other = G.trajectory_figure(data, "x", "X", ["control", "exercise"], sample=200, seed=6)

    def first_points(figure):
        lines = figure.axes[0].collections
        lines = [c for c in lines if c.get_label() == G.plots.INDIVIDUALS]
        return np.array([seg[0] for seg in lines[0].get_segments()])

    np.testing.assert_array_equal(first_points(fig), first_points(again))
    assert not np.array_equal(first_points(fig), first_points(other))
    # mean and interval from all 5,000 participants of the arm at each week
    means = [line for line in ax.get_lines() if line.get_marker() == "o"]
    control = data[data["arm"] == "control"]
    expected = [mean_ci(g["value"]) for _, g in control.groupby("week")]
    np.testing.assert_allclose(means[0].get_ydata(), [e[0] for e in expected])
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    n0 = int(control.loc[control["week"] == 0, "value"].notna().sum())
    assert texts[0] == f"control (n = {n0})"
    assert texts[-1] == "Individuals: random 200\nper arm"


def test_trajectory_lines_are_a_seeded_sample_of_the_arm():
    data = _big_trial(1000)
    lines = G.data.trajectory_lines(data, ["control", "exercise"], 50, seed=9)
    segments, total = lines["control"]
    control = data[(data["arm"] == "control") & data["value"].notna()]
    assert total == control["participant_id"].nunique()
    assert len(segments) == 50
    # each line is one participant's values, weeks increasing
    by_person = {
        pid: g.sort_values("week")[["week", "value"]].to_numpy()
        for pid, g in control.groupby("participant_id")
    }
    for segment in segments:
        assert any(
            len(v) == len(segment) and np.array_equal(v, segment) for v in by_person.values()
        )
    rng = np.random.default_rng([9, 0])
    chosen = np.sort(rng.choice(np.sort(control["participant_id"].unique()), 50, replace=False))
    np.testing.assert_array_equal(segments[0], by_person[chosen[0]])


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
    # one panel, one labelled series per cell, in cell order
    assert len(fig.axes) == 1
    series = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert len(series) == len(cells) == 6
    assert series[0].startswith("Control: change Week 8 − Baseline\n")
    n, text = len(cells[0]["values"]), series[0].replace("\n", " ")
    assert f"n = {n}, Shapiro-Wilk {format_p(cells[0]['shapiro_p'], prefix=True)}" in text
    assert text.endswith(f"→ {cells[0]['test']}")
    # each series: the cell's values standardised against normal quantiles
    points = fig.axes[0].collections[0].get_offsets()
    change = np.sort(cells[0]["values"])
    np.testing.assert_allclose(points[:, 1], (change - change.mean()) / change.std(ddof=1))
    np.testing.assert_allclose(points[:, 0], stats.probplot(change)[0][0])
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
    assert [v.replace("\n", " ").split(" n = ")[0] for v in series[2:]] == [
        "Control: values at Baseline",
        "Control: values at Week 8",
        "Exercise: values at Baseline",
        "Exercise: values at Week 8",
    ]


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


def _write(inp, outdir, processes=1):
    return G.write_study_figures(
        inp["study"],
        inp["analysis"],
        inp["outcomes"],
        inp["participants"],
        inp["results"],
        outdir,
        processes=processes,
    )


@pytest.mark.parametrize(
    "make", [parallel_inputs, single_arm_inputs], ids=["parallel", "single_arm"]
)
def test_write_study_figures_files_and_manifest(tmp_path, make):
    inp = make()
    paths = _write(inp, tmp_path)
    manifest = pd.read_csv(tmp_path / G.MANIFEST, keep_default_na=False)
    expected = [f"{stem}.png" for stem in manifest["stem"]] + [G.MANIFEST]
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == expected
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.*"))
    assert written == sorted(expected)  # PNG only unless SVG is asked for
    assert manifest["kind"].tolist()[:2] == ["consort", "forest"]
    assert manifest["stem"].tolist()[:2] == ["consort/consort", "forest/forest"]
    assert set(manifest.loc[manifest["kind"] == "trajectory", "outcome"]) == {
        "back_peak_torque",
        "tug_time",
    }
    png = Image.open(tmp_path / "trajectory" / "tug_time.png")
    assert png.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    assert png.size == (1500, 1020)  # 5 x 3.4 inches at 300 dpi
    assert "Software" not in png.info
    caption = manifest.loc[manifest["kind"] == "trajectory", "caption"].iloc[0]
    assert "a random sample of 200 per arm, seed 1" in caption


def test_svg_and_resolution_when_asked(tmp_path):
    inp = parallel_inputs()
    options = FigureOptions(formats=("png", "svg"), dpi=100)
    inp["study"] = replace(inp["study"], figures=options)
    paths = _write(inp, tmp_path)
    manifest = pd.read_csv(tmp_path / G.MANIFEST, keep_default_na=False)
    expected = [f"{stem}.{ext}" for stem in manifest["stem"] for ext in ("png", "svg")]
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [*expected, G.MANIFEST]
    png = Image.open(tmp_path / "trajectory" / "tug_time.png")
    assert png.size == (500, 340)  # 5 x 3.4 inches at 100 dpi
    svg = (tmp_path / "forest" / "forest.svg").read_text()
    assert "<dc:date>" not in svg and "tmp" not in svg


def test_figures_are_byte_identical_on_rerun_and_in_parallel(tmp_path):
    inp = parallel_inputs()
    inp["study"] = replace(inp["study"], figures=FigureOptions(formats=("png", "svg")))
    first = _write(inp, tmp_path / "a")
    second = _write(inp, tmp_path / "b")
    pooled = _write(inp, tmp_path / "c", processes=3)
    for a, b, c in zip(first, second, pooled, strict=True):
        assert a.read_bytes() == b.read_bytes() == c.read_bytes(), a.name


def test_tasks_are_study_figures_then_one_per_outcome():
    inp = single_arm_inputs()
    outcomes = ["a_x", "b_x", "b_y", "tug_time"]
    records = [
        G.FigureRecord(kind, outcome, f"{kind}/{outcome}", "", "")
        for outcome in outcomes
        for kind in ("trajectory", "change")
    ]
    records.insert(0, G.FigureRecord("consort", "", "consort/consort", "", ""))
    records.append(G.FigureRecord("forest", "", "forest/forest", "", ""))
    tasks = G.render.figure_tasks(records)
    assert [t.name for t in tasks] == ["consort", "forest", *outcomes]
    assert [r.stem for r in tasks[4].records] == ["trajectory/b_y", "change/b_y"]
    assert inp["study"].figures == FigureOptions()


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
    z = (values - values.mean()) / values.std(ddof=1)
    assert points[0][1] == z.min() and points[-1][1] == z.max()
    theory = stats.probplot(values)[0][0]
    assert points[0][0] == theory[0] and points[-1][0] == theory[-1]
    # one arm: the label does not repeat it
    assert fig.axes[0].get_legend().get_texts()[0].get_text() == "change w1 − w0\nn = 500"


def test_qq_series_without_spread_draws_nothing():
    for values in ([3.0], [2.0, 2.0, 2.0]):
        theory, standardised = G.qq_series(values)
        assert len(theory) == len(standardised) == 0


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


def test_png_pixels_are_matplotlibs_own_rendering(tmp_path):
    """The hand-off to pypng (alpha dropped, rows as views of one buffer) keeps every pixel:
    the written PNG decodes to what matplotlib's own ``savefig`` renders, and says its dpi."""
    inp = parallel_inputs()
    fig = G.trajectory_figure(
        inp["analysis"], "tug_time", "TUG", ["control", "exercise"], sample=5, seed=1
    )
    (written,) = G.save_figure(fig, tmp_path / "ours", ("png",), dpi=120)
    with G.figure_style():
        fig.savefig(tmp_path / "matplotlib.png", dpi=120)
    ours, theirs = Image.open(written), Image.open(tmp_path / "matplotlib.png")
    assert ours.mode == "RGB" and ours.size == theirs.size == (600, 408)
    assert np.array_equal(np.asarray(ours), np.asarray(theirs.convert("RGB")))
    # both store 120 dpi as 4724 pixels per metre (pHYs holds whole pixels per metre)
    assert ours.info["dpi"] == theirs.info["dpi"] == pytest.approx((120, 120), abs=0.011)
