"""Pain VAS: scores and structure from ``definitions/vas_pain.yaml``."""

from trialflow.instruments._numeric import NumericInstrument

INSTRUMENT = NumericInstrument("vas_pain")
