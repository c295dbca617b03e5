"""`GET /recordings/<uuid>.zip` and `/recordings/<uuid>.json` on the master's
web transport: downloads of the recordings the catalogue lists, and of their
analysis files, for the web app and for analysts.

Only what `index.json` lists is served — a name is looked up, never joined
to a path, so `../` and unknown names find nothing — and nothing else: no
directory listing, no hidden recordings, no in-progress ones, no other file
that happens to lie in LIVETIMING_RECORDINGS_DIR. Files are served by
Twisted's `static.File`, which answers `Range` requests, so the browser's
replay player can read a recording piece by piece. Read-only: GET and HEAD."""
import re
from pathlib import Path
from typing import Optional

from twisted.web.resource import NoResource, Resource
from twisted.web.static import File

from .. import config
from ..untrusted import Limits
from .catalogue import INDEX_NAME, analysis_path, load_index

DOWNLOAD = re.compile(r"([A-Za-z0-9_:-]{1,128})\.(zip|json)")
SUFFIX_RANGE = re.compile(rb"\s*-\s*([0-9]+)\s*")


def clamp_suffix_ranges(header: bytes, size: int) -> bytes:
    """`Range: bytes=-N` with N past the file's size means the whole file
    (RFC 9110 14.1.2); Twisted's `File` seeks before the start and fails
    with a 500 instead, so such a range is rewritten as `0-`."""
    unit, _, ranges = header.partition(b"=")
    if unit.strip().lower() != b"bytes":
        return header
    parts = []
    for part in ranges.split(b","):
        suffix = SUFFIX_RANGE.fullmatch(part)
        parts.append(b"0-" if suffix and int(suffix.group(1)) > size else part)
    return unit + b"=" + b",".join(parts)
TYPES = {"zip": "application/zip", "json": "application/json"}


class RecordingsResource(Resource):
    def __init__(self, extra: Optional[dict] = None, directory: Optional[Path] = None):
        super().__init__()
        self.directory = Path(directory) if directory is not None else config.directory("LIVETIMING_RECORDINGS_DIR")
        self._cached = (None, {})

    def index(self) -> dict:
        """index.json, read again only when it changed."""
        try:
            stamp = (self.directory / INDEX_NAME).stat().st_mtime_ns
        except OSError:
            return {}
        if self._cached[0] != stamp:
            self._cached = (stamp, load_index(self.directory, Limits.from_environment()))
        return self._cached[1]

    def file_for(self, name: str) -> Optional[Path]:
        """The file a download name stands for, or None."""
        found = DOWNLOAD.fullmatch(name)
        entry = self.index().get(found.group(1)) if found else None
        if entry is None or entry.get("hidden"):
            return None
        path = self.directory / entry["filename"]
        if found.group(2) == "json":
            if not entry.get("hasAnalysis"):
                return None
            path = analysis_path(path)
        return path if path.parent == self.directory and path.is_file() else None

    def getChild(self, name: bytes, request):
        if request.method not in (b"GET", b"HEAD") or request.postpath:
            return NoResource()
        path = self.file_for(name.decode("utf-8", "replace"))
        if path is None:
            return NoResource("No such recording.")
        ranges = request.getHeader(b"range")
        if ranges is not None:
            request.requestHeaders.setRawHeaders(b"range", [clamp_suffix_ranges(ranges, path.stat().st_size)])
        request.setHeader(b"access-control-allow-origin", b"*")
        request.setHeader(b"content-disposition", f'attachment; filename="{path.name}"'.encode("utf-8"))
        served = File(str(path))
        served.type, served.encoding = TYPES[path.suffix[1:]], None   # what File's own children get
        return served

    def render(self, request):
        return NoResource().render(request)
