"""Saving and loading an analyser's snapshot, so a restarted service carries
on where it stopped (components.md: saved every 60 s to
`LIVETIMING_ANALYSIS_DIR/<uuid>.json`). JSON only, never pickle: the files
may outlive the code and must not be able to run anything when read.

A snapshot is read as untrusted data (livetiming.untrusted: bounded size
and nesting depth). One that cannot be used is moved aside to
`<uuid>.json.corrupt-<UTC time>` before the error is raised: the service
then starts a fresh analysis, and its next save must not overwrite what may
be the only copy of a long race's analysis (someone can still look at it)."""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional, Union

from twisted.logger import Logger

from ..atomic import write_atomically
from ..untrusted import Limits, LimitSettingError, UntrustedDataError, load_json_file
from .analyser import Analyser
from .errors import AnalysisStateError

__all__ = ["save", "load", "state_path", "set_aside", "AnalysisFileError"]

PathLike = Union[str, Path]
CORRUPT_SUFFIX = ".corrupt-"

log = Logger()


class AnalysisFileError(AnalysisStateError):
    """A saved analysis file cannot be used (unreadable, not JSON, too large
    or deep, or not a valid snapshot); the service logs it and starts a
    fresh analysis. `moved_to` is where the file was set aside (None if it
    could not be moved)."""

    def __init__(self, message: str, moved_to: Optional[Path] = None):
        super().__init__(message)
        self.moved_to = moved_to


def state_path(directory: PathLike, uuid: str) -> Path:
    """Where a service's analysis snapshot lives."""
    return Path(directory) / f"{uuid}.json"


def save(path: PathLike, analyser: Analyser) -> None:
    """Write the snapshot atomically (temporary file, then os.replace), so a
    crash mid-write leaves the previous file intact."""
    path = Path(path)
    text = json.dumps(analyser.dump(), allow_nan=False, separators=(",", ":"))
    write_atomically(path, text, mode=0o600, fsync=True)


def load(path: PathLike, limits: Optional[Limits] = None) -> Analyser:
    """The analyser saved at `path`. A missing file raises FileNotFoundError;
    anything unusable is moved aside (`set_aside`) and raises
    AnalysisFileError naming the file. `limits` default to the environment's."""
    path = Path(path)
    try:
        limits = limits if limits is not None else Limits.from_environment()
    except LimitSettingError as error:   # a setting, not the file: leave the file alone
        raise AnalysisFileError(f"analysis file {path} not read: {error}") from None
    try:
        data = load_json_file(path, f"analysis file {path}", limits)
    except FileNotFoundError:
        raise
    except OSError as error:
        raise AnalysisFileError(f"analysis file {path} cannot be read: {error.strerror or error}") from None
    except UntrustedDataError as error:
        raise _unusable(path, str(error)) from None
    try:
        return Analyser.load(data)
    except (AnalysisStateError, TypeError, ValueError, KeyError, IndexError, AttributeError) as error:
        # a snapshot of the right version can still hold values of the wrong shape
        raise _unusable(path, f"analysis file {path} is not a valid snapshot: {error}") from None


def _unusable(path: Path, message: str) -> AnalysisFileError:
    moved_to = set_aside(path)
    if moved_to is not None:
        message = f"{message} (moved aside to {moved_to.name})"
    return AnalysisFileError(message, moved_to)


def set_aside(path: PathLike, now: Optional[datetime] = None) -> Optional[Path]:
    """Rename an unusable snapshot to `<name>.corrupt-<UTC time>` (never
    replacing an earlier one) and warn; the new name, or None (with an
    error logged) when it cannot be renamed."""
    path = Path(path)
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}{CORRUPT_SUFFIX}{stamp}")
    suffix = 0
    while target.exists() or target.is_symlink():
        suffix += 1
        target = path.with_name(f"{path.name}{CORRUPT_SUFFIX}{stamp}-{suffix}")
    try:
        os.rename(path, target)
    except OSError as error:
        log.error("Cannot move the unusable analysis file {path} aside: {error}", path=str(path),
                  error=error.strerror or str(error))
        return None
    log.warn("Moved the unusable analysis file {path} aside to {target}", path=str(path), target=str(target))
    return target
