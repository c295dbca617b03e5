"""Where a recording's files come from: a finished ZIP or an in-progress
directory, behind one small interface (`names`, `read`, `size`, `close`).

ZIP members are read with one bounded decompression each, using the
offsets from the central directory: `zipfile.ZipFile.read` costs about three
times as much per small member, and a day-long recording has 86,400 of them.
The file is read ahead 64 KiB at a time (`os.pread`): members are stored
in time order, so reading a recording through costs one system call per few
hundred frames rather than one per frame.

Both sources are read under `livetiming.untrusted` limits: names and
declared sizes are checked when the source is opened (`check_archive`),
and no read produces more than a member's declared size plus one byte
(`inflate`, `read_capped`), so a ZIP bomb or a huge file costs no memory.
"""
import functools
import os
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Dict, List, Union

from ..untrusted import Limits, UntrustedDataError, check_archive, inflate, read_capped
from .errors import FrameError, RecordingError, unsafe

_LOCAL_HEADER = struct.Struct("<4s22xHH")   # signature ... name length, extra length
_LOCAL_HEADER_SIZE = 30
_LOCAL_SIGNATURE = b"PK\x03\x04"
_SLACK = 64   # bytes read beyond the name in the hope of covering the extra field
_READ_AHEAD = 64 * 1024


class ZipSource:
    """The members of a finished recording ZIP.

    zipfile parses the central directory; only what reading needs is kept,
    as one tuple per member (a ZipInfo per member would hold ~55 MB for a
    day-long recording)."""

    in_progress = False

    def __init__(self, path: Path, limits: Limits):
        self.path = Path(path)
        try:
            with zipfile.ZipFile(self.path) as archive:
                infos = archive.infolist()
                # orig_filename: zipfile cuts a name at a NUL character
                check_archive(((info.orig_filename, info.compress_size, info.file_size)
                               for info in infos), str(self.path), limits)
                self._entries: Dict[str, tuple] = {
                    info.filename: (info.header_offset, info.compress_size, info.file_size,
                                    info.CRC, info.compress_type, info.flag_bits,
                                    len(info.orig_filename.encode("utf-8")))
                    for info in infos}
            self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except FileNotFoundError:
            raise RecordingError(f"{self.path}: no such file") from None
        except UntrustedDataError as error:   # before ValueError, which it is
            raise unsafe(error) from None
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, UnicodeDecodeError,
                ValueError, EOFError) as error:
            # a damaged ZIP can fail in any of these ways inside zipfile
            raise RecordingError(f"{self.path}: not a recording (not a valid ZIP file: "
                                 f"{error})") from None
        except OSError as error:
            raise _unreadable(self.path, error) from None
        self._file_size = os.fstat(self._fd).st_size
        self._pread = functools.partial(_pread, self._fd)
        self._buffer = memoryview(b"")   # the file from self._buffer_start on, as last read
        self._buffer_start = 0

    def names(self) -> List[str]:
        return list(self._entries)

    def size(self) -> int:
        return self._file_size

    def read(self, name: str) -> bytes:
        entry = self._entries.get(name)
        if entry is None:
            raise FrameError(f"{self.path}: {name} is missing", name)
        offset, compressed_size, size, crc, method, flags, name_length = entry
        try:
            if flags & 0x1:
                raise FrameError(f"{self.path}: {name} is encrypted", name)
            # at most size + 1 bytes, whatever the member holds: more is a lie
            data = inflate(self._member_data(offset, compressed_size, name_length), method, size)
        except (zlib.error, zipfile.BadZipFile, OSError, NotImplementedError, EOFError,
                ValueError, RuntimeError) as error:
            raise FrameError(f"{self.path}: {name} is damaged: {error}", name) from None
        if len(data) != size or zlib.crc32(data) != crc:
            raise FrameError(f"{self.path}: {name} is damaged (size or CRC mismatch)", name)
        return data

    def _member_data(self, offset: int, compressed_size: int, name_length: int) -> memoryview:
        """The member's raw bytes, found through its local header."""
        chunk = self._read(offset, _LOCAL_HEADER_SIZE + name_length + _SLACK + compressed_size)
        if len(chunk) < _LOCAL_HEADER_SIZE:
            raise zipfile.BadZipFile("truncated local header")
        signature, name_length, extra_length = _LOCAL_HEADER.unpack_from(chunk)
        if signature != _LOCAL_SIGNATURE:
            raise zipfile.BadZipFile("bad local header signature")
        start = _LOCAL_HEADER_SIZE + name_length + extra_length
        end = start + compressed_size
        if end > len(chunk):
            chunk = self._read(offset + start, compressed_size)
            start, end = 0, compressed_size
        data = chunk[start:end]   # no copy: decompression reads it once
        if len(data) != compressed_size:
            raise zipfile.BadZipFile("member data is truncated")
        return data

    def _read(self, offset: int, size: int) -> memoryview:
        """Up to `size` bytes of the file at `offset`, from the read-ahead
        buffer (refilled with at least _READ_AHEAD bytes when it misses)."""
        start = offset - self._buffer_start
        if start < 0 or start + size > len(self._buffer):
            self._buffer = memoryview(self._pread(max(size, _READ_AHEAD), offset))
            self._buffer_start = offset
            start = 0
        return self._buffer[start:start + size]

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self._buffer = memoryview(b"")


class DirectorySource:
    """The files of an in-progress recording directory (see writer.py)."""

    in_progress = True

    def __init__(self, path: Path, limits: Limits):
        self.path = Path(path)
        self._limits = limits
        try:
            self._entries = {entry.name: entry.stat().st_size for entry in os.scandir(self.path)
                             if entry.is_file() and not entry.name.startswith(".")}
            check_archive(((name, size, size) for name, size in self._entries.items()),
                          str(self.path), limits)
        except UntrustedDataError as error:
            raise unsafe(error) from None
        except OSError as error:
            raise _unreadable(self.path, error) from None

    def names(self) -> List[str]:
        return list(self._entries)

    def size(self) -> int:
        return sum(self._entries.values())

    def read(self, name: str) -> bytes:
        try:
            with open(os.path.join(self.path, name), "rb") as handle:
                return read_capped(handle, f"{self.path}: {name}", self._limits, "member_bytes",
                                   os.fstat(handle.fileno()).st_size)
        except UntrustedDataError as error:
            raise unsafe(error) from None
        except FileNotFoundError:
            raise FrameError(f"{self.path}: {name} is missing", name) from None
        except OSError as error:
            raise FrameError(f"{self.path}: {name} cannot be read: {error.strerror or error}",
                             name) from None

    def close(self) -> None:
        pass


def _unreadable(path: Path, error: OSError) -> RecordingError:
    return RecordingError(f"{path}: cannot be read: {error.strerror or error}")


def _pread(fd: int, size: int, offset: int) -> bytes:
    """os.pread where there is one (not on Windows)."""
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)


if hasattr(os, "pread"):
    _pread = os.pread  # noqa: F811 - same signature, one system call


def open_source(path: Path, limits: Limits) -> Union[ZipSource, DirectorySource]:
    """The source for a path: a directory is an in-progress recording, anything else a ZIP."""
    path = Path(path)
    if path.is_dir():
        return DirectorySource(path, limits)
    return ZipSource(path, limits)
