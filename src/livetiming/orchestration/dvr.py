"""The DVR's core: one in-progress recording per service, fed the states,
manifests and analysis payloads the WAMP shell (`dvr_session.py`) receives,
finished into `<uuid>.zip` plus its analysis file after ten minutes of
silence. Plain objects and files; time is passed in, so tests drive it.

Per service the temp directory `LIVETIMING_RECORDINGS_TEMP_DIR/<uuid>/`
holds the RecordingWriter's files plus `analysis.json` (the latest analysis
payloads, saved atomically), so a DVR that is killed and restarted resumes
with nothing lost that had been received."""
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from twisted.logger import Logger

from .. import config
from ..analysis.replay import analyse_recording
from ..atomic import write_atomically
from ..protocol import AnalysisKey
from ..recording import RecordingError, RecordingReader, RecordingWriter
from .identity import SERVICE_UUID
from .settings import component_setting

log = Logger()

SILENCE_TIMEOUT = 600.0
MIN_DURATION = 600.0
ANALYSIS_FILE = "analysis.json"
ANALYSIS_SAVE_INTERVAL = 10.0
FINISHING_FILE = "finishing.json"
CLOCK_TOLERANCE = 60.0
"""A state stamped further than this from the DVR's clock is recorded at the DVR's time."""


@dataclass
class DVRSettings:
    recordings_dir: Path
    temp_dir: Path
    silence_timeout: float = SILENCE_TIMEOUT
    min_duration: float = MIN_DURATION


@dataclass
class ServiceRecording:
    """What the DVR holds for one service while recording it."""

    uuid: str
    directory: Path
    writer: RecordingWriter
    last_seen: float
    analysis: Dict[str, dict] = field(default_factory=dict)
    analysis_dirty: bool = False
    analysis_saved: float = 0.0

    @property
    def manifest(self) -> dict:
        return self.writer.manifest


def merge_analysis(analysis: Dict[str, dict], key: str, payload) -> None:
    """Fold one published analysis payload into the v1 dict shape."""
    kind, _, car = key.partition("/")
    if kind in AnalysisKey.PER_CAR and car:
        if isinstance(payload, dict) and car in payload:
            analysis.setdefault(kind, {})[car] = payload[car]
        else:
            raise ValueError(f"analysis payload for {key} does not hold car {car}")
    elif kind in AnalysisKey.WHOLE_SERVICE and not car:
        analysis[kind] = payload
    else:
        raise ValueError(f"unknown analysis key {key!r}")


class DVR:
    def __init__(self, settings: DVRSettings):
        self.settings = settings
        self.manifests: Dict[str, dict] = {}
        self.recordings: Dict[str, ServiceRecording] = {}
        # The latest analysis of every service, v1-shaped: a new recording of
        # a service starts from it, since unchanged keys are not re-published.
        self.latest_analysis: Dict[str, Dict[str, dict]] = {}
        settings.recordings_dir.mkdir(parents=True, exist_ok=True)
        settings.temp_dir.mkdir(parents=True, exist_ok=True)

    # --- restart -----------------------------------------------------------------

    def resume_all(self, now: float) -> List[str]:
        """Pick up in-progress recordings left by a previous run: resumed and
        given a fresh silence window (they finish normally if the service is gone)."""
        resumed = []
        for directory in sorted(p for p in self.settings.temp_dir.iterdir() if p.is_dir()):
            if self._complete_interrupted_finish(directory):
                continue
            try:
                writer = RecordingWriter.resume(directory)
            except RecordingError as error:
                log.warn("Cannot resume in-progress recording {directory}: {error}", directory=str(directory),
                         error=str(error))
                continue
            uuid = directory.name
            recording = ServiceRecording(uuid, directory, writer, last_seen=now)
            recording.analysis = self._load_analysis(directory)
            self.recordings[uuid] = recording
            self.manifests.setdefault(uuid, writer.manifest)
            resumed.append(uuid)
            log.info("Resumed recording of {uuid} ({frames} frames)", uuid=uuid, frames=writer.frame_count)
        return resumed

    def _complete_interrupted_finish(self, directory: Path) -> bool:
        """A DVR killed while finishing leaves a marker: if its ZIP was written,
        complete the analysis file and drop the directory (no duplicate `_1`)."""
        marker = directory / FINISHING_FILE
        if not marker.exists():
            return False
        try:
            target = json.loads(marker.read_text(encoding="utf-8"))
            zip_path = self.settings.recordings_dir / target["zip"]
            with RecordingReader(zip_path) as finished:
                if finished.last_frame != target["last_frame"]:
                    return False
        except (OSError, ValueError, KeyError, TypeError, RecordingError):
            marker.unlink(missing_ok=True)  # the ZIP was not written: finish again later
            return False
        if not zip_path.with_suffix(".json").exists():
            self._write_analysis(zip_path, self._load_analysis(directory), None)
        RecordingWriter.resume(directory).discard()
        log.info("Completed the interrupted finish of {path}", path=str(zip_path))
        return True

    def _load_analysis(self, directory: Path) -> Dict[str, dict]:
        path = directory / ANALYSIS_FILE
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError) as error:
            log.warn("Ignoring unreadable {path}: {error}", path=str(path), error=str(error))
            return {}

    # --- input -------------------------------------------------------------------

    def on_manifest(self, manifest: dict, now: float) -> Optional[Path]:
        """A (re-)announced manifest. A new name or description means a new
        session: the current recording is finished. Returns its ZIP, if any."""
        uuid = manifest["uuid"]
        self.manifests[uuid] = manifest
        recording = self.recordings.get(uuid)
        if recording is None:
            return None
        old = recording.manifest
        if (old.get("name"), old.get("description")) != (manifest.get("name"), manifest.get("description")):
            log.info("Service {uuid} started a new session ({description!r}); finishing its recording",
                     uuid=uuid, description=manifest.get("description"))
            return self.finish(uuid)
        if old != manifest:
            recording.writer.update_manifest(manifest)
        return None

    def on_state(self, uuid: str, timestamp: float, state: dict, now: float) -> bool:
        """Record one state; False when its manifest is not known yet (the
        shell then asks the directory and the state is dropped). A service
        clock far off ours, or going backwards, never makes frames unwritable."""
        recording = self.recordings.get(uuid)
        if recording is None:
            manifest = self.manifests.get(uuid)
            if manifest is None:
                return False
            recording = self._start(uuid, manifest, now)
        if abs(timestamp - now) > CLOCK_TOLERANCE:
            timestamp = now
        last = recording.writer.last_frame
        if last is not None and timestamp < last:
            log.warn("State of {uuid} stamped {timestamp}, before its last frame {last}: recorded as that frame",
                     uuid=uuid, timestamp=timestamp, last=last)
            timestamp = last
        recording.writer.write_frame(timestamp, state)
        recording.last_seen = now
        return True

    def on_analysis(self, uuid: str, key: str, payload, now: float) -> None:
        merge_analysis(self.latest_analysis.setdefault(uuid, {}), key, payload)
        recording = self.recordings.get(uuid)
        if recording is not None:
            merge_analysis(recording.analysis, key, payload)
            recording.analysis_dirty = True

    def _start(self, uuid: str, manifest: dict, now: float) -> ServiceRecording:
        if not SERVICE_UUID.match(uuid):
            raise ValueError(f"unusable service uuid {uuid!r}")
        directory = self.settings.temp_dir / uuid
        if (directory / "manifest.json").exists():  # left by a finish that failed: carry on with it
            writer = RecordingWriter.resume(directory, manifest)
        else:
            writer = RecordingWriter(directory, manifest)
        recording = ServiceRecording(uuid, directory, writer, last_seen=now)
        recording.analysis = json.loads(json.dumps(self.latest_analysis.get(uuid, {})))
        self.recordings[uuid] = recording
        log.info("Recording {uuid} ({name} - {description})", uuid=uuid, name=manifest.get("name"),
                 description=manifest.get("description"))
        return recording

    # --- time ----------------------------------------------------------------------

    def tick(self, now: float) -> List[Path]:
        """Save dirty analysis now and then; finish services silent for too long."""
        finished = []
        for uuid, recording in list(self.recordings.items()):
            try:
                if now - recording.last_seen >= self.settings.silence_timeout:
                    path = self.finish(uuid)
                    if path is not None:
                        finished.append(path)
                elif recording.analysis_dirty and now - recording.analysis_saved >= ANALYSIS_SAVE_INTERVAL:
                    self._save_analysis(recording, now)
            except Exception:
                log.failure("DVR housekeeping of {uuid} failed", uuid=uuid)
        return finished

    def _save_analysis(self, recording: ServiceRecording, now: float) -> None:
        write_atomically(recording.directory / ANALYSIS_FILE, json.dumps(recording.analysis))
        recording.analysis_dirty = False
        recording.analysis_saved = now

    def close(self, now: float) -> None:
        """Shutting down: keep everything in progress for the next run."""
        for recording in self.recordings.values():
            if recording.analysis_dirty:
                self._save_analysis(recording, now)
            recording.writer.close()
        self.recordings.clear()

    # --- finishing -------------------------------------------------------------------

    def finish(self, uuid: str) -> Optional[Path]:
        """Finalise (or discard) one recording; returns the ZIP when kept. If
        that fails, the in-progress directory stays and is carried on with."""
        recording = self.recordings.pop(uuid)
        try:
            return self._finish(recording)
        except Exception:
            log.failure("Finishing the recording of {uuid} failed; its frames stay in {directory}", uuid=uuid,
                        directory=str(recording.directory))
            recording.writer.close()
            return None

    def _finish(self, recording: ServiceRecording) -> Optional[Path]:
        uuid, writer = recording.uuid, recording.writer
        manifest = writer.manifest
        if manifest.get("doNotRecord"):
            log.info("Discarding recording of {uuid}: the service asked not to be recorded", uuid=uuid)
            writer.discard()
            return None
        if writer.frame_count == 0 or writer.duration < self.settings.min_duration:
            log.info("Discarding recording of {uuid}: {duration:.0f} s is too short", uuid=uuid,
                     duration=writer.duration)
            writer.discard()
            return None
        zip_path, recorded_uuid = self._target(uuid)
        if recorded_uuid != uuid:
            writer.update_manifest({**manifest, "uuid": recorded_uuid})
        write_atomically(recording.directory / FINISHING_FILE,
                         json.dumps({"zip": zip_path.name, "last_frame": writer.last_frame}), fsync=True)
        writer.finalise(zip_path)
        self._write_analysis(zip_path, recording.analysis, writer)
        writer.discard()
        log.info("Finished recording of {uuid}: {path} ({frames} frames, {duration:.0f} s)", uuid=uuid,
                 path=str(zip_path), frames=writer.frame_count, duration=writer.duration)
        return zip_path

    def _target(self, uuid: str):
        """`<uuid>.zip`, or `<uuid>_N.zip` (uuid `<uuid>:N`) when taken."""
        directory = self.settings.recordings_dir
        if not (directory / f"{uuid}.zip").exists():
            return directory / f"{uuid}.zip", uuid
        n = 1
        while (directory / f"{uuid}_{n}.zip").exists():
            n += 1
        return directory / f"{uuid}_{n}.zip", f"{uuid}:{n}"

    def _write_analysis(self, zip_path: Path, analysis: Dict[str, dict],
                        writer: Optional[RecordingWriter]) -> None:
        """From the analysis messages seen, plus manifest and final state; a
        service that published none gets the offline analysis instead. A
        failure is logged: the recording matters more (the catalogue can
        create the analysis file later)."""
        try:
            if analysis and writer is not None:
                data = {key: analysis.get(key, {}) for key in AnalysisKey.ALL}
                if not data[AnalysisKey.MESSAGES]:
                    data[AnalysisKey.MESSAGES] = {"messages": []}
                manifest = writer.manifest
                recorded_uuid = manifest["uuid"]
                data["service"] = {**manifest, "uuid": recorded_uuid, "startTime": writer.start_time,
                                   "duration": float(writer.duration)}
                data["state"] = writer.state
            else:
                data = analyse_recording(zip_path)
            write_atomically(zip_path.with_suffix(".json"), json.dumps(data), fsync=True)
        except Exception:
            log.failure("Could not write the analysis file of {path}", path=str(zip_path))


def settings_from(extra: Optional[dict]) -> DVRSettings:
    """Settings from a component's `extra`, else the environment."""
    extra = extra or {}
    return DVRSettings(
        recordings_dir=Path(extra.get("recordings_dir") or config.directory("LIVETIMING_RECORDINGS_DIR")),
        temp_dir=Path(extra.get("temp_dir") or config.directory("LIVETIMING_RECORDINGS_TEMP_DIR")),
        silence_timeout=float(component_setting(extra, "silence_timeout", "LIVETIMING_DVR_SILENCE_TIMEOUT",
                                                SILENCE_TIMEOUT)),
        min_duration=float(component_setting(extra, "min_duration", "LIVETIMING_DVR_MIN_DURATION", MIN_DURATION)),
    )
