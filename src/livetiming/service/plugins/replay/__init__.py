"""Built-in `replay`: play a recording back as a live service of the network.

    livetiming-service replay FILE.zip [--speed N] [--start +H:MM:SS] [--loop] [--uuid UUID]

For demos, for testing clients and relays with real data, and for watching a
past race together. The service announces the recording's manifest (same
name, service class, columns and track data; the description says it is a
replay; a new uuid unless --uuid) and publishes one state per recorded frame
at the recorded pace divided by --speed.

Decisions:
- The recorded frame times drive the replay (`schedule.Schedule`), not the
  service's poll loop: `auto_poll` is off and each frame is published when it
  is due. When frames fall due together (a stall, or --speed beyond what the
  process keeps up with) only the newest is published; the analysis still
  sees every one.
- The published state is the recorded one as it is, messages and highlight
  included: they are what the race said at the time. No message generator
  runs (they would only repeat, with replay-time timestamps, what the
  recording already holds).
- The live analysis is fed every frame with its recorded time, as the
  offline analysis of the recording is, so a replay from the start ends with
  the analysis `livetiming-analysis` gives for the file. It covers the first
  pass only: a loop starting over replays the timing, and the analysis stays
  that of the whole race. Each run's analysis starts afresh (with --uuid an
  earlier run's snapshot is set aside, not resumed).
- The state file is written at most once a second (not per frame).
- A replay is marked `doNotRecord`: the DVR would otherwise store another
  copy of the recording each time it is played.
- `--loop` starts again at the `--start` point (the beginning without it),
  one recorded second after the last frame.
- Every option mistake (missing, unreadable or damaged file, --speed not in
  (0, 1000], a --start that is malformed or after the end) is one line and
  exit code 2, while the options are parsed: before the service is built or
  touches the network.
"""
import argparse
import os
from typing import List, Optional

import orjson

from livetiming import config
from livetiming.recording import RecordingError, RecordingReader
from livetiming.service import cycle
from livetiming.service.base import BaseService
from livetiming.untrusted import LimitSettingError, one_line
from livetiming.version import VERSION

from .cursor import FrameCursor
from .schedule import (
    MAX_SPEED,
    Due,
    ReplayOptionError,
    Schedule,
    format_offset,
    parse_speed,
    parse_start,
    start_position,
)

__version__ = VERSION

REPLAY_PREFIX = "Replay: "
PREVIOUS_SUFFIX = ".previous"
SAVE_INTERVAL = 1.0
"""Real seconds between writes of the state file."""


def open_recording(path: str) -> RecordingReader:
    """The recording at `path`; RecordingError (one line) when it cannot be replayed."""
    try:
        return RecordingReader(path)
    except FileNotFoundError:
        raise RecordingError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise RecordingError(f"{path} is a directory, not a recording") from None
    except OSError as error:
        raise RecordingError(f"{path} cannot be read: {error.strerror or error}") from None
    except LimitSettingError as error:
        raise RecordingError(str(error)) from None


def state_text(state: dict) -> str:
    """A recorded state as the JSON text to publish. orjson, not the update
    cycle's encoder: a recorded state was decoded from JSON, so it holds only
    JSON values, and at 60x the stdlib encoder was a third of the replay's CPU."""
    try:
        return orjson.dumps(state).decode("utf-8")
    except (orjson.JSONEncodeError, TypeError):
        return cycle.to_json(state)   # names the offending value


class _OneLineAction(argparse.Action):
    """Checks an option as it is parsed; a mistake ends the program with one
    line and exit code 2 (`parser.exit`), without argparse's usage text.
    Once both the recording and --start are known, --start is checked
    against the recording's length (whichever came first on the line)."""

    def __call__(self, parser, namespace, value, option_string=None):
        try:
            setattr(namespace, self.dest, self.convert(value, namespace))
            frames, start = getattr(namespace, "replay_frames", None), getattr(namespace, "start", None)
            if frames and start is not None:
                start_position(frames, start)
        except (ReplayOptionError, RecordingError) as error:
            parser.exit(2, f"{parser.prog}: error: {one_line(str(error))}\n")

    def convert(self, value: str, namespace: argparse.Namespace):
        raise NotImplementedError


class _RecordingArgument(_OneLineAction):
    """The recording: opened here (manifest and frame list are read and
    checked) to refuse a bad file at once; the service opens it again to play it."""

    def convert(self, value, namespace):
        with open_recording(value) as reader:
            namespace.replay_frames = list(reader.frames)
        return value


class _SpeedArgument(_OneLineAction):
    def convert(self, value, namespace):
        return parse_speed(value)


class _StartArgument(_OneLineAction):
    def convert(self, value, namespace):
        return parse_start(value)


class Service(BaseService):
    """A recording played back as a live service (see the module's docstring)."""

    auto_poll = False  # the recorded frame times drive publishing (schedule.Schedule)

    @classmethod
    def add_arguments(cls, parser) -> None:
        """The plugin's options (`livetiming-service` adds them to its own)."""
        parser.add_argument("recording", metavar="FILE.zip", action=_RecordingArgument,
                            help="the recording to play (a .zip, or an in-progress recording directory)")
        parser.add_argument("--speed", action=_SpeedArgument, default=1.0, metavar="N",
                            help=f"play N times faster than recorded, above 0 and up to {MAX_SPEED:g} (default 1)")
        parser.add_argument("--start", action=_StartArgument, default=None, metavar="+H:MM:SS",
                            help="begin this long after the recording's first frame (default: at its start)")
        parser.add_argument("--loop", action="store_true", help="start over (at --start) after the last frame")

    def __init__(self, args, extra_args=None, reactor=None):
        super().__init__(args, extra_args, reactor)
        self.speed = float(getattr(args, "speed", 1.0) or 1.0)
        self.loop = bool(getattr(args, "loop", False))
        self.reader = self.open_reader(args.recording)
        self.recorded_manifest = self.reader.manifest
        self.cursor = FrameCursor(self.reader)
        offset = getattr(args, "start", None)
        self.start_position = start_position(self.reader.frames, offset) if offset is not None else 0
        source = self.recorded_manifest.get("source")
        if isinstance(source, list) and source and isinstance(source[0], str):
            self.attribution = source[:2]
        self.schedule: Optional[Schedule] = None
        self._pending = None     # the IDelayedCall of the next frame
        self.published: int = 0  # states published so far (for logs and benchmarks)
        self._last_save: Optional[float] = None

    def open_reader(self, path: str) -> RecordingReader:
        """Open the recording (tests override it to count what is read)."""
        return open_recording(path)

    # --- the manifest: the recording's -----------------------------------------------

    def getName(self) -> str:
        return str(self.recorded_manifest.get("name") or self.reader.path.stem)

    def getDefaultDescription(self) -> str:
        return REPLAY_PREFIX + str(self.recorded_manifest.get("description") or self.reader.path.stem)

    def getColumnSpec(self) -> list:
        return list(self.recorded_manifest.get("colSpec") or [])

    def getTrackDataSpec(self) -> list:
        return list(self.recorded_manifest.get("trackDataSpec") or [])

    def getPollInterval(self) -> float:
        return 1

    def _getServiceClass(self) -> str:
        """The recorded service class (clients treat the replay as the same
        kind of timing), unless --masquerade."""
        recorded = self.recorded_manifest.get("serviceClass")
        return getattr(self.args, "masquerade", None) or (recorded if isinstance(recorded, str) and recorded
                                                          else self.plugin_name)

    def _createServiceManifest(self) -> dict:
        manifest = super()._createServiceManifest()
        manifest["doNotRecord"] = True   # it is a recording already
        return manifest

    def _getMessageGenerators(self) -> list:
        """None: the recorded messages are published as they are."""
        return []

    def getRaceState(self) -> dict:
        """The state at the current frame (the first one before playing); the
        replay publishes frames itself, this serves `--check` and callers of
        the historical API."""
        state = self.cursor.state if self.cursor.state is not None else self.cursor.move_to(self.start_position)
        return {"cars": state.get("cars", []), "session": state.get("session", {})}

    # --- playing --------------------------------------------------------------------

    def _begin(self) -> None:
        """After the base has started the analyser and announced the service, play."""
        if not getattr(self.args, "disable_analysis", False):
            self._set_earlier_analysis_aside()
        super()._begin()
        if self.schedule is None:
            self.schedule = Schedule(self.reader.frames, self.speed, self.reactor.seconds(),
                                     start=self.start_position, loop=self.loop)
            self.log.info("Replaying {path} ({frames} frames, {duration}) from {start} at {speed:g}x{loop}",
                          path=str(self.reader.path), frames=self.reader.frame_count,
                          duration=format_offset(self.reader.duration),
                          start=format_offset(self.reader.frames[self.start_position] - self.reader.frames[0]),
                          speed=self.speed, loop=", looping" if self.loop else "")
            self._tick()

    def _set_earlier_analysis_aside(self) -> None:
        """A replay's analysis starts afresh each run: an earlier run under the
        same --uuid left its analysis snapshot, which the service would resume
        and then feed the race again. It is kept as `<uuid>.json.previous`."""
        try:
            snapshot = config.directory("LIVETIMING_ANALYSIS_DIR") / f"{self.uuid}.json"
            if snapshot.exists():
                os.replace(snapshot, snapshot.with_name(snapshot.name + PREVIOUS_SUFFIX))
                self.log.info("An earlier run's analysis is kept as {path}; this replay's starts afresh",
                              path=str(snapshot) + PREVIOUS_SUFFIX)
        except OSError as error:
            self.log.warn("Could not set the earlier analysis {uuid}.json aside: {error}", uuid=self.uuid,
                          error=error.strerror or str(error))

    def _tick(self) -> None:
        """Publish what is due now, then sleep until the next frame's time."""
        self._pending = None
        try:
            self.play(self.schedule.take_due(self.reactor.seconds()))
        except RecordingError as error:
            self.log.error("The replay stops: {error}", error=one_line(str(error)))
            return
        next_time = self.schedule.next_time()
        if next_time is None:
            self.log.info("End of the recording: the replay stays on its last state")
            return
        self._pending = self.reactor.callLater(max(0.0, next_time - self.reactor.seconds()), self._tick)

    def play(self, due: List[Due]) -> None:
        """Show the frames that fell due together: the analysis sees each (on
        the first pass), clients the newest."""
        for index, frame in enumerate(due):
            state = self.cursor.move_to(frame.position)
            if index + 1 < len(due):
                if frame.pass_number == 0:
                    self._feed_analysis_at(frame.second, state)
            else:
                self._publish_recorded(frame, state)

    def _publish_recorded(self, frame: Due, state: dict) -> None:
        # The cursor's states are never changed once built (each frame copies
        # what it patches), so the recorded state itself is the service's
        # state: no detached copy is needed, unlike a plugin's raw state.
        update = cycle.Update(state=state, text=state_text(state), new_messages=[])
        self.state = update.state
        self._current = frame
        self._after_update(update)
        self.published += 1

    def _save_state(self, update: cycle.Update) -> None:
        """The state file at most once every SAVE_INTERVAL seconds (and at
        stop, by the base): at 60x a write per frame was a quarter of the
        replay's CPU, and a replay's state file only says where it was."""
        now = self.reactor.seconds()
        if self._last_save is None or now - self._last_save >= SAVE_INTERVAL:
            self._last_save = now
            super()._save_state(update)

    def _feed_analysis(self, update: cycle.Update) -> None:
        """The analysis of a replay runs on recorded time (see the module's docstring)."""
        frame = getattr(self, "_current", None)
        if frame is not None and frame.pass_number == 0:
            self._feed_analysis_at(frame.second, update.state)

    def _feed_analysis_at(self, second: int, state: dict) -> None:
        if self.analyser is not None:
            # None: the analyser works the new messages out from consecutive
            # states, as the offline analysis of the recording does.
            self.analyser.submit(state, None, second)

    def stop(self):
        if self._pending is not None and self._pending.active():
            self._pending.cancel()
        self._pending = None
        result = super().stop()
        self.reader.close()
        return result
