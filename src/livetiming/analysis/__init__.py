"""Analysis of a service's timing states: static data, drivers, laps and
stints, messages and flag periods (protocol.md §6).

A functional core: plain classes over plain data, no Twisted. The service
feeds an `Analyser` every state and publishes the keys it reports changed;
`livetiming-analysis` replays a recording through the same class.
"""
from .analyser import DUMP_VERSION, Analyser
from .errors import AnalysisStateError, UnknownAnalysisKeyError
from .persistence import AnalysisFileError

__all__ = ["Analyser", "AnalysisStateError", "AnalysisFileError", "UnknownAnalysisKeyError",
           "DUMP_VERSION"]
