"""Atomic file replacement: write a temporary file beside the target, then
rename it over the target, so readers and crashes never see a torn file.

The one home of that rule for every writer (recording frames and ZIPs,
analysis files, the catalogue's index and rewritten recordings, service
state files): the temporary file is `.<name>.<random>.tmp` in the target's
directory (`is_temporary` tells leftovers of a killed process), and it is
removed again whatever goes wrong."""
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Optional, Union

PathLike = Union[str, Path]

TEMP_SUFFIX = ".tmp"


def is_temporary(name: str) -> bool:
    """Whether a file name is one of our temporary files (left by a process
    killed mid-write; safe to delete when nobody writes the directory)."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


@contextmanager
def atomic_file(path: PathLike, mode: int = 0o644, fsync: bool = False,
                check: Optional[Callable[[Path], None]] = None) -> Iterator[BinaryIO]:
    """A binary file that replaces `path` when the `with` block ends without
    an exception; on any exception `path` is left as it was.

    Files are world-readable by default (mkstemp would leave 0600):
    recordings, their index and analysis files are public. `fsync` also
    survives a power loss, at a cost (the file and its directory entry are
    synced). `check(temporary)` runs on the complete, closed temporary file
    before it replaces `path`; raising there leaves `path` unchanged."""
    path = Path(path)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            if fsync:
                os.fsync(handle.fileno())
        if check is not None:
            check(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        unlink_quietly(temporary)
        raise
    if fsync:
        fsync_directory(path.parent)


def write_atomically(path: PathLike, data: Union[str, bytes], mode: int = 0o644, fsync: bool = False) -> None:
    """Replace `path` with `data` (text is written as UTF-8); see `atomic_file`."""
    with atomic_file(path, mode, fsync) as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)


def fsync_directory(directory: PathLike) -> None:
    """Sync a directory's entries (a rename is durable only then); best effort:
    some file systems cannot open or sync a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def unlink_quietly(path: PathLike) -> None:
    """Remove a file that may already be gone (clean-up must not mask the
    error that caused it)."""
    try:
        os.unlink(path)
    except OSError:
        pass
