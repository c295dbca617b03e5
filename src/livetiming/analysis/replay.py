"""Offline analysis: stream a recording once through the same Analyser the
live service uses (frame timestamps as time, new messages derived per frame)
and produce the v1 analysis file."""
from pathlib import Path
from typing import Callable, Optional, Union

from ..recording import RecordingReader
from .analyser import Analyser


def analyse_recording(path: Union[str, Path], on_frame: Optional[Callable[[int, int], None]] = None,
                      on_state: Optional[Callable[[dict, int, dict], None]] = None) -> dict:
    """The v1 analysis file of a recording. `on_frame(done, total)` reports
    progress; `on_state(manifest, second, state)` sees every state of the same
    single pass (e.g. the CSV export noting when laps were completed). Raises
    RecordingError for unreadable recordings."""
    with RecordingReader(path) as recording:
        manifest = recording.manifest
        analyser = Analyser(manifest)
        total = recording.frame_count
        state = None
        for done, (second, state) in enumerate(recording.iter_states(), start=1):
            analyser.update(second, state)
            if on_state is not None:
                on_state(manifest, second, state)
            if on_frame is not None:
                on_frame(done, total)
        return analyser.to_file(manifest, state)
