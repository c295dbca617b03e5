"""Errors of the analysis package, kept apart so every module can raise them."""


class AnalysisStateError(ValueError):
    """A saved analysis snapshot has the wrong version or shape; the caller
    should log it and start a fresh analysis rather than continue from it."""


class UnknownAnalysisKeyError(KeyError):
    """`Analyser.payload()` was asked for a key that is not a publish key."""
