"""A reconnecting WebSocket client factory for plugins whose upstream timing
feed is a WebSocket: reconnects with back-off whenever the connection drops."""
from autobahn.twisted.websocket import WebSocketClientFactory, connectWS
from twisted.internet.protocol import ReconnectingClientFactory
from twisted.logger import Logger

from ..backoff import UPSTREAM_WEBSOCKET, apply_to_factory
from ..version import VERSION

USER_AGENT = f"livetiming-core/{VERSION}"
"""Sent upstream unless the plugin gives its own `useragent`: some timing
providers refuse clients that do not name themselves."""


class ReconnectingWebSocketClientFactory(ReconnectingClientFactory, WebSocketClientFactory):
    """Use with an autobahn `WebSocketClientProtocol` subclass as `protocol`.
    The back-off (`livetiming.backoff.UPSTREAM_WEBSOCKET`: initialDelay,
    maxDelay, factor, jitter) resets once a connection opens."""

    log = Logger()

    def __init__(self, url: str, *args, **kwargs):
        if kwargs.get("useragent") is None:
            kwargs["useragent"] = USER_AGENT
        WebSocketClientFactory.__init__(self, url, *args, **kwargs)

    def buildProtocol(self, addr):
        self.resetDelay()
        return WebSocketClientFactory.buildProtocol(self, addr)

    def clientConnectionFailed(self, connector, reason):
        self.log.warn("Upstream {url} connection failed: {reason}", url=self.url, reason=reason.getErrorMessage())
        ReconnectingClientFactory.clientConnectionFailed(self, connector, reason)

    def clientConnectionLost(self, connector, reason):
        self.log.warn("Upstream {url} connection lost: {reason}", url=self.url, reason=reason.getErrorMessage())
        ReconnectingClientFactory.clientConnectionLost(self, connector, reason)


apply_to_factory(UPSTREAM_WEBSOCKET, ReconnectingWebSocketClientFactory)


def connect(factory: ReconnectingWebSocketClientFactory):
    """Connect (TLS for wss:// URLs)."""
    return connectWS(factory)
