"""A subscriber that stays subscribed: it joins a router or relay
anonymously, follows the directory and the states of the services it is
asked to follow (retained events, so it has the latest at once), and hands
them to callbacks decoded. When its connection dies it chooses a server
again (`choice.next_url`: through the master's relay list when given one,
passing over the server that just failed) and resubscribes after a back-off
delay, getting the retained state on the new server.

Each connection is one autobahn `Component` that does not retry by itself
(`max_retries` 0): retrying is decided here, because the next attempt may
go to another server, which autobahn's fixed transport list cannot do."""
import random
from typing import Callable, List, Optional, Set

from autobahn.twisted.component import Component
from autobahn.wamp.exception import ApplicationError, TransportLost
from autobahn.wamp.types import SubscribeOptions
from twisted.internet.defer import Deferred, inlineCallbacks, succeed
from twisted.logger import Logger

from ..backoff import ROUTER, BackoffPolicy
from ..protocol import RPC, Channel, Message, Realm
from ..service.router import SERIALIZERS, RouterURLError, transport_for
from .choice import AVOID_FOR, Failures, next_url
from .decode import DecodeError, decode_listing, decode_state, manifests, parse
from .relays import TIMEOUT, RelayListError, fetch_listing_async, master_urls

StateCallback = Callable[[str, dict, Message], None]
"""(service uuid, decoded state, the message it came in: its `date`)."""
ListingCallback = Callable[[List[dict]], None]
StatusCallback = Callable[[str, str], None]
"""("connected" | "disconnected", server URL)."""


class SubscriberURLError(ValueError):
    """The URL given to a subscriber is not usable (one line)."""


def websocket_transport(url: str) -> dict:
    """One autobahn transport for `url` that never retries by itself."""
    if not url.startswith(("ws://", "wss://")):
        raise SubscriberURLError(f"server URL {url!r} must start with ws:// or wss://")
    try:
        transport = transport_for(url)
    except RouterURLError as error:
        raise SubscriberURLError(str(error)) from None
    transport.update(max_retries=0, serializers=list(SERIALIZERS))
    return transport


class Subscriber:
    """Follows a network's directory and some services' states.

    Give `url` (a router or relay, `ws://host:port/ws`) or `master` (the
    master's `http://host:port`, to be spread over its relays). Callbacks
    run in the reactor thread: `on_listing(manifests)` with the directory's
    answer on every join and each retained/published listing after it,
    `on_state(uuid, state, message)` for each state of a followed service,
    `on_status("connected" | "disconnected", url)`. `follow(uuid)` may be
    called at any time (from a callback too)."""

    log = Logger()

    def __init__(self, url: Optional[str] = None, master: Optional[str] = None, *,
                 on_state: Optional[StateCallback] = None, on_listing: Optional[ListingCallback] = None,
                 on_status: Optional[StatusCallback] = None, policy: BackoffPolicy = ROUTER,
                 avoid_for: float = AVOID_FOR, timeout: float = TIMEOUT, rng: Optional[random.Random] = None,
                 include_hidden: bool = False, reactor=None):
        if (url is None) == (master is None):
            raise SubscriberURLError("give a server URL or a master URL, not both")
        if url is not None:
            websocket_transport(url)  # a malformed URL is one line now, not a retry loop later
        self.master = master
        self.master_ws = master_urls(master)[1] if master else None
        self.fixed_url = url
        self.on_state = on_state or (lambda uuid, state, message: None)
        self.on_listing = on_listing or (lambda listing: None)
        self.on_status = on_status or (lambda status, url: None)
        self.policy, self.avoid_for, self.timeout, self.rng = policy, avoid_for, timeout, rng
        self.include_hidden = include_hidden
        """Ask the directory for hidden services too (on joining; the retained listing never has them)."""
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        self.url: Optional[str] = None
        """The server of the current (or latest) connection."""
        self.failures = Failures()
        self.listing = None
        """The master's latest relay listing (kept when the master cannot be asked)."""
        self.followed: Set[str] = set()
        self.session = None
        self._subscribed: Set[str] = set()
        """The services subscribed to on the current session."""
        self._component: Optional[Component] = None
        self._attempt = 0
        self._retry = None
        self._stopping = False

    @property
    def connected(self) -> bool:
        return self.session is not None and self.session.is_attached()

    # ------------------------------------------------------------ public API

    def start(self) -> None:
        self._stopping = False
        self._connect()

    def stop(self) -> Deferred:
        """Leave the server and stop retrying; fires when done."""
        self._stopping = True
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        if self._component is not None:  # the connection in progress (none between two)
            return self._component.stop()
        return succeed(None)

    def follow(self, uuid: str) -> None:
        """Receive this service's states (the retained one at once)."""
        if uuid in self.followed:
            return
        self.followed.add(uuid)
        if self.connected:
            self._subscribe_state(self.session, uuid).addErrback(
                lambda failure: self.log.warn("Could not subscribe to {uuid}: {error}", uuid=uuid,
                                              error=failure.getErrorMessage()))

    # ------------------------------------------------------------- choosing

    def _choose(self) -> Deferred:
        if self.master is None:
            return succeed(self.fixed_url)

        def listed(listing):
            self.listing = listing
            return listing

        def unlisted(failure):
            failure.trap(RelayListError)
            self.log.warn("Cannot read the relay list ({error}); choosing from the last one",
                          error=failure.getErrorMessage())
            return self.listing

        d = fetch_listing_async(self.master, self.timeout, self.reactor)
        d.addCallbacks(listed, unlisted)
        d.addCallback(lambda listing: next_url(listing, self.master_ws, self.failures, self.reactor.seconds(),
                                               self.avoid_for, self.rng))
        return d

    # ----------------------------------------------------------- connecting

    def _connect(self) -> None:
        self._retry = None
        if self._stopping:
            return
        self._choose().addCallback(self._open).addErrback(self._unexpected)

    def _open(self, url: str) -> None:
        if self._stopping:
            return
        self.url = url
        try:
            transport = websocket_transport(url)
        except SubscriberURLError as error:  # a listed relay URL autobahn cannot open: pass over it
            self.log.warn("Cannot connect to {url}: {error}", url=url, error=error)
            self._ended(None, url)
            return
        self.log.info("Connecting to {url}", url=url)
        component = Component(transports=[transport], realm=Realm.TIMING)
        component.on_join(self._joined)
        component.on_leave(self._left)
        self._component = component
        done = component.start(self.reactor)
        done.addBoth(self._ended, url)

    def _ended(self, result, url: str) -> None:
        """The connection is over (it failed, or it joined and was lost)."""
        was_connected = self.session is not None
        self.session = None
        self._component = None
        if self._stopping:
            return
        if was_connected:
            self.on_status("disconnected", url)
        self.failures = self.failures.record(url, self.reactor.seconds())
        delay = self.policy.delays(self.rng)(self._attempt)
        self._attempt += 1
        self.log.info("Connection to {url} ended; choosing a server again in {delay:.1f}s", url=url, delay=delay)
        self._retry = self.reactor.callLater(delay, self._connect)

    def _unexpected(self, failure) -> None:
        self.log.failure("Subscriber could not connect", failure)
        if not self._stopping:
            delay = self.policy.delays(self.rng)(self._attempt)
            self._attempt += 1
            self._retry = self.reactor.callLater(delay, self._connect)

    # --------------------------------------------------------------- session

    @inlineCallbacks
    def _joined(self, session, details):
        self.session = session
        self._subscribed = set()
        self._attempt = 0
        self.failures = self.failures.forget(self.url)
        self.log.info("Joined {url}", url=self.url)
        # The directory's answer first: it is current, while the retained
        # listing may be up to one directory publish interval old.
        try:
            options = {"includeHidden": True} if self.include_hidden else {}
            self.on_listing(manifests((yield session.call(RPC.DIRECTORY_LISTING, **options))))
        except (ApplicationError, TransportLost, DecodeError) as error:
            self.log.warn("Could not list the services on {url}: {error}", url=self.url, error=error)
        if not session.is_attached():
            return
        try:
            yield session.subscribe(self._on_directory, Channel.DIRECTORY, options=SubscribeOptions(get_retained=True))
            for uuid in sorted(self.followed):
                yield self._subscribe_state(session, uuid)
        except (ApplicationError, TransportLost) as error:
            self.log.warn("Could not subscribe on {url}: {error}", url=self.url, error=error)
            return
        self.on_status("connected", self.url)

    def _left(self, session, details):
        self.log.info("Left {url}: {reason}", url=self.url, reason=details.reason)

    def _subscribe_state(self, session, uuid: str) -> Deferred:
        """Subscribe once per session (a second handler would get every state twice)."""
        if uuid in self._subscribed:
            return succeed(None)
        self._subscribed.add(uuid)

        def on_state(*args, **kwargs):
            try:
                message = parse(args[0] if args else None)
                state = decode_state(message)
            except DecodeError as error:
                self.log.warn("Unreadable state of {uuid}: {error}", uuid=uuid, error=error)
                return
            self.on_state(uuid, state, message)

        return session.subscribe(on_state, Channel.STATE_PUBLISH.format(uuid),
                                 options=SubscribeOptions(get_retained=True))

    def _on_directory(self, *args, **kwargs) -> None:
        try:
            listing = decode_listing(parse(args[0] if args else None))
        except DecodeError:
            return  # INITIALISE_DIRECTORY and the like are not listings
        self.on_listing(listing)
