"""Asking the master which relay to use: `GET <master>/relays`.

The answer comes from the network, so it is read bounded (at most
`MAX_ANSWER` bytes, parsed with `untrusted.loads`) and checked entry by
entry with the relay list's own rules (`relay_book.check_report`); an entry
that breaks them is skipped rather than trusted. The choice itself is
`relay_book.pick_least_loaded`, the one rule the web page shares.

There are two ways to ask: `pick_relay` blocks (for scripts and the start of
a command-line tool), `fetch_listing_async`/`pick_relay_async` return a
Deferred (for code already running in the reactor, such as the
subscriber re-picking after its relay died)."""
import random
import urllib.error
import urllib.request
from typing import Dict, Optional
from urllib.parse import urlparse, urlunparse

from ..orchestration.relay_book import ReportError, check_report, pick_least_loaded
from ..untrusted import Limits, UntrustedDataError, loads

MAX_ANSWER = 256 * 1024
"""Bytes: the largest `/relays` answer read (1000 relays fit many times over)."""
TIMEOUT = 5.0
"""Seconds to wait for the master's answer by default."""

_LIMITS = Limits(json_bytes=MAX_ANSWER, json_depth=8)


class RelayListError(Exception):
    """The master's relay list could not be had: the master is unreachable,
    answered with an HTTP error, or said something that is not a relay list.
    The message is one line saying which."""


def master_urls(master_http_url: str) -> "tuple[str, str]":
    """(the `/relays` URL, the master's own WebSocket URL) for a master given
    as `http(s)://host:port` (a path, if any, is replaced). RelayListError
    for anything but an http or https URL with a host."""
    try:
        parsed = urlparse(master_http_url.strip())
        parsed.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as error:
        raise RelayListError(f"master URL {master_http_url!r} is malformed: {error}") from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise RelayListError(f"master URL {master_http_url!r} must be http://host:port or https://host:port")
    ws_scheme = "wss" if parsed.scheme == "https" else "ws"
    relays = urlunparse((parsed.scheme, parsed.netloc, "/relays", "", "", ""))
    ws = urlunparse((ws_scheme, parsed.netloc, "/ws", "", "", ""))
    return relays, ws


def parse_answer(body: bytes) -> Dict[str, int]:
    """{relay url: client count} from a `/relays` answer
    (`{"args": [{url: count, ...}]}`); malformed entries are left out.
    RelayListError when the answer as a whole has another shape."""
    try:
        answer = loads(body, "the master's relay list", _LIMITS)
    except UntrustedDataError as error:
        raise RelayListError(str(error)) from None
    args = answer.get("args") if isinstance(answer, dict) else None
    if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], dict):
        raise RelayListError('the master\'s relay list is not {"args": [{relay url: client count, ...}]}')
    listing = {}
    for url, clients in args[0].items():
        try:
            check_report(url, clients)
        except ReportError:
            continue
        listing[url] = clients
    return listing


def fetch_listing(master_http_url: str, timeout: float = TIMEOUT) -> Dict[str, int]:
    """The master's current relay listing (blocking). RelayListError on failure."""
    relays_url, _ = master_urls(master_http_url)
    request = urllib.request.Request(relays_url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) checked above
            body = response.read(MAX_ANSWER + 1)
    except urllib.error.HTTPError as error:
        raise RelayListError(f"{relays_url} answered HTTP {error.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise RelayListError(f"cannot read {relays_url}: {reason}") from None
    if len(body) > MAX_ANSWER:
        raise RelayListError(f"{relays_url} answered more than {MAX_ANSWER} bytes")
    return parse_answer(body)


def pick_relay(master_http_url: str, timeout: float = TIMEOUT, rng: Optional[random.Random] = None) -> str:
    """The WebSocket URL of the master's least-loaded relay (ties broken at
    random), or the master's own `ws(s)://host:port/ws` when it lists none.
    Blocking; RelayListError when the list cannot be had."""
    _, master_ws = master_urls(master_http_url)
    return pick_least_loaded(fetch_listing(master_http_url, timeout), master_ws, rng)


def fetch_listing_async(master_http_url: str, timeout: float = TIMEOUT, reactor=None):
    """`fetch_listing` as a Deferred (treq, in the running reactor); it fails
    with RelayListError."""
    import treq
    from twisted.internet.defer import Deferred, inlineCallbacks
    from twisted.internet.protocol import Protocol

    relays_url, _ = master_urls(master_http_url)
    if reactor is None:
        from twisted.internet import reactor

    @inlineCallbacks
    def fetch():
        try:
            response = yield treq.get(relays_url, timeout=timeout, reactor=reactor,
                                      headers={"Accept": ["application/json"]})
        except Exception as error:  # treq/Twisted raise many types for "could not connect"
            raise RelayListError(f"cannot read {relays_url}: {error.__class__.__name__}: {error}") from None
        if response.code != 200:
            response.deliverBody(Protocol())  # read and dropped, so the connection is released
            raise RelayListError(f"{relays_url} answered HTTP {response.code}")
        chunks, size = [], [0]

        def collect(data: bytes) -> None:
            size[0] += len(data)
            if size[0] > MAX_ANSWER:
                raise RelayListError(f"{relays_url} answered more than {MAX_ANSWER} bytes")
            chunks.append(data)

        try:
            yield treq.collect(response, collect)
        except RelayListError:
            raise
        except Exception as error:
            raise RelayListError(f"reading {relays_url} failed: {error}") from None
        return parse_answer(b"".join(chunks))

    result: Deferred = fetch()
    return result


def pick_relay_async(master_http_url: str, timeout: float = TIMEOUT, rng: Optional[random.Random] = None,
                     reactor=None):
    """`pick_relay` as a Deferred; it fails with RelayListError."""
    _, master_ws = master_urls(master_http_url)
    return fetch_listing_async(master_http_url, timeout, reactor).addCallback(
        lambda listing: pick_least_loaded(listing, master_ws, rng))

