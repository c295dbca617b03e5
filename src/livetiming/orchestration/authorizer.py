"""The dynamic authorizer of the `services` role: a thin WAMP shell that
registers `livetiming.authorize` and answers with `permissions.authorize_service`.
It joins over the router's private `guard.sock` with role `authorizer`, the
only role that may register that procedure; the router is its only caller."""
from autobahn.twisted.wamp import ApplicationSession
from autobahn.wamp.types import RegisterOptions
from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger

from .permissions import AUTHORIZE, authorize_service


def authorize(session, uri, action, options=None) -> dict:
    """Crossbar's authorizer signature: (session details, uri, action, options)."""
    authid = session.get("authid") if isinstance(session, dict) else None
    return authorize_service(authid, uri, action).as_dict()


class AuthorizerSession(ApplicationSession):
    log = Logger()

    @inlineCallbacks
    def onJoin(self, details):
        yield self.register(authorize, AUTHORIZE, options=RegisterOptions(force_reregister=True))
        self.log.info("Authorizer ready")
