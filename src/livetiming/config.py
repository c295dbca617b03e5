"""Configuration from environment variables, also read from a `livetiming.env`
file in the current directory or a parent (real environment variables win)."""
import os
from pathlib import Path
from typing import Optional

from dotenv import find_dotenv, load_dotenv

ENV_FILE = "livetiming.env"

def data_home() -> Path:
    """Per-user data directory: the default home of state, logs and recordings,
    so that running a service never litters the source tree."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "livetiming"


DEFAULTS = {
    "LIVETIMING_AUTH_ID": "services",
    "LIVETIMING_ENVIRONMENT": "development",
    "LIVETIMING_STANDALONE_PORT": "0",
    "LIVETIMING_STANDALONE_INTERFACE": "127.0.0.1",
}

DEFAULT_DIRECTORIES = {
    "LIVETIMING_STATE_DIR": "state",
    "LIVETIMING_LOG_DIR": "logs",
    "LIVETIMING_ANALYSIS_DIR": "analysis",
    "LIVETIMING_RECORDINGS_DIR": "recordings",
    "LIVETIMING_RECORDINGS_TEMP_DIR": "recordings-in-progress",
}


def load_env_file() -> Optional[str]:
    """Load `livetiming.env` from the working directory or a parent, never
    overriding variables that are already set. Returns the file used, if any."""
    path = find_dotenv(ENV_FILE, usecwd=True)
    if path:
        load_dotenv(path, override=False)
    return path or None


def get(name: str, default: Optional[str] = None) -> Optional[str]:
    """An environment setting; empty strings count as unset."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default if default is not None else DEFAULTS.get(name)
    return value


DIRECTORY_MODE = 0o755
"""Data directories we create: at most this (a stricter umask still applies),
so that only the owner can add or replace files, even with umask 0."""


def directory(name: str) -> Path:
    """A directory setting (e.g. LIVETIMING_STATE_DIR), created on first use."""
    value = get(name)
    path = Path(value).expanduser() if value else data_home() / DEFAULT_DIRECTORIES[name]
    make_directory(path)
    return path


def make_directory(path: Path, mode: int = DIRECTORY_MODE) -> None:
    """`mkdir -p` whose every created directory gets at most `mode`
    (Path.mkdir gives the parents it creates 0o777 less the umask:
    world-writable with umask 0)."""
    missing = []
    while not path.is_dir():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    for directory_path in reversed(missing):
        try:
            directory_path.mkdir(mode)
        except FileExistsError:  # made meanwhile by another process: fine, if it is a directory
            if not directory_path.is_dir():
                raise
