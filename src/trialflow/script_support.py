"""What every Snakemake script adapter needs: logging to the rule's log and clean failures."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from trialflow.errors import InputError

log = logging.getLogger("trialflow")


@contextmanager
def logged(log_path: str | Path) -> Iterator[logging.Logger]:
    """Send log records to the rule's log file and stderr; turn input errors into exit 1.

    An :class:`InputError` is a problem with the user's data, not a bug: its message (every
    file, row and column at fault) is printed without a traceback, and the script exits 1 so
    Snakemake stops the run and keeps earlier results.
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
