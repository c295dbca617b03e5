"""Saving and loading an analyser's snapshot, so a restarted service carries
on where it stopped (components.md: saved every 60 s to
`LIVETIMING_ANALYSIS_DIR/<uuid>.json`). JSON only, never pickle: the files
may outlive the code and must not be able to run anything when read."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Union

from ..atomic import write_atomically
from .analyser import Analyser
from .errors import AnalysisStateError

__all__ = ["save", "load", "state_path", "AnalysisFileError"]

PathLike = Union[str, Path]


class AnalysisFileError(AnalysisStateError):
    """A saved analysis file cannot be used (unreadable, not JSON, or not a
    valid snapshot); the service logs it and starts a fresh analysis."""


def state_path(directory: PathLike, uuid: str) -> Path:
    """Where a service's analysis snapshot lives."""
    return Path(directory) / f"{uuid}.json"


def save(path: PathLike, analyser: Analyser) -> None:
    """Write the snapshot atomically (temporary file, then os.replace), so a
    crash mid-write leaves the previous file intact."""
    path = Path(path)
    text = json.dumps(analyser.dump(), allow_nan=False, separators=(",", ":"))
    write_atomically(path, text, mode=0o600, fsync=True)


def load(path: PathLike) -> Analyser:
    """The analyser saved at `path`. A missing file raises FileNotFoundError;
    anything unusable raises AnalysisFileError naming the file."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as error:  # UnicodeDecodeError and JSONDecodeError too
        raise AnalysisFileError(f"analysis file {path} cannot be read: {error}") from None
    try:
        return Analyser.load(data)
    except AnalysisStateError as error:
        raise AnalysisFileError(f"analysis file {path} is not a valid snapshot: {error}") from None
