"""Proprioception (joint-position error): scores and structure from ``definitions/proprioception.yaml``."""

from trialflow.instruments._numeric import NumericInstrument

INSTRUMENT = NumericInstrument("proprioception")
