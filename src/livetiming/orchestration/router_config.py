"""The master router's Crossbar configuration, built as plain data so that
`livetiming-router` can render it with the port and intervals of the moment,
and the files in `crossbar/` are this function's output (a test keeps them so)."""
from typing import List, Optional

from ..protocol import Realm

AUTHENTICATOR = "livetiming.orchestration.authenticator.AuthenticatorSession"
DIRECTORY = "livetiming.orchestration.directory.DirectorySession"
DVR = "livetiming.orchestration.dvr_session.DVRSession"
CATALOGUE = "livetiming.orchestration.catalogue_session.CatalogueSession"
UNIX_SOCKET = "router.sock"
COMPONENTS_SOCKET = "components.sock"
"""Unix socket on which the node's own container worker joins as `services`
(trusted: only processes that can open the node directory reach it)."""


def _permission(uri: str, match: str, call: bool, register: bool, publish: bool, subscribe: bool) -> dict:
    return {
        "uri": uri,
        "match": match,
        "allow": {"call": call, "register": register, "publish": publish, "subscribe": subscribe},
        "disclose": {"caller": False, "publisher": False},
        "cache": True,
    }


ROLES = [
    {"name": "authenticator",
     "permissions": [_permission("livetiming.authenticate", "prefix", False, True, False, False)]},
    {"name": "services",
     "permissions": [_permission("", "prefix", True, True, True, True)]},
    {"name": "anonymous",
     "permissions": [_permission("", "prefix", True, False, False, True)]},
]

AUTH = {
    "wampcra": {"type": "dynamic", "authenticator": "livetiming.authenticate"},
    "anonymous": {"type": "static", "role": "anonymous"},
}


def build_config(port: int = 5080, interface: str = "127.0.0.1", production: bool = False,
                 directory: Optional[dict] = None, dvr: bool = True, catalogue: bool = True,
                 extra_components: Optional[List[dict]] = None) -> dict:
    """Crossbar node config: realm `timing`, three roles, a WebSocket
    transport at `/ws` (TLS in production, key and certificate under the node
    directory's `tls/`), a RawSocket on a unix socket for local components,
    the authenticator and the directory inside the router worker, and the DVR
    and the recordings catalogue (either can be left out) in a container
    worker joined over a trusted unix socket. Component settings not given here come from
    the router's environment (LIVETIMING_RECORDINGS_DIR and so on)."""
    endpoint = {"type": "tcp", "port": port, "interface": interface}
    if production:
        endpoint["tls"] = {
            "key": "tls/server.key",
            "certificate": "tls/server.crt",
            "chain_certificates": ["tls/chain.crt"],
        }
    components = [
        {"type": "class", "classname": AUTHENTICATOR, "realm": Realm.TIMING, "role": "authenticator"},
        {"type": "class", "classname": DIRECTORY, "realm": Realm.TIMING, "role": "services",
         "extra": dict(directory or {})},
    ]
    components.extend(extra_components or [])
    # The DVR and the catalogue do heavy file work (finishing a day-long
    # recording takes many seconds): they run in a container worker, a
    # process of their own, so that routing never waits for them.
    local = {"type": "rawsocket", "endpoint": {"type": "unix", "path": COMPONENTS_SOCKET}, "serializer": "msgpack"}
    container = [{"type": "class", "classname": classname, "realm": Realm.TIMING, "transport": local, "extra": {}}
                 for classname, wanted in ((DVR, dvr), (CATALOGUE, catalogue)) if wanted]
    workers = [{
        "type": "router",
        "realms": [{"name": Realm.TIMING, "roles": ROLES}],
        "transports": [
            {
                "type": "web",
                "endpoint": endpoint,
                "paths": {
                    "ws": {
                        "type": "websocket",
                        "serializers": ["json", "msgpack", "cbor"],
                        "auth": AUTH,
                        "options": {"auto_ping_interval": 30000, "auto_ping_timeout": 10000},
                    },
                },
            },
            {
                "type": "rawsocket",
                "endpoint": {"type": "unix", "path": UNIX_SOCKET},
                "serializers": ["json", "msgpack", "cbor"],
                "auth": AUTH,
            },
            {
                "type": "rawsocket",
                "endpoint": {"type": "unix", "path": COMPONENTS_SOCKET},
                "serializers": ["msgpack"],
                "auth": {"anonymous": {"type": "static", "role": "services"}},
            },
        ],
        "components": components,
    }]
    if container:
        workers.append({"type": "container", "components": container})
    return {"version": 2, "controller": {}, "workers": workers}
