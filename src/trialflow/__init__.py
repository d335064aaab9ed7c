"""trialflow: per-participant clinical-trial data to the tables, figures and report of a trial."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("trialflow")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
