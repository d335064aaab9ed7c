"""Generic numeric measures declared in the study config (type ``measures``)."""

from trialflow.instruments._numeric import DeclaredMeasures

INSTRUMENT = DeclaredMeasures()
