"""The relay component: the bridge between a relay's own router and its
upstream (the master, or another relay).

It holds three sessions, each kept up by autobahn with its own back-off:

* **upstream** (anonymous, like any client of the upstream): subscribes to
  every `livetiming.` topic by prefix, with retained events, and answers the
  client procedures the relay forwards;
* **local** (over the relay node's private socket, role `relay`):
  re-publishes each upstream event on the same topic, retained when it was
  retained upstream or its wrapper says `retain`, and registers the client
  procedures (`permissions.CLIENT_PROCEDURES`), forwarding each call
  upstream and returning its result or its error;
* **reporter** (only with a public URL and a relay key): every report
  interval, counts the relay's public sessions and reports them with the
  public URL to the master's relay monitor (`livetiming.relays.report`).

When the upstream goes away the relay's clients stay connected to the relay
and keep their last retained state; when it comes back the relay subscribes
again and fetches the retained events, which it re-publishes, so clients are
current again without doing anything. When the relay's own router restarts,
the same happens for the same reason.

Crossbar keeps a retained event on its exact topic and hands it only to
exact subscriptions, never to a prefix one, so the relay fetches them itself:
for the directory and for every retained topic of every listed service
(`retained_topics`) it subscribes exactly with `get_retained`, takes the
retained event, and unsubscribes; events published meanwhile come through
the prefix subscription, after the retained ones on the same connection, so
nothing newer is ever overwritten."""
from typing import Callable, Iterable, List, Mapping, Optional

from autobahn.twisted.component import Component
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import PublishOptions, RegisterOptions, SubscribeOptions
from twisted.internet import defer, task
from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger

from ..backoff import COMPONENT_HOST, RELAY_REPORT, RELAY_UPSTREAM, autobahn_retry
from ..protocol import RPC, AnalysisKey, Channel, Realm, Stat
from ..protocol.rows import cell_value, column_index
from ..service.router import SERIALIZERS, transport_for
from .permissions import ANONYMOUS, CLIENT_PROCEDURES, PUBLIC_PREFIX, SESSION_COUNT
from .permissions import RELAY_REPORT as REPORT_PROCEDURE
from .relay_book import REPORT_INTERVAL
from .relay_keys import relay_authid

UPSTREAM_UNAVAILABLE = "livetiming.relay.upstream_unavailable"
"""The error a client gets for a call while the relay has no upstream."""
RETAINED_WAIT = 10.0
"""Seconds a fetch waits for a topic's retained event (a topic may have none)."""
MAX_SERVICES = 500
MAX_CARS = 500
CALL_TIMEOUT = 30.0


def retained_topics(listing, cars_by_uuid: Mapping[str, Iterable[str]]) -> List[str]:
    """Every topic that may hold a retained event: the directory, and per
    listed service its state, its whole-service analysis keys and each car's
    retained analysis key (`car_messages`; `lap` and `stint` are not retained)."""
    topics = [Channel.DIRECTORY]
    for manifest in (listing if isinstance(listing, list) else [])[:MAX_SERVICES]:
        uuid = manifest.get("uuid") if isinstance(manifest, dict) else None
        if not isinstance(uuid, str) or not uuid:
            continue
        topics.append(Channel.STATE_PUBLISH.format(uuid))
        topics += [Channel.ANALYSIS_PUBLISH.format(uuid, key) for key in AnalysisKey.WHOLE_SERVICE]
        topics += [Channel.ANALYSIS_PUBLISH.format(uuid, AnalysisKey.for_car(AnalysisKey.CAR_MESSAGES, car))
                   for car in list(cars_by_uuid.get(uuid, ()))[:MAX_CARS]]
    return topics


def car_numbers(manifest, state) -> List[str]:
    """The car numbers of a state, read through its manifest's column spec."""
    try:
        column = column_index(manifest.get("colSpec")).get(Stat.NUM, 0)
        return [str(cell_value(row[column])) for row in state["cars"] if isinstance(row, list) and len(row) > column]
    except (AttributeError, KeyError, TypeError, ValueError):
        return []


def should_retain(args, retained_upstream: bool) -> bool:
    """Re-publish retained when the event was delivered as a retained one or
    its wrapper (protocol §2) says `retain`."""
    if retained_upstream:
        return True
    wrapper = args[0] if args else None
    return isinstance(wrapper, dict) and wrapper.get("retain") is True


def with_retry(transport: dict, policy) -> dict:
    return {**transport, **autobahn_retry(policy)}


class Relay:
    """The three sessions and what flows between them."""

    log = Logger()

    def __init__(self, upstream_url: str, local_socket: str, public_url: Optional[str] = None,
                 key: Optional[str] = None, report_url: Optional[str] = None,
                 report_interval: float = REPORT_INTERVAL, on_ready: Optional[Callable[[], None]] = None):
        self.upstream_url = upstream_url
        self.public_url = public_url
        self.report_interval = report_interval
        self.on_ready = on_ready
        self.upstream = None
        self.local = None
        self.reporter = None
        self.forwarded = 0
        self._subscribed_on = None
        """The upstream session holding our prefix subscription (one per session)."""
        self._fetched_for = None
        """The (upstream, local) pair whose retained events were fetched."""
        self._loop: Optional[task.LoopingCall] = None
        self.components = [
            self._component("upstream", with_retry(transport_for(upstream_url), RELAY_UPSTREAM), None),
            self._component("local", with_retry({
                "type": "rawsocket", "url": f"rs://unix:{local_socket}", "serializer": SERIALIZERS[0],
                "endpoint": {"type": "unix", "path": local_socket}}, COMPONENT_HOST), None),
        ]
        if public_url and key:
            authentication = {"wampcra": {"authid": relay_authid(key), "secret": key}}
            self.components.append(self._component(
                "reporter", with_retry(transport_for(report_url or upstream_url), RELAY_REPORT), authentication))

    def _component(self, role: str, transport: dict, authentication: Optional[dict]) -> Component:
        component = Component(transports=[transport], realm=Realm.TIMING, authentication=authentication)
        component.on_join(lambda session, details: getattr(self, f"_{role}_joined")(session))
        component.on_leave(lambda session, details: self._left(role, session, details))
        component.on_disconnect(lambda session, was_clean: self._left(role, session, None))
        return component

    # --- lifecycle ----------------------------------------------------------------

    def start(self, reactor):
        """Deferreds, one per session, that fire when that session is done for good."""
        self._loop = task.LoopingCall(self.report)
        self._loop.clock = reactor
        self._loop.start(self.report_interval, now=False).addErrback(
            lambda failure: self.log.failure("Relay report loop failed", failure))
        return [component.start(reactor) for component in self.components]

    def stop(self):
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        from twisted.internet import defer

        return defer.DeferredList([component.stop() for component in self.components], consumeErrors=True)

    def _left(self, role: str, session, details) -> None:
        if getattr(self, role) is session:
            setattr(self, role, None)
            reason = f" ({details.reason})" if details is not None else ""
            self.log.warn("Relay lost its {role} session{reason}; reconnecting", role=role, reason=reason)

    # --- upstream → local ---------------------------------------------------------

    def _upstream_joined(self, session) -> None:
        self.upstream = session
        self.log.info("Joined the upstream {url}", url=self.upstream_url)
        self._subscribe()

    @inlineCallbacks
    def _local_joined(self, session):
        self.local = session
        for uri, match in CLIENT_PROCEDURES:
            yield session.register(self._forwarder(uri), uri,
                                   options=RegisterOptions(match=match, details_arg="details", force_reregister=True))
        self.log.info("Joined the relay's router; forwarding {n} client procedures", n=len(CLIENT_PROCEDURES))
        self._subscribe()
        if self.on_ready is not None:
            self.on_ready()
        self.report()

    @inlineCallbacks
    def _subscribe(self):
        """Subscribe upstream (again) when both sides are up, then fetch the
        retained events that bring the relay's router up to date."""
        upstream, local = self.upstream, self.local
        if upstream is None or local is None or self._fetched_for == (upstream, local):
            return
        self._fetched_for = (upstream, local)
        if self._subscribed_on is not upstream:
            self._subscribed_on = upstream
            options = SubscribeOptions(match="prefix", details_arg="details")
            try:
                yield upstream.subscribe(self._republish, PUBLIC_PREFIX, options=options)
            except ApplicationError as error:
                self._subscribed_on = self._fetched_for = None
                self.log.error("Cannot subscribe to the upstream: {error}", error=error.error_message())
                return
        try:
            topics = yield self._retained_topics(upstream)
        except (ApplicationError, defer.TimeoutError) as error:
            self.log.warn("Cannot list the upstream's services ({error}); fetching the directory only", error=error)
            topics = [Channel.DIRECTORY]
        fetched = yield defer.gatherResults([self._fetch_retained(upstream, topic) for topic in topics])
        self.log.info("Subscribed to the upstream; {n} retained events re-published", n=sum(fetched))

    @inlineCallbacks
    def _retained_topics(self, upstream):
        from twisted.internet import reactor

        listing = yield upstream.call(RPC.DIRECTORY_LISTING, True).addTimeout(CALL_TIMEOUT, reactor)
        listing = listing if isinstance(listing, list) else []
        cars = {}
        for manifest in listing[:MAX_SERVICES]:
            uuid = manifest.get("uuid") if isinstance(manifest, dict) else None
            if isinstance(uuid, str):
                try:
                    state = yield upstream.call(RPC.REQUEST_STATE.format(uuid)).addTimeout(CALL_TIMEOUT, reactor)
                except (ApplicationError, defer.TimeoutError):
                    continue
                cars[uuid] = car_numbers(manifest, state)
        return retained_topics(listing, cars)

    def _fetch_retained(self, upstream, topic: str):
        """A Deferred firing with 1 once `topic`'s retained event has been
        re-published, 0 when it has none (within RETAINED_WAIT)."""
        from twisted.internet import reactor

        got = defer.Deferred()

        def on_event(*args, details=None, **kwargs):
            if getattr(details, "retained", False) and not got.called:
                self._publish_locally(topic, args, kwargs, retained_upstream=True)
                got.callback(1)

        def unsubscribe(result, subscription):
            if subscription.active and upstream.is_attached():
                subscription.unsubscribe().addErrback(lambda _: None)
            return result

        def subscribed(subscription):
            waiting = got.addTimeout(RETAINED_WAIT, reactor).addErrback(lambda _: 0)
            return waiting.addBoth(unsubscribe, subscription)

        options = SubscribeOptions(get_retained=True, details_arg="details")
        return upstream.subscribe(on_event, topic, options=options).addCallbacks(subscribed, lambda _: 0)

    def _republish(self, *args, details=None, **kwargs) -> None:
        self._publish_locally(getattr(details, "topic", None), args, kwargs,
                              retained_upstream=bool(getattr(details, "retained", False)))

    def _publish_locally(self, topic: Optional[str], args, kwargs, retained_upstream: bool) -> None:
        local = self.local
        if local is None or not topic or not local.is_attached():
            return
        retain = should_retain(args, retained_upstream)
        local.publish(topic, *args, options=PublishOptions(retain=retain) if retain else None, **kwargs)

    # --- calls: local → upstream --------------------------------------------------

    def _forwarder(self, registered: str):
        def forward(*args, details=None, **kwargs):
            upstream = self.upstream
            if upstream is None or not upstream.is_attached():
                raise ApplicationError(UPSTREAM_UNAVAILABLE, "the relay is reconnecting to its upstream; try again")
            self.forwarded += 1
            return upstream.call(getattr(details, "procedure", None) or registered, *args, **kwargs)

        return forward

    # --- reports ------------------------------------------------------------------

    def _reporter_joined(self, session) -> None:
        self.reporter = session
        self.log.info("Reporting to the master as {url}", url=self.public_url)
        self.report()

    @inlineCallbacks
    def report(self):
        """Count the relay's public sessions and report them (when both the
        relay's router and the master's monitor are reachable)."""
        local, reporter = self.local, self.reporter
        if local is None or reporter is None:
            return
        try:
            clients = yield local.call(SESSION_COUNT, [ANONYMOUS])
            yield reporter.call(REPORT_PROCEDURE, self.public_url, clients)
        except ApplicationError as error:
            self.log.warn("Relay report failed: {error}", error=error.error_message())
