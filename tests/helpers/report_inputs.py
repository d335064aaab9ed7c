"""Small synthetic inputs in the shapes the output stage reads (tables, figures, report).

Two studies: a two-arm parallel study (baseline, week 8) and a single-arm study (baseline,
week 12 end of treatment, week 24 follow-up). Values are seeded; the results rows are computed
from the data with scipy for the classic tests, and fixed by hand for the model rows, so tests
can recompute what a table cell should say.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from trialflow.config import (
    AnalysisOptions,
    Arm,
    InstrumentSpec,
    Multiplicity,
    PlannedAnalysis,
    Study,
    Visit,
)
from trialflow.stats.contract import MODEL_FIT_COLUMNS, RESULT_COLUMNS
from trialflow.stats.mmrm_analysis import ESTIMAND_PARALLEL


def parallel_study(test_selection: str = "auto", simulated: bool = True) -> Study:
    return Study(
        id="mini_rct",
        title="Mini RCT",
        design="parallel",
        data_dir="data/raw/mini_rct",
        arms=(Arm("control", "Control"), Arm("exercise", "Exercise")),
        visits=(
            Visit("baseline", "Baseline", 0.0, "baseline"),
            Visit("week8", "Week 8", 8.0, "end_of_treatment"),
        ),
        instruments=(InstrumentSpec("back", "back_extensor"), InstrumentSpec("tug", "tug")),
        covariates=("age",),
        analysis=AnalysisOptions(
            test_selection=test_selection,
            multiplicity=Multiplicity("holm", "primary_visit"),
            primary=PlannedAnalysis("back_peak_torque", "week8", "ancova"),
        ),
        simulated=simulated,
    )


def single_arm_study() -> Study:
    return Study(
        id="mini_knee",
        title="Mini knee",
        design="single_arm",
        data_dir="data/raw/mini_knee",
        arms=(Arm("training", "Training"),),
        visits=(
            Visit("baseline", "Baseline", 0.0, "baseline"),
            Visit("week12", "Week 12", 12.0, "end_of_treatment"),
            Visit("week24", "Week 24", 24.0, "follow_up"),
        ),
        instruments=(InstrumentSpec("tug", "tug"),),
        analysis=AnalysisOptions(
            test_selection="parametric", primary=PlannedAnalysis("tug_time", "week12", "mmrm")
        ),
        simulated=False,
    )


def outcomes_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "outcome": ["back_peak_torque", "tug_time"],
            "instrument": ["back", "tug"],
            "instrument_type": ["back_extensor", "tug"],
            "score": ["peak_torque", "time"],
            "label": ["Back-extensor peak torque", "Timed Up and Go"],
            "unit": ["Nm", "s"],
            "higher_is_better": [True, False],
            "algorithm": ["isometric peak", "stopwatch"],
        }
    )


def participants_frame(study: Study, n_per_arm: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for arm in study.arm_ids:
        for i in range(n_per_arm):
            rows.append(
                {
                    "participant_id": f"{arm[:3].upper()}{i + 1:02d}",
                    "arm": arm,
                    "age": float(rng.integers(45, 66)),
                    "sex": "F" if i % 4 else "M",
                    "height_cm": round(float(rng.normal(160, 6)), 1),
                    "weight_kg": round(float(rng.normal(65, 8)), 1),
                    "ethnicity": "caucasian",
                    "last_visit": study.visits[-1].id,
                    "withdrawal_reason": "",
                }
            )
    roster = pd.DataFrame(rows)
    # one participant per arm leaves after baseline, for the flow diagram and missing data
    for arm, reason in zip(study.arm_ids, ["moved away", "lost to follow-up"], strict=False):
        idx = roster.index[roster["arm"] == arm][-1]
        roster.loc[idx, "last_visit"] = study.baseline.id
        roster.loc[idx, "withdrawal_reason"] = reason
    # blank in the CSV reads back as missing
    roster["withdrawal_reason"] = roster["withdrawal_reason"].replace("", np.nan)
    return roster


def analysis_frame(study: Study, roster: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    visit_index = {v.id: i for i, v in enumerate(study.visits)}
    effects = {"back_peak_torque": (60.0, 12.0, 9.0), "tug_time": (9.0, 1.5, -1.2)}
    rows = []
    for p in roster.itertuples(index=False):
        last = visit_index[p.last_visit]
        treated = p.arm != study.reference_arm.id or study.design == "single_arm"
        for outcome, (mean, sd, gain) in effects.items():
            person = rng.normal(mean, sd)
            for visit in study.visits:
                i = visit_index[visit.id]
                value = person + (gain * min(i, 1) if treated else 0) + rng.normal(0, sd / 3)
                rows.append(
                    {
                        "participant_id": p.participant_id,
                        "arm": p.arm,
                        "visit": visit.id,
                        "week": visit.week,
                        "outcome": outcome,
                        "value": value if i <= last else np.nan,
                    }
                )
    return pd.DataFrame(rows)


def descriptives_frame(analysis: pd.DataFrame) -> pd.DataFrame:
    g = analysis.groupby(["outcome", "arm", "visit"])["value"]
    out = pd.DataFrame(
        {
            "n": g.count(),
            "n_missing": g.apply(lambda s: int(s.isna().sum())),
            "mean": g.mean(),
            "sd": g.std(ddof=1),
            "median": g.median(),
            "q1": g.quantile(0.25),
            "q3": g.quantile(0.75),
            "min": g.min(),
            "max": g.max(),
        }
    ).reset_index()
    return out


def _row(**values) -> dict:
    row = dict.fromkeys(RESULT_COLUMNS, np.nan)
    row.update(group="", note="", effect_size_name="", flags="")
    row.update(values)
    return row


def _standardised(numbers: dict, sd: float) -> dict:
    return {
        "effect_size": numbers["estimate"] / sd,
        "effect_size_ci_low": numbers["ci_low"] / sd,
        "effect_size_ci_high": numbers["ci_high"] / sd,
        "effect_size_name": "standardised_difference",
    }


def _wide(analysis: pd.DataFrame, outcome: str, arm: str) -> pd.DataFrame:
    sub = analysis[(analysis["outcome"] == outcome) & (analysis["arm"] == arm)]
    return sub.pivot(index="participant_id", columns="visit", values="value")


def results_frame(study: Study, analysis: pd.DataFrame) -> pd.DataFrame:
    """Classic tests computed with scipy; ANCOVA/MMRM rows fixed by hand."""
    rows = []
    base = study.baseline.id
    pairs = [(v.id, base) for v in study.post_baseline]
    if study.end_of_treatment and study.follow_up:
        pairs.append((study.follow_up.id, study.end_of_treatment.id))
    for outcome in sorted(analysis["outcome"].unique()):
        for arm in study.arm_ids:
            wide = _wide(analysis, outcome, arm)
            for visit in study.visit_ids:  # normality of the values in each cell
                values = wide[visit].dropna()
                sw = stats.shapiro(values)
                rows.append(
                    _row(
                        outcome=outcome,
                        visit=visit,
                        analysis="shapiro_wilk",
                        contrast="values",
                        group=arm,
                        n=len(values),
                        statistic=sw.statistic,
                        p_value=sw.pvalue,
                    )
                )
            for later, earlier in pairs:
                diff = (wide[later] - wide[earlier]).dropna()
                contrast = f"{later} - {earlier}"
                sw = stats.shapiro(diff)
                rows.append(
                    _row(
                        outcome=outcome,
                        visit=later,
                        analysis="shapiro_wilk",
                        contrast=contrast,
                        group=arm,
                        n=len(diff),
                        statistic=sw.statistic,
                        p_value=sw.pvalue,
                    )
                )
                t = stats.ttest_1samp(diff, 0.0)
                ci = t.confidence_interval()
                rows.append(
                    _row(
                        outcome=outcome,
                        visit=later,
                        analysis="paired_t",
                        contrast=contrast,
                        group=arm,
                        n=len(diff),
                        estimate=diff.mean(),
                        se=diff.std(ddof=1) / np.sqrt(len(diff)),
                        df=len(diff) - 1,
                        ci_low=ci.low,
                        ci_high=ci.high,
                        statistic=t.statistic,
                        p_value=t.pvalue,
                    )
                )
                w = stats.wilcoxon(diff)
                rows.append(
                    _row(
                        outcome=outcome,
                        visit=later,
                        analysis="wilcoxon_signed_rank",
                        contrast=contrast,
                        group=arm,
                        n=len(diff),
                        estimate=diff.median(),
                        statistic=w.statistic,
                        p_value=w.pvalue,
                    )
                )
        if study.design == "single_arm":
            across = ", ".join(study.visit_ids)
            for name, p in (("rm_anova", 0.0004), ("friedman", 0.0021)):
                rows.append(
                    _row(
                        outcome=outcome,
                        visit="",
                        analysis=name,
                        contrast=across,
                        group=study.arm_ids[0],
                        p_value=p,
                        note="complete cases",
                    )
                )
            continue
        ref, arm = study.arm_ids
        for visit in study.visits:
            a = _wide(analysis, outcome, arm)
            r = _wide(analysis, outcome, ref)
            for change in (False, True):
                if change and visit.id == base:
                    continue
                xa = (a[visit.id] - a[base] if change else a[visit.id]).dropna()
                xr = (r[visit.id] - r[base] if change else r[visit.id]).dropna()
                contrast = f"{arm} - {ref}" + (" (change from baseline)" if change else "")
                welch = stats.ttest_ind(xa, xr, equal_var=False)
                mw = stats.mannwhitneyu(xa, xr)
                for name, res in (("welch_t", welch), ("mann_whitney", mw)):
                    rows.append(
                        _row(
                            outcome=outcome,
                            visit=visit.id,
                            analysis=name,
                            contrast=contrast,
                            n=len(xa) + len(xr),
                            estimate=xa.mean() - xr.mean(),
                            statistic=res.statistic,
                            p_value=res.pvalue,
                        )
                    )
        primary = study.primary_visit.id
        # model rows: numbers chosen by hand so tests can check the rounding
        # torque in Nm gains, TUG seconds fall on a tenth of the scale; the standardised
        # difference divides by a baseline SD of 12 Nm and 1.5 s
        sign = 1.0 if outcome == "back_peak_torque" else -0.1
        sd = 12.0 if outcome == "back_peak_torque" else 1.5
        planned = outcome == study.analysis.primary.outcome
        ancova = {
            "estimate": sign * 8.04567,
            "ci_low": sign * 8.04567 - abs(sign) * 4.6,
            "ci_high": sign * 8.04567 + abs(sign) * 4.6,
        }
        rows.append(
            _row(
                outcome=outcome,
                visit=primary,
                analysis="ancova",
                contrast=f"{arm} - {ref}",
                n=14,
                se=abs(sign) * 2.1,
                df=11,
                p_value=0.00049,
                # the primary analysis: first of the testing strategy; else Holm (exploratory)
                p_adjusted=0.00049 if planned else 0.00098,
                flags="primary" if planned else "",
                **ancova,
                **_standardised(ancova, sd),
            )
        )
        mmrm = {
            "estimate": sign * 7.5,
            "ci_low": sign * 7.5 - abs(sign) * 5.2,
            "ci_high": sign * 7.5 + abs(sign) * 5.2,
        }
        rows.append(
            _row(
                outcome=outcome,
                visit=primary,
                analysis="mmrm",
                contrast=f"{arm} - {ref}",
                n=16,
                se=abs(sign) * 2.4,
                df=13.2,
                p_value=0.0234,
                note="MMRM value ~ baseline + arm * visit + age over post-baseline visits",
                **mmrm,
                **_standardised(mmrm, sd),
            )
        )
    frame = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    frame["study"] = study.id
    return frame


def model_fits_frame(study: Study, results: pd.DataFrame) -> pd.DataFrame:
    """``model_fits.csv`` of the MMRM rows in ``results``: one converged UN model per outcome."""
    rows = []
    for outcome in sorted(results.loc[results["analysis"] == "mmrm", "outcome"].unique()):
        row = dict.fromkeys(MODEL_FIT_COLUMNS, np.nan)
        row.update(
            study=study.id,
            outcome=outcome,
            analysis="mmrm",
            formula="value ~ baseline + arm * visit + age",
            visit_scope="post_baseline",
            visits=";".join(v.id for v in study.post_baseline),
            status="converged",
            converged=True,
            covariance="unstructured",
            covariance_tried="unstructured",
            iterations=3,
            method="REML",
            ddf="kenward-roger",
            ci_level=0.95,
            estimand=ESTIMAND_PARALLEL,
            analysis_set="full_analysis",
            note="",
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=list(MODEL_FIT_COLUMNS))


def parallel_inputs(test_selection: str = "auto", simulated: bool = True) -> dict:
    """Every input of the output stage for the parallel study."""
    study = parallel_study(test_selection, simulated)
    roster = participants_frame(study)
    analysis = analysis_frame(study, roster)
    results = results_frame(study, analysis)
    return {
        "study": study,
        "participants": roster,
        "analysis": analysis,
        "outcomes": outcomes_frame(),
        "descriptives": descriptives_frame(analysis),
        "results": results,
        "model_fits": model_fits_frame(study, results),
    }


def single_arm_inputs() -> dict:
    """Every input of the output stage for the single-arm study."""
    study = single_arm_study()
    roster = participants_frame(study, n_per_arm=10)
    analysis = analysis_frame(study, roster)
    outcomes = outcomes_frame()
    return {
        "study": study,
        "participants": roster,
        "analysis": analysis,
        "outcomes": outcomes,
        "descriptives": descriptives_frame(analysis),
        "results": results_frame(study, analysis),
        "model_fits": model_fits_frame(study, results_frame(study, analysis).iloc[:0]),
    }


def data_quality_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "file": ["participants.csv", "back.csv", "tug.csv"],
            "rows": [16, 32, 32],
            "problems": [0, 0, 1],
            "note": ["", "", "1 value outside 0-60 s set missing"],
        }
    )


def scoring_summary_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "instrument": ["back", "tug"],
            "outcome": ["back_peak_torque", "tug_time"],
            "n_scored": [30, 30],
            "n_missing": [2, 2],
            "algorithm": ["isometric peak", "stopwatch"],
        }
    )
