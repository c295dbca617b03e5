"""The master's relay monitor: takes the relays' reports, drops relays that
fell silent, and publishes the list.

Reports arrive on `livetiming.relays.report`, which only sessions of role
`relays` may call, i.e. relays that logged in with a key listed in
LIVETIMING_RELAY_KEY_FILE (see `relay_keys`). The list is answered on
`livetiming.relays.list` and written to `relays.json` in the node directory,
from which the router worker's `/relays` resource serves it over HTTP
(see `relays_web`). The rules are `relay_book`'s; this is the shell."""
import time
from pathlib import Path
from typing import Optional

from autobahn.twisted.wamp import ApplicationSession
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import RegisterOptions
from twisted.internet import task
from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger

from .. import untrusted
from ..atomic import write_atomically
from .permissions import RELAY_LIST, RELAY_REPORT
from .relay_book import EXPIRY, RelayBook, ReportError, http_answer
from .router_config import RELAYS_FILE
from .settings import component_setting, positive_seconds, session_extra

EXPIRY_SETTING = "LIVETIMING_RELAY_EXPIRY"
BAD_REPORT = "livetiming.relays.bad_report"


def expiry_setting(extra: Optional[dict]) -> float:
    """Seconds a relay stays listed after its last report (tests shorten it)."""
    return positive_seconds(component_setting(extra, "expiry", EXPIRY_SETTING, EXPIRY), EXPIRY_SETTING)


class RelayMonitorSession(ApplicationSession):
    log = Logger()

    @inlineCallbacks
    def onJoin(self, details):
        extra = session_extra(self)
        self.clock = extra.get("clock", time.time)
        expiry = expiry_setting(extra)
        cbdir = extra.get("cbdir")
        self.path = Path(cbdir) / RELAYS_FILE if cbdir else None
        self.book = self._load(expiry)
        self._save()
        options = RegisterOptions(force_reregister=True)
        yield self.register(self.report, RELAY_REPORT, options=options)
        yield self.register(self.list_relays, RELAY_LIST, options=options)
        self._loop = task.LoopingCall(self.expire)
        self._loop.start(max(0.1, min(expiry / 4, 30.0)), now=False).addErrback(
            lambda failure: self.log.failure("Relay expiry failed", failure))
        self.log.info("Relay monitor ready (relays silent for {expiry}s are dropped)", expiry=expiry)

    def onLeave(self, details):
        loop = getattr(self, "_loop", None)
        if loop is not None and loop.running:
            loop.stop()
        super().onLeave(details)

    def _load(self, expiry: float) -> RelayBook:
        """A restarted monitor keeps the relays it knew (until they expire)."""
        if self.path is None or not self.path.exists():
            return RelayBook(expiry)
        try:
            data = untrusted.load_json_file(self.path, "the relay list", untrusted.Limits(json_bytes=1024 * 1024))
        except (OSError, untrusted.UntrustedDataError) as error:
            self.log.warn("Starting with no relays: {error}", error=error)
            data = None
        return RelayBook.from_json(data, expiry)

    def _save(self) -> None:
        if self.path is None:
            return
        import json

        try:
            write_atomically(self.path, json.dumps(self.book.to_json()), mode=0o644)
        except OSError as error:
            self.log.error("Cannot write the relay list {path}: {error}", path=self.path, error=error.strerror)

    def report(self, url=None, clients=None) -> bool:
        try:
            new = url not in self.book.entries
            self.book.report(url, clients, self.clock())
        except ReportError as error:
            raise ApplicationError(BAD_REPORT, str(error)) from None
        if new:
            self.log.info("Relay {url} reported ({clients} clients)", url=url, clients=clients)
        self._save()
        return True

    def list_relays(self) -> dict:
        """The same answer as `GET /relays`."""
        return http_answer(self.book.listing(self.clock()))["args"][0]

    def expire(self) -> None:
        before = set(self.book.entries)
        if self.book.expire(self.clock()):
            for url in sorted(before - set(self.book.entries)):
                self.log.info("Relay {url} fell silent; no longer listed", url=url)
            self._save()
