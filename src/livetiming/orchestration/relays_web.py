"""`GET /relays` on the master's web transport: a Twisted resource that
Crossbar's router worker instantiates (web service type `resource`).

The relay monitor runs in a process of its own and writes its book to
`relays.json` in the node directory, which is the router worker's working
directory; this resource reads it (again only when the file changed) and
applies the expiry itself, so a monitor that died never leaves dead relays
listed."""
import json
import os
import time
from typing import Callable, Optional

from twisted.web.resource import Resource

from .. import untrusted
from .relay_book import RelayBook, http_answer

MAX_FILE = 1024 * 1024


class RelaysResource(Resource):
    isLeaf = True

    def __init__(self, extra: Optional[dict] = None, clock: Callable[[], float] = time.time):
        super().__init__()
        self.path = (extra or {}).get("file", "relays.json")
        self.clock = clock
        self._cached = (None, RelayBook())

    def book(self) -> RelayBook:
        try:
            stamp = os.stat(self.path).st_mtime_ns
        except OSError:
            return RelayBook()
        if self._cached[0] != stamp:
            limits = untrusted.Limits(json_bytes=MAX_FILE)
            try:
                data = untrusted.load_json_file(self.path, "the relay list", limits)
            except (OSError, untrusted.UntrustedDataError):
                data = None
            self._cached = (stamp, RelayBook.from_json(data))
        return self._cached[1]

    def render_GET(self, request) -> bytes:
        body = json.dumps(http_answer(self.book().listing(self.clock())), separators=(",", ":"))
        request.setHeader(b"content-type", b"application/json; charset=utf-8")
        request.setHeader(b"access-control-allow-origin", b"*")
        request.setHeader(b"cache-control", b"no-store")
        return body.encode("utf-8")

    def render_HEAD(self, request) -> bytes:
        return self.render_GET(request)
