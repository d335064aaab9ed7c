"""Timed loaded standing: scores and structure from ``definitions/loaded_standing.yaml``."""

from trialflow.instruments._numeric import NumericInstrument

INSTRUMENT = NumericInstrument("loaded_standing")
