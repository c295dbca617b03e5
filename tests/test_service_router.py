"""Router mode's session shell (service/router.py), without a router: what the
service announces when it authenticates, and router URL validation."""
import pytest
from autobahn.wamp.auth import create_authenticator
from twisted.internet.task import Clock

from livetiming.protocol import Stat
from livetiming.service.base import BaseService
from livetiming.service.options import default_args
from livetiming.service.router import RouterPublisher, RouterURLError, transport_for


class Plugin(BaseService):
    def getName(self):
        return "router test"

    def getColumnSpec(self):
        return [Stat.NUM]

    def getRaceState(self):
        return {"cars": [], "session": {"flagState": "green"}}


def test_wampcra_announces_the_service_uuid(service_env):
    """The router binds the session to this uuid (only it may publish as the service)."""
    service = Plugin(default_args("routertest", uuid="myuuid"), reactor=Clock())
    publisher = RouterPublisher(service, "ws://127.0.0.1:9/ws", "services", "s3cret")
    (name, settings), = publisher.component._authentication.items()
    authenticator = create_authenticator(name, **dict(settings))
    assert name == "wampcra" and settings["authid"] == "services"
    assert authenticator.authextra == {"uuid": "myuuid"}


@pytest.mark.parametrize("url", [
    "ws://127.0.0.1:99999/ws", "ws://[::1/ws", "ws://h:abc/ws", "ws://h:-1/ws", "ws://h:0/ws", "ws://h/ws#frag",
    "wss://exa mple/ws", "ws://h/ws\n", "rs://h:99999", "rs://[::1", "rs://h:0",
])
def test_every_malformed_url_is_a_router_url_error(url):
    with pytest.raises(RouterURLError, match="router URL"):
        transport_for(url)


@pytest.mark.parametrize("url", ["ws://[::1]:5080/ws", "wss://timing.example/ws?x=1", "rs://[::1]:8081"])
def test_ipv6_and_query_urls_are_fine(url):
    assert transport_for(url)["url"] == url
