"""Quadriceps strength and size: scores and structure from ``definitions/quadriceps.yaml``."""

from trialflow.instruments._numeric import NumericInstrument

INSTRUMENT = NumericInstrument("quadriceps")
