"""Which relays the master lists, and how loaded each is: the one home of the
relay list's rules (what a report may say, when a silent relay is dropped,
the shape clients parse, the least-loaded pick).

The relay monitor (`relay_monitor`) feeds reports into a `RelayBook` and
writes it to the node directory; the master's `/relays` resource
(`relays_web`) and the `livetiming.relays.list` procedure answer from it;
clients pick a relay with `pick_least_loaded`. Time comes in as an argument,
so the rules are tested without a clock."""
import random
import re
from dataclasses import dataclass
from typing import Dict, Mapping, Optional

EXPIRY = 300.0
"""Seconds after its last report that a relay leaves the list (5 minutes)."""
REPORT_INTERVAL = 60.0
"""Seconds between a relay's reports."""
MAX_URL = 512
MAX_CLIENTS = 10_000_000
MAX_RELAYS = 1000
"""A bound on the list, whatever keys leak: the oldest entry makes room."""
RELAY_URL = re.compile(r"wss?://[^\s/?#]+(?:/[^\s?#]*)?")


class ReportError(ValueError):
    """A relay's report is malformed; the message says which part."""


def check_report(url, clients) -> None:
    """A report names a WebSocket URL clients can open and a client count."""
    if not isinstance(url, str) or len(url) > MAX_URL or not RELAY_URL.fullmatch(url):
        raise ReportError(f"a relay's public URL is a ws:// or wss:// URL of at most {MAX_URL} characters")
    if isinstance(clients, bool) or not isinstance(clients, int) or not 0 <= clients <= MAX_CLIENTS:
        raise ReportError(f"a relay's client count is an integer from 0 to {MAX_CLIENTS}")


@dataclass(frozen=True)
class Entry:
    clients: int
    seen: float
    """When the last report came (seconds since the epoch)."""


class RelayBook:
    """The relays that reported within the expiry, by public URL."""

    def __init__(self, expiry: float = EXPIRY, entries: Optional[Mapping[str, Entry]] = None):
        self.expiry = expiry
        self.entries: Dict[str, Entry] = dict(entries or {})

    def report(self, url, clients, now: float) -> None:
        check_report(url, clients)
        self.entries.pop(url, None)
        self.entries[url] = Entry(clients, now)
        while len(self.entries) > MAX_RELAYS:
            oldest = min(self.entries, key=lambda key: self.entries[key].seen)
            del self.entries[oldest]

    def expire(self, now: float) -> bool:
        """Drop relays silent for longer than the expiry; True when any went."""
        silent = [url for url, entry in self.entries.items() if now - entry.seen > self.expiry]
        for url in silent:
            del self.entries[url]
        return bool(silent)

    def listing(self, now: float) -> Dict[str, int]:
        """{relay url: client count} of the relays heard from within the expiry."""
        return {url: entry.clients for url, entry in self.entries.items() if now - entry.seen <= self.expiry}

    def to_json(self) -> dict:
        return {"expiry": self.expiry,
                "relays": {url: {"clients": entry.clients, "seen": entry.seen} for url, entry in self.entries.items()}}

    @classmethod
    def from_json(cls, data, expiry: Optional[float] = None) -> "RelayBook":
        """The book a monitor wrote (malformed entries are skipped: the file is
        only a cache of reports that come again within a report interval)."""
        data = data if isinstance(data, dict) else {}
        stored = data.get("expiry")
        book = cls(expiry if expiry is not None else stored if isinstance(stored, (int, float)) else EXPIRY)
        relays = data.get("relays")
        for url, entry in (relays.items() if isinstance(relays, dict) else ()):
            try:
                seen = float(entry["seen"])
                book.report(url, entry["clients"], seen)
            except (ReportError, KeyError, TypeError, ValueError):
                continue
        return book


def http_answer(listing: Mapping[str, int]) -> dict:
    """The body of `GET /relays` (and of `livetiming.relays.list`): the shape
    existing clients parse, `{"args": [{relay_url: client_count, ...}]}`."""
    return {"args": [dict(listing)]}


def pick_least_loaded(listing: Mapping[str, int], fallback: str, rng: Optional[random.Random] = None) -> str:
    """The relay with the fewest clients (ties broken at random), or
    `fallback` (the master itself) when no relay is listed."""
    if not listing:
        return fallback
    fewest = min(listing.values())
    candidates = sorted(url for url, clients in listing.items() if clients == fewest)
    return (rng or random).choice(candidates)
