"""Which server a subscriber connects to next: a pure function of what it
knows (the master's last relay listing, the relays that failed it lately,
the time), so that the rule is tested without any network.

Why relays that failed are avoided for a while: the master keeps listing a
relay until it has been silent for `relay_book.EXPIRY` (5 minutes), so a
dead relay stays in the listing, often as the least loaded (its count is
frozen while the others grow). Picking by load alone would send every
subscriber straight back to it."""
import random
from dataclasses import dataclass, field
from typing import Dict, Mapping, Optional

from ..orchestration.relay_book import EXPIRY, pick_least_loaded

AVOID_FOR = EXPIRY
"""Seconds a relay that failed is passed over (as long as the master may
still list it)."""


@dataclass(frozen=True)
class Failures:
    """When each server last failed us (seconds, any monotonic clock)."""

    at: Mapping[str, float] = field(default_factory=dict)

    def record(self, url: str, now: float) -> "Failures":
        return Failures({**self.at, url: now})

    def forget(self, url: str) -> "Failures":
        """A server that worked again is no longer held against it."""
        return Failures({key: value for key, value in self.at.items() if key != url})

    def recent(self, now: float, avoid_for: float = AVOID_FOR) -> frozenset:
        return frozenset(url for url, when in self.at.items() if now - when < avoid_for)


def next_url(listing: Optional[Mapping[str, int]], master_ws: str, failures: Failures, now: float,
             avoid_for: float = AVOID_FOR, rng: Optional[random.Random] = None) -> str:
    """The server to try next: the least-loaded listed relay that has not
    failed within `avoid_for` seconds (ties at random); the master itself
    when none is listed (or every listed one failed lately), since the master
    serves clients too. `listing` None means the master could not be asked."""
    recent = failures.recent(now, avoid_for)
    usable: Dict[str, int] = {url: clients for url, clients in (listing or {}).items() if url not in recent}
    return pick_least_loaded(usable, master_ws, rng)
