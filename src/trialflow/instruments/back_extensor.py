"""Back-extensor strength: scores and structure from ``definitions/back_extensor.yaml``."""

from trialflow.instruments._numeric import NumericInstrument

INSTRUMENT = NumericInstrument("back_extensor")
