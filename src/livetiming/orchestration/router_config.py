"""The Crossbar configurations of the master router and of a relay, built as
plain data so that `livetiming-router` and `livetiming-relay` can render them
with the port of the moment, and the files in `crossbar/` are these
functions' output (a test keeps them so). Both serve the web app at `/` and
the public WebSocket at `/ws` with the same public rules.

The node runs one router worker and nothing else: the authenticator is a
`function` inside it (no procedure, no session to kill), and the authorizer,
directory, DVR and catalogue are processes of their own that `livetiming-router`
supervises (see `supervisor`). They join over private unix sockets in the
node directory, whose transport decides their role, so they need no secret."""
from ..protocol import Realm
from .permissions import AUTHORIZER, COMPONENTS, RELAY, realm_roles, relay_realm_roles

UNIX_SOCKET = "router.sock"
"""RawSocket for services next to the router (same authentication as the WebSocket)."""
COMPONENTS_SOCKET = "components.sock"
"""Joining here makes a session `components` (directory, DVR, catalogue)."""
GUARD_SOCKET = "guard.sock"
"""Joining here makes a session `authorizer`."""
PRIVATE_SOCKETS = (UNIX_SOCKET, COMPONENTS_SOCKET, GUARD_SOCKET)
RELAY_SOCKET = "relay.sock"
"""On a relay node, joining here makes a session the relay component."""
AUTHENTICATOR = "livetiming.orchestration.authenticator.create_authenticator"
RELAYS_PATH = "relays"
RELAYS_FILE = "relays.json"
"""Written by the master's relay monitor in the node directory (the router
worker's working directory), served at `/relays`."""
RELAYS_RESOURCE = "livetiming.orchestration.relays_web.RelaysResource"
RECORDINGS_PATH = "recordings"
RECORDINGS_RESOURCE = "livetiming.orchestration.recordings_web.RecordingsResource"
"""Downloads of the catalogue's recordings (LIVETIMING_RECORDINGS_DIR)."""
SERIALIZERS = ["json", "msgpack", "cbor"]
MAX_MESSAGE_SIZE = 16 * 2 ** 20
"""Bytes in one WebSocket message (Crossbar's default, written out): ample for
a day-long race's whole analysis, and a bound on what one client can send."""

AUTH = {
    "wampcra": {"type": "function", "create": AUTHENTICATOR},
    "anonymous": {"type": "static", "role": "anonymous"},
}


def _private_socket(path: str, role: str) -> dict:
    return {
        "type": "rawsocket",
        "endpoint": {"type": "unix", "path": path},
        "serializers": SERIALIZERS,
        "auth": {"anonymous": {"type": "static", "role": role}},
    }


def _web_transport(port: int, interface: str, production: bool, auth: dict, extra_paths: dict) -> dict:
    """The public endpoint: the web app at `/`, the WebSocket at `/ws` (TLS
    in production, key and certificates under the node directory's `tls/`)."""
    endpoint = {"type": "tcp", "port": port, "interface": interface}
    if production:
        endpoint["tls"] = {
            "key": "tls/server.key",
            "certificate": "tls/server.crt",
            "chain_certificates": ["tls/chain.crt"],
        }
    paths = {
        "/": {"type": "static", "package": "livetiming.web", "resource": "static",
              "options": {"enable_directory_listing": False}},
        "ws": {
            "type": "websocket",
            "serializers": SERIALIZERS,
            "auth": auth,
            "options": {"auto_ping_interval": 30000, "auto_ping_timeout": 10000,
                        "max_message_size": MAX_MESSAGE_SIZE},
        },
        **extra_paths,
    }
    return {"type": "web", "endpoint": endpoint, "paths": paths}


def _node(roles: list, transports: list) -> dict:
    router = {"type": "router", "realms": [{"name": Realm.TIMING, "roles": roles}], "transports": transports}
    return {"version": 2, "controller": {}, "workers": [router]}


def build_config(port: int = 5080, interface: str = "127.0.0.1", production: bool = False) -> dict:
    """The master: realm `timing` with the roles of `permissions`; the web
    transport with `/relays` (the relay monitor's list) and `/recordings/`
    (the catalogue's downloads); a RawSocket on a
    unix socket for services on the same host; the two private sockets of
    the supervised components."""
    paths = {RELAYS_PATH: {"type": "resource", "classname": RELAYS_RESOURCE, "extra": {"file": RELAYS_FILE}},
             RECORDINGS_PATH: {"type": "resource", "classname": RECORDINGS_RESOURCE}}
    return _node(realm_roles(), [
        _web_transport(port, interface, production, AUTH, paths),
        {
            "type": "rawsocket",
            "endpoint": {"type": "unix", "path": UNIX_SOCKET},
            "serializers": SERIALIZERS,
            "auth": AUTH,
        },
        _private_socket(COMPONENTS_SOCKET, COMPONENTS),
        _private_socket(GUARD_SOCKET, AUTHORIZER),
    ])


def build_relay_config(port: int = 5081, interface: str = "127.0.0.1", production: bool = False) -> dict:
    """A relay: the same public side as the master (web app, `/ws`, public
    rules; anonymous only, since nothing but the relay component publishes
    here) and one private socket for the relay component."""
    return _node(relay_realm_roles(), [
        _web_transport(port, interface, production, {"anonymous": AUTH["anonymous"]}, {}),
        _private_socket(RELAY_SOCKET, RELAY),
    ])
