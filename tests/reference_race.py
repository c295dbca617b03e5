"""Test support: iterate the frames of a v1 recording ZIP (protocol §7).

Deliberately tiny and strict; the real recording reader lives in the package.
Tests use it to replay the reference race fixture.
"""
import copy
import json
import os
import zipfile
from typing import Iterator, Tuple

import dictdiffer

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
REFERENCE_RACE = os.path.join(FIXTURES, "reference_race.zip")

MAX_MESSAGES = 100


def load_manifest(path: str = REFERENCE_RACE) -> dict:
    """The recording's `manifest.json` (rejects anything but version 1)."""
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    if manifest.get("version") != 1:
        raise ValueError(f"unsupported recording version {manifest.get('version')!r}")
    return manifest


def _frame_names(archive: zipfile.ZipFile) -> list:
    """Frame file names sorted by timestamp (`%011d.json` / `%011di.json`)."""
    names = [n for n in archive.namelist() if n != "manifest.json" and n.endswith(".json")]
    return sorted(names, key=lambda name: int(name[:11]))


def iter_frames(path: str = REFERENCE_RACE) -> Iterator[Tuple[int, dict]]:
    """Yield `(timestamp, state)` for every frame, keyframes as they are and
    intra-frames applied to the previous state. Each yielded state is a fresh
    object: callers may keep or mutate it."""
    state = None
    with zipfile.ZipFile(path) as archive:
        for name in _frame_names(archive):
            timestamp = int(name[:11])
            frame = json.loads(archive.read(name))
            if name.endswith("i.json"):
                if state is None:
                    raise ValueError(f"intra-frame {name} without a keyframe before it")
                state = {
                    "cars": dictdiffer.patch(frame["cars"], state["cars"], in_place=False),
                    "session": dictdiffer.patch(frame["session"], state["session"],
                                                in_place=False),
                    "messages": (frame["messages"] + state["messages"])[:MAX_MESSAGES],
                    "highlight": frame.get("highlight", []),
                }
            else:
                state = frame
            yield timestamp, copy.deepcopy(state)
