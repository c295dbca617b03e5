"""Polling an upstream URL every N seconds, backing off exponentially while it
fails (1, 2, 4, … s: `livetiming.backoff.FETCHER`), so a flaky timing provider
is neither hammered nor given up on."""
import math
from typing import Callable, Optional, Union

from twisted.internet import defer
from twisted.logger import Logger

from .. import untrusted
from ..backoff import FETCHER

MAX_BACKOFF = FETCHER.max
"""Never wait longer than this between attempts while failing."""


def http_get(url: str, reactor=None, headers: Optional[dict] = None, timeout: float = 30) -> defer.Deferred:
    """GET `url` with Twisted's Agent; fires with the body bytes, errbacks on
    connection errors and non-2xx responses."""
    from twisted.web.client import Agent, readBody
    from twisted.web.http_headers import Headers

    if reactor is None:
        from twisted.internet import reactor
    agent = Agent(reactor, connectTimeout=timeout)
    request_headers = Headers({k.encode(): [v.encode()] for k, v in (headers or {}).items()})
    request_headers.setRawHeaders(b"user-agent", [b"livetiming-core"])
    d = agent.request(b"GET", url.encode("utf-8"), request_headers)
    d.addTimeout(timeout, reactor)  # an upstream that accepts and never answers is a failure too

    def check(response):
        if not 200 <= response.code < 300:
            response.deliverBody(_Discard())
            raise FetchError(f"{url} answered HTTP {response.code}")
        return readBody(response)

    return d.addCallback(check)


class _Discard:
    def makeConnection(self, transport):
        pass

    def dataReceived(self, data):
        pass

    def connectionLost(self, reason):
        pass


class FetchError(Exception):
    """An upstream fetch failed (HTTP status or undecodable body)."""


URL = Union[str, bytes, Callable[[], Union[str, bytes]]]
"""A fetcher's URL: text, bytes (what plugins written for the original core
pass: "URLs passed to fetchers must be bytes"), or a callable returning either,
asked before every fetch (for URLs that carry a timestamp or a session)."""


def resolve_url(url: URL) -> str:
    """The URL to fetch now, as text; raises FetchError for anything else."""
    if callable(url):
        url = url()
    if isinstance(url, (bytes, bytearray)):
        try:
            return bytes(url).decode("utf-8")
        except UnicodeDecodeError as error:
            raise FetchError(f"URL {url!r:.80} is not UTF-8: {error}") from None
    if isinstance(url, str):
        return url
    raise FetchError(f"URL must be str or bytes (or a callable returning one), not {type(url).__name__}")


class Fetcher:
    """Calls `callback(data)` with each successful fetch of `url`, every `interval` seconds."""

    log = Logger()

    def __init__(self, url: URL, callback: Callable, interval: float, reactor=None,
                 fetch: Optional[Callable] = None, max_backoff: float = MAX_BACKOFF, timeout: float = 30):
        if reactor is None:
            from twisted.internet import reactor
        self.url = url
        self.callback = callback
        self.interval = interval
        self.reactor = reactor
        self.max_backoff = max_backoff
        self._backoff = FETCHER.capped(max_backoff)
        self.failures = 0
        self._fetch = fetch or (lambda url: http_get(url, self.reactor, timeout=timeout))
        self._call = None
        self.running = False
        self._generation = 0  # a fetch from before a stop() must not deliver or reschedule

    def start(self) -> None:
        self.running = True
        self._generation += 1
        self._run()

    def stop(self) -> None:
        self.running = False
        self._generation += 1
        if self._call is not None and self._call.active():
            self._call.cancel()

    def next_delay(self) -> float:
        """`interval` while healthy; 1, 2, 4, … s (at most `max_backoff`)
        after the 1st, 2nd, 3rd, … failure in a row (the plugin API)."""
        if self.failures == 0:
            return self.interval
        return self._backoff.delay(self.failures - 1)

    def decode(self, body: bytes):
        return body.decode("utf-8", errors="replace")

    def _run(self) -> None:
        if not self.running:
            return
        generation = self._generation
        d = defer.maybeDeferred(lambda: self._fetch(resolve_url(self.url)))
        d.addCallback(self.decode)
        d.addCallbacks(self._succeeded, self._failed, callbackArgs=(generation,), errbackArgs=(generation,))
        d.addBoth(self._schedule, generation)

    def _succeeded(self, data, generation: int) -> None:
        if generation != self._generation:
            return
        self.failures = 0
        try:
            self.callback(data)
        except Exception:
            self.log.failure("Fetcher callback for {url} raised", url=self.url)

    def _failed(self, failure, generation: int) -> None:
        if generation != self._generation:
            return
        self.failures += 1
        self.log.warn("Fetching {url} failed ({n} in a row): {error}; retrying in {delay:.0f}s",
                      url=self.url, n=self.failures, error=failure.getErrorMessage(), delay=self.next_delay())

    def _schedule(self, _result, generation: int) -> None:
        if self.running and generation == self._generation:
            self._call = self.reactor.callLater(self.next_delay(), self._run)


class JSONFetcher(Fetcher):
    """Delivers the decoded JSON document. The body comes from outside, so it
    is read with `untrusted.loads` (orjson; bounded size and depth). As with
    simplejson before: a leading UTF-8 BOM is skipped and NaN and ±Infinity
    are not JSON (a failed fetch); but integers beyond 64 bits are read as
    floats (orjson)."""

    limits: Optional[untrusted.Limits] = None
    """`untrusted.Limits.from_environment()` unless set."""

    def decode(self, body: bytes):
        if self.limits is None:
            self.limits = untrusted.Limits.from_environment()
        if body.startswith(b"\xef\xbb\xbf"):
            body = body[3:]
        try:
            value = untrusted.loads(body, f"{self.url!r:.80}", self.limits)
        except ValueError as error:
            raise FetchError(f"{self.url!r:.80} did not return JSON: {error}") from None
        if (b"NaN" in body or b"Infinity" in body) and _has_non_finite(value):
            raise FetchError(f"{self.url!r:.80} did not return JSON: NaN or Infinity")
        return value


def _has_non_finite(value) -> bool:
    """Whether a decoded JSON value holds NaN or ±Infinity (no recursion)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class MultiLineFetcher(Fetcher):
    """Delivers the body as a list of lines."""

    def decode(self, body: bytes):
        return super().decode(body).splitlines()
