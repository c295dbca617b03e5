"""The core's version, from the installed distribution (setuptools-scm)."""
from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("livetiming-core")
except PackageNotFoundError:  # running from a source tree that was never installed
    VERSION = "unknown"
