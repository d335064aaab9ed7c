"""Knee range of motion: scores and structure from ``definitions/knee_rom.yaml``."""

from trialflow.instruments._numeric import NumericInstrument

INSTRUMENT = NumericInstrument("knee_rom")
