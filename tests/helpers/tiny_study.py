"""A tiny two-arm study whose numbers are worked by hand, and a runner for the Snakemake
workflow of this checkout on it in a temporary directory."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """
studies:
  tiny:
    title: Tiny two-arm study
    design: parallel
    data_dir: raw/tiny
    arms: [{id: usual, label: Usual care}, {id: training, label: Training}]
    visits:
      - {id: baseline, label: Baseline, week: 0, role: baseline}
      - {id: week8, label: Week 8, week: 8, role: end_of_treatment}
    instruments:
      tug: {type: tug}
      grip:
        type: measures
        measures:
          grip_kg: {label: Grip strength, unit: kg, higher_is_better: true, min: 0, max: 100}
    covariates: [age]
    analysis:
      primary: {outcome: tug_time, visit: week8, method: ancova}
"""

PARTICIPANTS = """participant_id,arm,age,sex,height_cm,weight_kg,last_visit,withdrawal_reason
U1,usual,60,F,160,60,week8,
U2,usual,62,F,158,64,week8,
U3,usual,64,F,162,66,week8,
U4,usual,66,F,156,58,baseline,moved away
T1,training,59,F,161,61,week8,
T2,training,61,F,157,63,week8,
T3,training,63,F,159,65,week8,
T4,training,65,F,163,67,week8,
"""

# TUG seconds. usual: baseline 10, 12, 14, 11; week 8: 10, 11, 15 (U4 dropped out).
# training: baseline 12, 13, 11, 14; week 8: 10, 10, 9, 12.
TUG = """participant_id,visit,time_s
U1,baseline,10
U1,week8,10
U2,baseline,12
U2,week8,11
U3,baseline,14
U3,week8,15
U4,baseline,11
T1,baseline,12
T1,week8,10
T2,baseline,13
T2,week8,10
T3,baseline,11
T3,week8,9
T4,baseline,14
T4,week8,12
"""

GRIP = {  # one file per participant, as a dynamometer exports them
    "T1.csv": "participant_id,visit,grip_kg\nT1,baseline,20\nT1,week8,24\n",
    "T2.csv": "participant_id,visit,grip_kg\nT2,baseline,22\nT2,week8,25\n",
    "U1.csv": "participant_id,visit,grip_kg\nU1,baseline,21\nU1,week8,21\n",
    "U2.csv": "participant_id,visit,grip_kg\nU2,baseline,19\nU2,week8,\n",
}


def run_snakemake(
    workdir: Path, *args: str, cores: int = 2, snakefile: Path = ROOT / "Snakefile", env=None
) -> subprocess.CompletedProcess:
    """The workflow (of this checkout, unless ``snakefile``) run on ``workdir``."""
    command = [sys.executable, "-m", "snakemake", "-s", str(snakefile)]
    command += ["--directory", str(workdir), "--cores", str(cores), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)


def write_tiny_study(workdir: Path) -> None:
    raw = workdir / "raw" / "tiny"
    (raw / "grip").mkdir(parents=True)
    (workdir / "config.yaml").write_text(textwrap.dedent(CONFIG))
    (raw / "participants.csv").write_text(PARTICIPANTS)
    (raw / "tug.csv").write_text(TUG)
    for name, text in GRIP.items():
        (raw / "grip" / name).write_text(text)
