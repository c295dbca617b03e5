"""The web app served by a relay, and a master's page choosing the
least-loaded relay from `/relays`: a real master (`livetiming-router` with
the demo), two keyed relays (`livetiming-relay`, each its own Crossbar) and
a real headless Chromium."""
import pytest

from network import http_of, relays_listed, router_env, start_relay, start_router, until
from test_web_app import check_app, new_page, screenshot_dir

KEYS = ["web-relay-key-one-0123456789", "web-relay-key-two-0123456789"]


def page_of(ws_url: str) -> str:
    """The app's page on a router or relay given by its WebSocket URL."""
    return http_of(ws_url) + "/"


@pytest.fixture(scope="module")
def network(module_processes, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("web-relays")
    key_file = tmp_path / "relay-keys"
    key_file.write_text("\n".join(KEYS) + "\n")
    env = router_env(tmp_path, LIVETIMING_RELAY_KEY_FILE=key_file, LIVETIMING_RELAY_EXPIRY=3)
    master, url = start_router(module_processes, tmp_path, env=env, args=["--demo", "30"])
    uuid = master.wait_for(r"announcing service (\w+)", timeout=60).group(1)
    _, a_url = start_relay(module_processes, tmp_path, url, name="relay-a", key=KEYS[0])
    _, b_url = start_relay(module_processes, tmp_path, url, name="relay-b", key=KEYS[1])
    until(lambda: set(relays_listed(http_of(url))) == {a_url, b_url}, timeout=60, what="both relays listed")
    return {"master": page_of(url), "uuid": uuid, "a": a_url, "b": b_url,
            "shots": screenshot_dir(tmp_path / "screenshots")}


def test_the_app_served_by_a_relay(browser, network):
    """A relay has no `/relays` (404): its page talks to the relay itself."""
    relay_page = page_of(network["a"])
    check_app(browser, relay_page, network["shots"], expect_service=network["uuid"], label="relay")
    page, console = new_page(browser)
    page.goto(relay_page)
    page.locator(".card").first.wait_for()
    assert page.evaluate("window.livetiming.server") == network["a"]
    assert console.errors == []
    page.context.close()


def test_a_master_page_picks_the_least_loaded_relay(browser, network):
    """Two viewers on relay a, none on b: a page from the master goes to b,
    and works there."""
    hogs = []
    for _ in range(2):
        hog, _ = new_page(browser)
        hog.goto(page_of(network["a"]))
        hog.locator(".card").first.wait_for()
        hogs.append(hog)
    listing = {network["a"]: 2, network["b"]: 0}
    until(lambda: relays_listed(network["master"].rstrip("/")) == listing, timeout=60,
          what=f"the relays to report {listing}")
    page, console = new_page(browser)
    page.goto(network["master"])
    page.locator(".card").first.wait_for()
    assert page.evaluate("window.livetiming.server") == network["b"]
    assert console.errors == []
    page.context.close()
    check_app(browser, network["master"], network["shots"], expect_service=network["uuid"], label="via-master")
    for hog in hogs:
        hog.context.close()
