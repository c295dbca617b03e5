"""Test support: fresh virtualenvs with plugin distributions installed
(normally or editable) as a plugin author would, and a local HTTP server for
the plugins' upstream feeds.

A fresh venv is made without pip (a tenth of a second) and sees the dev
venv's packages through a `.pth` line that runs `site.addsitedir()` on the dev
venv's site-packages, so that its own `.pth` files (livetiming-core's editable
install among them) apply too. Plugins are copied out of `tests/plugins` first,
so that building them leaves nothing in the checkout."""
import shutil
import subprocess
import sys
import sysconfig
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict

PLUGINS = Path(__file__).parent / "plugins"


class PluginVenv:
    def __init__(self, root: Path):
        self.root = root
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
        self.python = str(root / "bin" / "python")
        purelib = subprocess.run([self.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 capture_output=True, text=True, check=True, timeout=60).stdout.strip()
        self.site_packages = Path(purelib)
        dev_site = sysconfig.get_paths()["purelib"]
        (self.site_packages / "_livetiming_dev_site.pth").write_text(f"import site; site.addsitedir({dev_site!r})\n")

    def install(self, distribution: str, editable: bool, workdir: Path) -> Path:
        """Copy `tests/plugins/<distribution>` to `workdir` and pip-install it there."""
        source = workdir / distribution
        shutil.copytree(PLUGINS / distribution, source)
        for parent in ("livetiming", "livetiming/service", "livetiming/service/plugins"):
            assert not (source / "src" / parent / "__init__.py").exists(), "the namespace layout has no __init__.py"
        result = subprocess.run(
            [self.python, "-m", "pip", "--disable-pip-version-check", "-q", "install", "--no-deps",
             "--no-build-isolation", *(["-e"] if editable else []), str(source)],
            capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        return source

    def module(self, name: str, *args: str) -> list:
        """The command line running `python -m <name> args` in this venv."""
        return [self.python, "-m", name, *args]


class FeedServer:
    """Serves `content[path]` (bytes) on a free loopback port; tests change
    `content` to move the upstream feed on."""

    def __init__(self):
        self.content: Dict[str, bytes] = {}
        self.requests: Dict[str, int] = {}
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = feed.content.get(self.path)
                feed.requests[self.path] = feed.requests.get(self.path, 0) + 1
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


HOOKED_PLUGIN = '''"""Mapped by an import hook."""
from livetiming.racing import Stat
from livetiming.service import BaseService


class Service(BaseService):
    """Hooked plugin (editable through setuptools' import hook)."""

    def getName(self):
        return "Hooked"

    def getColumnSpec(self):
        return [Stat.NUM, Stat.STATE]

    def getPollInterval(self):
        return 1

    def getRaceState(self):
        return {"cars": [["3", "RUN"]], "session": {"flagState": "green"}}
'''

HOOKED_SETUP = '''[metadata]
name = livetiming-plugin-hooked
version = 0.1

[options]
package_dir =
    livetiming.service.plugins.hooked = plugin
packages = livetiming.service.plugins.hooked
'''


def write_hooked_plugin(root: Path) -> Path:
    """A distribution whose only package is mapped to a directory of another
    name: setuptools cannot install it editable with a `.pth` path entry and
    uses its import hook (a meta-path finder) instead."""
    (root / "plugin").mkdir(parents=True)
    (root / "plugin" / "__init__.py").write_text(HOOKED_PLUGIN)
    (root / "setup.cfg").write_text(HOOKED_SETUP)
    shutil.copy(PLUGINS / "example_plugin" / "pyproject.toml", root / "pyproject.toml")
    return root
