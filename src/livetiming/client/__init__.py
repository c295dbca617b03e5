"""`livetiming.client`: following a livetiming network from Python.

* `pick_relay(master_http_url)` — the least-loaded relay's WebSocket URL
  (the master's own when it lists none); `pick_relay_async` in the reactor.
* `Subscriber(url=... | master=..., on_state=..., on_listing=...)` — the
  directory and the followed services' states, decoded, across dying
  servers (re-picking through the master, passing over the one that failed).
* `StandaloneSubscriber(url, ...)` — the same callbacks for a standalone
  service's plain WebSocket.
* `next_url(listing, master_ws, failures, now)` — the pure rule of which
  server to try next."""
from .choice import AVOID_FOR, Failures, next_url
from .decode import DecodeError, decode_listing, decode_state
from .relays import RelayListError, fetch_listing, fetch_listing_async, master_urls, pick_relay, pick_relay_async
from .standalone import StandaloneSubscriber, standalone_url
from .subscriber import Subscriber, SubscriberURLError

__all__ = [
    "AVOID_FOR", "Failures", "next_url",
    "DecodeError", "decode_listing", "decode_state",
    "RelayListError", "fetch_listing", "fetch_listing_async", "master_urls", "pick_relay", "pick_relay_async",
    "StandaloneSubscriber", "standalone_url",
    "Subscriber", "SubscriberURLError",
]
