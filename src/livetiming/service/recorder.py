"""Local recording (`livetiming-service -r FILE`): frames go to an
in-progress directory beside FILE while the service runs (crash-safe), and
become FILE, a version-1 ZIP, when it stops. A directory left by a crash is
resumed on the next run, or finalised with `livetiming-rectool finalise`."""
import os
from pathlib import Path
from typing import Union

from ..recording import RecordingError, RecordingWriter


def check_recording_path(path: Union[str, Path]) -> Path:
    """The file `-r` names, checked before anything is recorded: the ZIP is
    only written when the service stops, so a path that cannot take it would
    otherwise fail at shutdown and leave the frames behind."""
    path = Path(path)
    if path.is_dir():
        raise RecordingError(f"-r {path}: is a directory; name the file to write, e.g. {path / 'race.zip'}")
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise RecordingError(f"-r {path}: {parent} is not a directory")
    if parent.is_dir() and not os.access(parent, os.W_OK | os.X_OK):
        raise RecordingError(f"-r {path}: the directory {parent} is not writable")
    return path


class LocalRecorder:
    def __init__(self, path: Union[str, Path], manifest: dict):
        self.path = check_recording_path(path)
        self.directory = self.path.with_name(self.path.name + ".inprogress")
        if (self.directory / "manifest.json").exists():
            self.writer = RecordingWriter.resume(self.directory, manifest)
        else:
            self.writer = RecordingWriter(self.directory, manifest)

    def write_frame(self, timestamp: float, state: dict) -> None:
        self.writer.write_frame(timestamp, state)

    def update_manifest(self, manifest: dict) -> None:
        self.writer.update_manifest(manifest)

    def finish(self) -> bool:
        """Write FILE and remove the in-progress directory; False when nothing was recorded."""
        try:
            if self.writer.frame_count == 0:
                self.writer.discard()
                return False
            self.writer.finalise(self.path)
            self.writer.discard()
            return True
        finally:
            self.writer.close()
