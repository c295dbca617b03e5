"""Atomic file replacement: write a temporary file beside the target, then
rename it over the target, so readers and crashes never see a torn file."""
import os
import tempfile
from pathlib import Path
from typing import Union

PathLike = Union[str, Path]


def write_atomically(path: PathLike, data: Union[str, bytes], mode: int = 0o644, fsync: bool = False) -> None:
    """Replace `path` with `data`. Files are world-readable by default (mkstemp
    would leave 0600): recordings' index and analysis files are public.
    `fsync` also survives a power loss, at a cost."""
    path = Path(path)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            if fsync:
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
