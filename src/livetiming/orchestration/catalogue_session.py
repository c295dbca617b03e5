"""The recordings catalogue's WAMP shell: `CatalogueSession` serves the
`livetiming.recordings.*` procedures from a `catalogue.Catalogue` and
refreshes its index periodically. It runs inside the router (Crossbar class
component, settings in `extra`) or standalone as `livetiming-recordings`.

Settings (`extra` key, else environment variable, else default):

* `recordings_dir` / LIVETIMING_RECORDINGS_DIR — where the ZIPs and index.json are;
* `refresh_interval` / LIVETIMING_RECORDINGS_REFRESH_INTERVAL — seconds between
  index refreshes (default 300; also one at start);
* `generate_analysis` / GENERATE_ANALYSIS (non-empty) — create missing
  analysis files after each refresh, one recording at a time;
* `admin_authcode` / LIVETIMING_ADMIN_AUTHCODE (read at each call) — the code
  updateManifest needs; unset or empty: nobody may update.

Disk work runs in the reactor's thread pool; refreshes, analyses and
manifest updates take one lock, so they never interleave, while page/names
answer at once from the index in memory. Arguments are checked by the
catalogue core (livetiming.untrusted's rules): a wrong or huge one is a
short livetiming.error.invalid_argument, and never logged whole.
"""
from typing import Any, Callable, List, Optional

from autobahn.twisted.wamp import ApplicationSession
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import RegisterOptions
from twisted.internet import defer, task, threads
from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger

from .. import config
from ..protocol import RPC
from ..untrusted import UntrustedDataError, brief, check_uuid
from .catalogue import ERROR_PREFIX, Catalogue, CatalogueError, ManifestUpdate, NotAuthorisedError, ScanReport
from .settings import component_setting, session_extra

REFRESH_INTERVAL = 300.0


def _wamp_error(error: CatalogueError) -> ApplicationError:
    return ApplicationError(error.uri, str(error))


def _shown_uuid(value: Any) -> str:
    """A caller's uuid as logged: itself when it is one, else a short
    description (a caller must not be able to write megabytes into the log)."""
    try:
        return check_uuid(value)
    except UntrustedDataError:
        return brief(value)


class CatalogueSession(ApplicationSession):
    """Registers the recordings procedures and keeps the index fresh."""

    log = Logger()

    @inlineCallbacks
    def onJoin(self, details):
        from twisted.internet import reactor

        extra = session_extra(self)
        self.reactor = extra.get("reactor", reactor)
        self.extra = extra
        try:
            directory = extra.get("recordings_dir") or config.directory("LIVETIMING_RECORDINGS_DIR")
        except OSError as error:
            self.log.error("Cannot use the recordings directory: {error}", error=error)
            raise
        self.refresh_interval = self._interval(component_setting(extra, "refresh_interval",
                                                        "LIVETIMING_RECORDINGS_REFRESH_INTERVAL", REFRESH_INTERVAL))
        self.generate_analysis = bool(component_setting(extra, "generate_analysis", "GENERATE_ANALYSIS", False))
        self.catalogue = yield self._in_thread(Catalogue, directory)
        self._lock = defer.DeferredLock()
        options = RegisterOptions(force_reregister=True)
        yield self.register(self.page, RPC.GET_RECORDINGS_PAGE, options=options)
        yield self.register(self.names, RPC.GET_RECORDINGS_NAMES, options=options)
        yield self.register(self.manifest, RPC.GET_RECORDINGS_MANIFEST, options=options)
        yield self.register(self.update_manifest, RPC.UPDATE_RECORDING_MANIFEST, options=options)
        self.log.info("Recordings catalogue ready: {count} recordings from the index in {directory} "
                      "(refreshing every {interval}s{analysis})", count=len(self.catalogue.index),
                      directory=str(self.catalogue.directory), interval=self.refresh_interval,
                      analysis=", creating missing analysis files" if self.generate_analysis else "")
        self._loop = task.LoopingCall(self.refresh)
        self._loop.clock = self.reactor
        self._loop.start(self.refresh_interval, now=True).addErrback(
            lambda failure: self.log.failure("Recordings refresh loop failed", failure))

    def onLeave(self, details):
        loop = getattr(self, "_loop", None)
        if loop is not None and loop.running:
            loop.stop()
        super().onLeave(details)

    def _interval(self, value: Any) -> float:
        """A positive number of seconds; anything else is logged and replaced
        by the default (0 would refresh in a busy loop)."""
        try:
            interval = float(value)
        except (TypeError, ValueError):
            interval = float("nan")
        if not interval > 0 or interval == float("inf"):
            self.log.error("Invalid recordings refresh interval {value!r}; using {default}s",
                           value=value, default=REFRESH_INTERVAL)
            return REFRESH_INTERVAL
        return interval

    def _in_thread(self, function: Callable, *args) -> defer.Deferred:
        return threads.deferToThreadPool(self.reactor, self.reactor.getThreadPool(), function, *args)

    def _exclusive(self, function: Callable, *args) -> defer.Deferred:
        """Run disk-writing work in a thread, one piece at a time."""
        return self._lock.run(self._in_thread, function, *args)

    # ------------------------------------------------------------ refreshing

    @inlineCallbacks
    def refresh(self):
        """Rescan the index (and create missing analyses); errors are logged,
        never stop the loop."""
        try:
            yield self._refresh()
        except OSError as error:
            self.log.error("Cannot refresh the recordings index in {directory}: {error}",
                           directory=str(self.catalogue.directory), error=error.strerror or str(error))
        except Exception:
            self.log.failure("Refreshing the recordings index in {directory} failed",
                             directory=str(self.catalogue.directory))

    @inlineCallbacks
    def _refresh(self):
        report = yield self._exclusive(self.catalogue.refresh)
        self._log_report(report)
        if not self.generate_analysis:
            return
        for filename in self.catalogue.missing_analyses():
            error = yield self._exclusive(self.catalogue.create_analysis, filename)
            if error is None:
                self.log.info("Created the analysis file of {filename}", filename=filename)
            else:
                self.log.warn("Cannot create the analysis file of {filename}: {error}",
                              filename=filename, error=error)

    def _log_report(self, report: ScanReport) -> None:
        """Warn about files found invalid this time; the summary at info
        level on the first refresh and on changes, else at debug level."""
        for filename in report.read:
            if filename in report.invalid:
                self.log.warn("Skipping {filename} in the recordings index: {error}",
                              filename=filename, error=report.invalid[filename])
        first = not getattr(self, "_refreshed", False)
        self._refreshed = True
        emit = self.log.info if first or report.added or report.removed or report.read else self.log.debug
        emit("Recordings index refreshed: {summary}", summary=report.summary())

    # ------------------------------------------------------------ procedures

    def onUserError(self, fail, msg):
        """Our own refusals (livetiming.error.*) are the caller's mistakes,
        logged where they happen: keep autobahn from warning about each again."""
        error = getattr(fail, "value", None)
        if isinstance(error, ApplicationError) and str(error.error).startswith(ERROR_PREFIX):
            self.log.debug("{msg}: {error}", msg=msg, error=error.error_message())
            return
        super().onUserError(fail, msg)

    def page(self, page_number: Any = 1, filter_name: Optional[str] = None, show_hidden: bool = False) -> dict:
        try:
            return self.catalogue.page(page_number, filter_name, show_hidden)
        except CatalogueError as error:
            raise _wamp_error(error) from None

    def names(self, show_hidden: bool = False) -> List[str]:
        return self.catalogue.names(show_hidden)

    @inlineCallbacks
    def manifest(self, uuid: Any):
        try:
            manifest = yield self._in_thread(self.catalogue.manifest, uuid)
        except CatalogueError as error:
            raise _wamp_error(error) from None
        return manifest

    @inlineCallbacks
    def update_manifest(self, manifest: Any = None, authcode: Any = None):
        configured = component_setting(self.extra, "admin_authcode", "LIVETIMING_ADMIN_AUTHCODE", None)
        uuid = _shown_uuid(manifest.get("uuid")) if isinstance(manifest, dict) else None
        try:
            result: ManifestUpdate = yield self._exclusive(self.catalogue.update_manifest, manifest, authcode,
                                                           configured)
        except NotAuthorisedError as error:
            reason = ("no admin code is configured" if not configured else
                      "no code given" if not authcode else "wrong code")
            self.log.warn("Refused to update the manifest of recording {uuid}: {reason}", uuid=uuid, reason=reason)
            raise _wamp_error(error) from None
        except CatalogueError as error:
            self.log.info("Refused to update the manifest of recording {uuid}: {error}", uuid=uuid, error=error)
            raise _wamp_error(error) from None
        if result.changes:
            self.log.info("Updated the manifest of recording {uuid}: {changes}", uuid=uuid,
                          changes=sorted(result.changes))
        if result.index_error:
            self.log.warn("Recording {uuid}: {error}; the next refresh will", uuid=uuid, error=result.index_error)
        if result.analysis_error:
            self.log.warn("Recording {uuid}: the analysis file's service was not updated: {error}",
                          uuid=uuid, error=result.analysis_error)
        return result.manifest
