"""Timed Up and Go: scores and structure from ``definitions/tug.yaml``."""

from trialflow.instruments._numeric import NumericInstrument

INSTRUMENT = NumericInstrument("tug")
