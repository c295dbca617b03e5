"""The live analyser of a service: a shell around `livetiming.analysis.Analyser`.

All analyser work runs on one worker thread (so it never blocks publishing,
and needs no locks: one thread owns the analyser); results come back to the
reactor thread, which publishes changed keys with the per-key rate limit and
keeps the latest payload of every key for new clients and rejoins. Reactors
without threads (simulated clocks in tests) run the work inline."""
from pathlib import Path
from typing import Callable, Dict, List, Optional, Set, Tuple

from twisted.internet import defer, task
from twisted.internet.interfaces import IReactorThreads
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from ..analysis import Analyser, AnalysisStateError
from ..analysis import persistence as analysis_files
from ..protocol import AnalysisKey, Channel, Message, MessageClass
from .throttle import describe_error

MIN_KEY_INTERVAL = 10.0
SAVE_INTERVAL = 60.0
UNRETAINED = tuple(AnalysisKey.for_car(kind, "") for kind in (AnalysisKey.LAP, AnalysisKey.STINT))


def is_retained(key: str) -> bool:
    """`lap` and `stint` keys change constantly and are not retained."""
    return not key.startswith(UNRETAINED)


class LiveAnalysis:
    log = Logger()

    def __init__(self, uuid: str, manifest: Optional[dict], publish: Callable[[str, Message], None], reactor,
                 state_file: Optional[Path] = None, key_interval: float = MIN_KEY_INTERVAL):
        self.uuid = uuid
        self.reactor = reactor
        self.publish = publish
        self.state_file = state_file
        self.key_interval = max(key_interval, MIN_KEY_INTERVAL)
        self.analyser = self._load_or_new(manifest)
        self.latest: Dict[str, Message] = {}
        self._pending: Set[str] = set()
        self._last_sent: Dict[str, float] = {}
        self._pool: Optional[ThreadPool] = None
        self._loops: List[task.LoopingCall] = []
        self._changes = 0  # updates and manifests handed to the analyser so far
        self._snapshot: Optional[Tuple[int, dict]] = None  # (changes, whole v1 dict) last computed
        self._waiting: Optional[List[defer.Deferred]] = None  # callers of a computation under way

    # --- running work on the analyser's thread ------------------------------------

    def _run(self, function, *args) -> defer.Deferred:
        if self._pool is None:
            return defer.maybeDeferred(function, *args)
        return deferToThreadPool(self.reactor, self._pool, function, *args)

    def start(self) -> None:
        if IReactorThreads.providedBy(self.reactor):
            self._pool = ThreadPool(minthreads=1, maxthreads=1, name=f"analysis-{self.uuid}")
            self._pool.start()
            # Whatever a plugin's stop() does, the worker thread must not keep
            # the process alive: stop it (after its queued work) at shutdown.
            self.reactor.addSystemEventTrigger("during", "shutdown", self._stop_pool)
        for function, interval in ((self.flush, 1.0), (self.save, SAVE_INTERVAL)):
            loop = task.LoopingCall(function)
            loop.clock = self.reactor
            loop.start(interval, now=False).addErrback(lambda f: self.log.failure("Analysis loop failed", f))
            self._loops.append(loop)
        self.publish_all()

    def stop(self) -> defer.Deferred:
        """Save once more, then release the worker thread."""
        for loop in self._loops:
            if loop.running:
                loop.stop()
        d = self.save()

        def release(result):
            self._stop_pool()
            return result
        return d.addBoth(release)

    def _stop_pool(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.stop()

    # --- feeding -------------------------------------------------------------------

    def set_manifest(self, manifest: dict) -> None:
        self._changes += 1
        self._run(self.analyser.set_manifest, manifest)

    def submit(self, state: dict, new_messages: list, timestamp: float) -> defer.Deferred:
        """Queue one update; the reactor thread only learns which keys changed.
        Time is whole seconds, as in recordings and messages, so that the live
        analysis and the offline analysis of the recording agree exactly."""
        self._changes += 1
        d = self._run(self.analyser.update, int(timestamp), state, new_messages)
        d.addCallbacks(self._changed, self._failed)
        return d

    def _changed(self, keys: Set[str]) -> None:
        self._pending |= keys
        self.flush()

    def _failed(self, failure) -> None:
        self.log.failure("Analysis of an update failed; analysis continues with the next", failure)

    # --- publishing ------------------------------------------------------------------

    def flush(self) -> Optional[defer.Deferred]:
        """Publish the pending keys whose rate limit allows it."""
        now = self.reactor.seconds()
        due = [key for key in self._pending if now - self._last_sent.get(key, float("-inf")) >= self.key_interval]
        if not due:
            return None
        self._pending.difference_update(due)
        for key in due:
            self._last_sent[key] = now
        return self._run(self._payloads, due).addCallbacks(self._send, self._failed)

    def publish_all(self) -> defer.Deferred:
        """Every key at once: on (re)join, and to fill the cache at start."""
        return self._run(lambda: self._payloads(self.analyser.keys())).addCallbacks(self._send, self._failed)

    def _payloads(self, keys) -> List[Tuple[str, dict]]:
        return [(key, self.analyser.payload(key)) for key in sorted(keys)]

    def _send(self, payloads: List[Tuple[str, dict]]) -> None:
        date = int(self.reactor.seconds() * 1000)
        for key, payload in payloads:
            message = Message(MessageClass.ANALYSIS_DATA, payload, date=date, retain=is_retained(key))
            self.latest[key] = message
            self.publish(Channel.ANALYSIS_PUBLISH.format(self.uuid, key), message)

    def messages(self) -> List[Tuple[str, Message]]:
        """(topic, message) of the latest payload of every key."""
        return [(Channel.ANALYSIS_PUBLISH.format(self.uuid, key), message)
                for key, message in sorted(self.latest.items())]

    def data(self) -> defer.Deferred:
        """REQUEST_ANALYSIS_DATA: the whole v1 dict, a snapshot computed on the
        analyser's thread at most once per change however many clients ask:
        callers share the latest snapshot, or the computation under way. (A
        computation per call let a flood of calls queue work on the analyser's
        thread without bound and hold the GIL against the reactor.) The dict
        is detached from the analyser and never changed: callers only
        serialise it."""
        if self._snapshot is not None and self._snapshot[0] == self._changes:
            return defer.succeed(self._snapshot[1])
        waiter = defer.Deferred()
        if self._waiting is not None:
            self._waiting.append(waiter)
            return waiter
        self._waiting = [waiter]
        self._run(self.analyser.data).addBoth(self._snapshot_taken, self._changes)
        return waiter

    def _snapshot_taken(self, result, changes: int) -> None:
        waiting, self._waiting = self._waiting, None
        if isinstance(result, Failure):
            for waiter in waiting:
                waiter.errback(result)
            return
        self._snapshot = (changes, result)
        for waiter in waiting:
            waiter.callback(result)

    # --- persistence -----------------------------------------------------------------

    def _load_or_new(self, manifest: dict) -> Analyser:
        if self.state_file is not None and self.state_file.exists():
            try:
                analyser = analysis_files.load(self.state_file)
                if manifest is not None:
                    analyser.set_manifest(manifest)
                self.log.info("Analysis resumed from {path}", path=self.state_file)
                return analyser
            except AnalysisStateError as error:
                self.log.error("Analysis state {path} is unusable ({error}); starting empty",
                               path=self.state_file, error=error)
        return Analyser(manifest)

    def save(self) -> defer.Deferred:
        if self.state_file is None:
            return defer.succeed(None)
        return self._run(analysis_files.save, self.state_file, self.analyser).addErrback(self._save_failed)

    def _save_failed(self, failure) -> None:
        """A full disk or read-only directory is one line (each save, once a
        minute); anything else is a bug, logged with its traceback."""
        if failure.check(OSError):
            self.log.warn("Could not save the analysis to {path}: {error}", path=self.state_file,
                          error=describe_error(failure.value))
        else:
            self.log.failure("Could not save the analysis to {path}", failure, path=self.state_file)
