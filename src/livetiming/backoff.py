"""One home for back-off: how long to wait before trying again after a
failure, for every part of livetiming-core that retries.

Each policy is named here and built on Twisted's `backoffPolicy`
(delay N = min(initial × factor^N, max)); `jitter` is the standard deviation
of a normal spread relative to the delay, the meaning both Twisted's
`ReconnectingClientFactory` and autobahn's `Component` give it. Where a
library wants its own format (autobahn's transport dict, a Twisted
reconnecting factory's attributes), it is derived from the policy here."""
import random
from dataclasses import dataclass
from typing import Callable, Optional

from twisted.application.internet import backoffPolicy
from twisted.internet.protocol import ReconnectingClientFactory


@dataclass(frozen=True)
class BackoffPolicy:
    name: str
    initial: float
    """Seconds before the first retry."""
    factor: float
    """Each retry in a row waits this many times longer than the one before..."""
    max: float
    """...but never longer than this."""
    jitter: float = 0.0
    """Relative spread (standard deviation / delay); 0 makes delays exact."""

    def delays(self, rng: Optional[random.Random] = None) -> Callable[[int], float]:
        """Seconds to wait before retry N (0-based, N failures in a row minus one)."""
        exact = backoffPolicy(initialDelay=self.initial, maxDelay=self.max, factor=self.factor, jitter=lambda: 0.0)
        if not self.jitter:
            return exact
        rng = rng or random.Random()

        def jittered(attempt: int) -> float:
            delay = exact(attempt)
            return max(0.0, min(self.max, rng.normalvariate(delay, delay * self.jitter)))

        return jittered

    def delay(self, attempt: int) -> float:
        """Retry N's delay without jitter."""
        return backoffPolicy(initialDelay=self.initial, maxDelay=self.max, factor=self.factor,
                             jitter=lambda: 0.0)(attempt)

    def capped(self, maximum: float) -> "BackoffPolicy":
        """The same policy with a different ceiling."""
        return BackoffPolicy(self.name, self.initial, self.factor, maximum, self.jitter)


def autobahn_retry(policy: BackoffPolicy) -> dict:
    """The policy as the retry options of an autobahn `Component` transport
    (retrying for ever)."""
    return {"max_retries": -1, "initial_retry_delay": policy.initial, "max_retry_delay": policy.max,
            "retry_delay_growth": policy.factor, "retry_delay_jitter": policy.jitter}


def apply_to_factory(policy: BackoffPolicy, factory_class: type) -> type:
    """Set a Twisted `ReconnectingClientFactory` (sub)class's delays from the
    policy; returns the class (usable as a decorator)."""
    assert issubclass(factory_class, ReconnectingClientFactory)
    factory_class.initialDelay = policy.initial
    factory_class.maxDelay = policy.max
    factory_class.factor = policy.factor
    factory_class.jitter = policy.jitter
    return factory_class


FETCHER = BackoffPolicy("fetcher", initial=1.0, factor=2.0, max=300.0)
"""A polled upstream that fails: 1, 2, 4, … s (the plugin API), up to 5 min."""

ROUTER = BackoffPolicy("router", initial=1.0, factor=1.5, max=30.0, jitter=0.1)
"""A service reconnecting to the master router."""

ROUTER_SETUP = BackoffPolicy("router-setup", initial=0.5, factor=2.0, max=30.0)
"""A service whose setup on a joined router session failed, trying again."""

UPSTREAM_WEBSOCKET = BackoffPolicy("upstream-websocket", initial=1.0, factor=ReconnectingClientFactory.factor,
                                   max=30.0, jitter=ReconnectingClientFactory.jitter)
"""A plugin's upstream WebSocket feed (Twisted's default growth and spread,
at most 30 s between attempts: the plugin API)."""

COMPONENT_HOST = BackoffPolicy("component-host", initial=0.25, factor=1.5, max=2.0, jitter=0.1)
"""The router's own components on its local socket: back quickly after a restart."""

SUPERVISOR = BackoffPolicy("supervisor", initial=0.5, factor=2.0, max=10.0)
"""`livetiming-router` restarting a child that died (exact, so reports and tests are)."""

RELAY_UPSTREAM = BackoffPolicy("relay-upstream", initial=0.5, factor=1.5, max=5.0, jitter=0.1)
"""A relay reconnecting to its upstream: its clients wait on it, so it tries
often (every few seconds at most) — relays are few, the master can take it."""

RELAY_REPORT = BackoffPolicy("relay-report", initial=2.0, factor=2.0, max=60.0, jitter=0.1)
"""A relay's reporting session (refused keys retry at most once a minute)."""

POLICIES = {policy.name: policy for policy in
            (FETCHER, ROUTER, ROUTER_SETUP, UPSTREAM_WEBSOCKET, COMPONENT_HOST, SUPERVISOR, RELAY_UPSTREAM,
             RELAY_REPORT)}
