"""What every Snakemake script adapter needs: logging to the rule's log and clean failures."""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from trialflow.config import Study
from trialflow.errors import InputError
from trialflow.io import read_parquet
from trialflow.stage_config import study_from_params

log = logging.getLogger("trialflow")


@contextmanager
def logged(log_path: str | Path) -> Iterator[logging.Logger]:
    """Send log records to the rule's log file and stderr; turn input errors into exit 1.

    An :class:`InputError` is a problem with the user's data, not a bug: its message (every
    file, row and column at fault) is printed without a traceback, and the script exits 1 so
    Snakemake stops the run and keeps earlier results.

    The block is a job's whole script: when it ends, so does the process. Every object then
    alive is frozen (:func:`gc.freeze`), which spares the interpreter's last collection on
    the way out, a walk over everything pandas, SciPy and matplotlib built: 0.2 to 0.3 s per
    job, on one core, between a job's end and the next job's start.
    """
    path = Path(log_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handlers = [logging.FileHandler(path, mode="w"), logging.StreamHandler(sys.stderr)]
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(message)s", handlers=handlers, force=True
    )
    logging.captureWarnings(True)
    try:
        yield log
    except InputError as error:
        log.error("%s", error)
        sys.exit(1)
    except Exception:
        log.exception("unexpected error")
        raise
    gc.freeze()


def study_of(smk) -> Study:
    """The :class:`Study` a Snakemake job works on, rebuilt from the job's ``params.study``
    (its stage's config slice), never from the global config: what a job reads is what
    Snakemake compares when it decides whether to rerun it."""
    return study_from_params(smk.params.study)


def read_named_inputs(inputs, names: Iterable[str]) -> dict[str, pd.DataFrame]:
    """Read a job's standard named inputs, each with the reader its format needs.

    ``participants`` comes from the ``validated`` directory; ``results`` and ``model_fits``
    keep their contract's types; parquet and other CSV inputs are read as they are.
    """
    frames = {}
    for name in names:
        if name == "participants":
            frames[name] = read_parquet(Path(inputs.validated) / "participants.parquet")
        elif name == "results":
            # imported here: the statistics stack costs a second to import, and most jobs
            # (validate, score, assemble) never read results
            from trialflow.stats.results import read_results_csv

            frames[name] = read_results_csv(inputs.results)
        elif name == "model_fits":
            from trialflow.stats.results import read_model_fits_csv

            frames[name] = read_model_fits_csv(inputs.model_fits)
        elif str(inputs[name]).endswith(".parquet"):
            frames[name] = read_parquet(inputs[name])
        else:
            frames[name] = pd.read_csv(inputs[name])
    return frames
