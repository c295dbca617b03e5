"""Local recording (`livetiming-service -r FILE`): frames go to an
in-progress directory beside FILE while the service runs (crash-safe), and
become FILE, a version-1 ZIP, when it stops. A directory left by a crash is
resumed on the next run, or finalised with `livetiming-rectool finalise`."""
from pathlib import Path
from typing import Union

from ..recording import RecordingWriter


class LocalRecorder:
    def __init__(self, path: Union[str, Path], manifest: dict):
        self.path = Path(path)
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
