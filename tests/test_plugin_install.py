"""A plugin is a pip-installable package in the namespace package
`livetiming.service.plugins`: build one exactly as the spec lays it out,
install it normally and editable, and run it with `livetiming-service`."""
import json
import subprocess
import sys
import textwrap

import pytest
import websocket

from processes import command

PLUGIN = textwrap.dedent('''
    """A throw-away plugin made by the test suite."""
    from livetiming.protocol import Stat
    from livetiming.service.base import BaseService

    __version__ = "9.9.9"


    class Service(BaseService):
        """Throw-away test plugin."""

        def getName(self):
            return "Throwaway"

        def getColumnSpec(self):
            return [Stat.NUM, Stat.STATE]

        def getPollInterval(self):
            return 1

        def getRaceState(self):
            extra = " ".join(self.extra_args)
            return {"cars": [["1", "RUN"]], "session": {"flagState": "green", "note": extra}}
''')


def make_plugin_package(root, name):
    (root / "src" / "livetiming" / "service" / "plugins" / name).mkdir(parents=True)
    (root / "src" / "livetiming" / "service" / "plugins" / name / "__init__.py").write_text(PLUGIN)
    (root / "pyproject.toml").write_text(textwrap.dedent('''
        [build-system]
        requires = ["setuptools>=64"]
        build-backend = "setuptools.build_meta"
    '''))
    (root / "setup.cfg").write_text(textwrap.dedent(f'''
        [metadata]
        name = livetiming-plugin-{name}
        version = 9.9.9

        [options]
        package_dir =
            = src
        packages = find_namespace:

        [options.packages.find]
        where = src
    '''))
    return root


def pip(*args):
    result = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(params=["normal", "editable"])
def installed_plugin(request, tmp_path):
    name = f"throwaway_{request.param}"
    root = make_plugin_package(tmp_path / "pkg", name)
    for parent in ("src/livetiming", "src/livetiming/service", "src/livetiming/service/plugins"):
        assert not (root / parent / "__init__.py").exists()
    editable = ["-e"] if request.param == "editable" else []
    pip("install", "--no-deps", "--no-build-isolation", *editable, str(root))
    yield name
    pip("uninstall", "-y", f"livetiming-plugin-{name}")


def test_installed_plugin_is_listed_and_runs(installed_plugin, processes, service_env):
    listing = subprocess.run([command("livetiming-plugins")], capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0, listing.stderr
    entries = {entry["name"]: entry for entry in json.loads(listing.stdout)}
    assert "demo" in entries
    assert entries[installed_plugin]["description"] == "Throw-away test plugin."

    human = subprocess.run([command("livetiming-plugins"), "-H"], capture_output=True, text=True, timeout=60)
    assert any(line.startswith(installed_plugin) for line in human.stdout.splitlines())

    service = processes([command("livetiming-service"), installed_plugin, "--plugin-flag", "x"])
    port = int(service.wait_for(r"listening on port:(\d+)", stream="stderr").group(1))
    client = websocket.create_connection(f"ws://127.0.0.1:{port}/", timeout=20)
    try:
        topic, manifest = json.loads(client.recv())
        assert manifest["payload"]["serviceClass"] == installed_plugin
        assert manifest["payload"]["livetimingVersion"]["plugin"] == "9.9.9"
    finally:
        client.close()
