"""6 m gait speed: scores and structure from ``definitions/gait_speed.yaml``."""

from trialflow.instruments._numeric import NumericInstrument

INSTRUMENT = NumericInstrument("gait_speed")
