"""The web app showing a standalone service (protocol §8: a plain WebSocket,
no router), opened as `/?standalone=ws://host:port`: the same pages over
the service's own frames. The app's files are served here by Python's
http.server (a router or relay serves them the same way)."""
import sys
from pathlib import Path

import pytest

import livetiming.web
from network import free_port
from processes import command
from test_web_app import check_app, new_page, screenshot_dir

STATIC = Path(livetiming.web.__file__).parent / "static"


@pytest.fixture(scope="module")
def standalone(module_processes, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("web-standalone")
    env = {"LIVETIMING_STATE_DIR": str(tmp_path / "state"), "LIVETIMING_LOG_DIR": str(tmp_path / "logs"),
           "LIVETIMING_ANALYSIS_DIR": str(tmp_path / "analysis"), "LIVETIMING_STANDALONE_PORT": "0",
           "LIVETIMING_ROUTER": "", "SENTRY_DSN": ""}
    service = module_processes([command("livetiming-service"), "demo", "--standalone", "--speed", "30", "--grid",
                                "1", "-v"], env=env)
    match = service.wait_for(r"Standalone server for uuid:(\w+) listening on port:(\d+)", timeout=60)
    port = free_port()
    server = module_processes([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(STATIC)])
    server.wait_for(r"Serving HTTP", timeout=30)
    return {"page": f"http://127.0.0.1:{port}/?standalone=ws://127.0.0.1:{match.group(2)}",
            "uuid": match.group(1), "ws": f"ws://127.0.0.1:{match.group(2)}",
            "shots": screenshot_dir(tmp_path / "screenshots")}


def test_the_app_on_a_standalone_service(browser, standalone):
    check_app(browser, standalone["page"], standalone["shots"], expect_service=standalone["uuid"],
              label="standalone")
    page, console = new_page(browser)
    page.goto(standalone["page"])
    page.locator(".card").first.wait_for()
    assert page.evaluate("window.livetiming.server") == standalone["ws"]
    assert page.locator(".card").count() == 1
    assert console.errors == []
    page.context.close()
