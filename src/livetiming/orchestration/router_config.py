"""The master router's Crossbar configuration, built as plain data so that
`livetiming-router` can render it with the port of the moment, and the files
in `crossbar/` are this function's output (a test keeps them so).

The node runs one router worker and nothing else: the authenticator is a
`function` inside it (no procedure, no session to kill), and the authorizer,
directory, DVR and catalogue are processes of their own that `livetiming-router`
supervises (see `supervisor`). They join over private unix sockets in the
node directory, whose transport decides their role, so they need no secret."""
from ..protocol import Realm
from .permissions import AUTHORIZER, COMPONENTS, realm_roles

UNIX_SOCKET = "router.sock"
"""RawSocket for services next to the router (same authentication as the WebSocket)."""
COMPONENTS_SOCKET = "components.sock"
"""Joining here makes a session `components` (directory, DVR, catalogue)."""
GUARD_SOCKET = "guard.sock"
"""Joining here makes a session `authorizer`."""
PRIVATE_SOCKETS = (UNIX_SOCKET, COMPONENTS_SOCKET, GUARD_SOCKET)
AUTHENTICATOR = "livetiming.orchestration.authenticator.create_authenticator"
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
        "serializers": ["json", "msgpack", "cbor"],
        "auth": {"anonymous": {"type": "static", "role": role}},
    }


def build_config(port: int = 5080, interface: str = "127.0.0.1", production: bool = False) -> dict:
    """Crossbar node config: realm `timing` with the roles of `permissions`, a
    WebSocket transport at `/ws` (TLS in production, key and certificate
    under the node directory's `tls/`), a RawSocket on a unix socket for
    services on the same host, and the two private sockets of the supervised
    components."""
    endpoint = {"type": "tcp", "port": port, "interface": interface}
    if production:
        endpoint["tls"] = {
            "key": "tls/server.key",
            "certificate": "tls/server.crt",
            "chain_certificates": ["tls/chain.crt"],
        }
    router = {
        "type": "router",
        "realms": [{"name": Realm.TIMING, "roles": realm_roles()}],
        "transports": [
            {
                "type": "web",
                "endpoint": endpoint,
                "paths": {
                    "ws": {
                        "type": "websocket",
                        "serializers": ["json", "msgpack", "cbor"],
                        "auth": AUTH,
                        "options": {"auto_ping_interval": 30000, "auto_ping_timeout": 10000,
                                    "max_message_size": MAX_MESSAGE_SIZE},
                    },
                },
            },
            {
                "type": "rawsocket",
                "endpoint": {"type": "unix", "path": UNIX_SOCKET},
                "serializers": ["json", "msgpack", "cbor"],
                "auth": AUTH,
            },
            _private_socket(COMPONENTS_SOCKET, COMPONENTS),
            _private_socket(GUARD_SOCKET, AUTHORIZER),
        ],
    }
    return {"version": 2, "controller": {}, "workers": [router]}
