"""Spinal mobility (inclinometer): scores and structure from ``definitions/spinal_mobility.yaml``."""

from trialflow.instruments._numeric import NumericInstrument

INSTRUMENT = NumericInstrument("spinal_mobility")
