"""Test support for the web app in a real headless Chromium (the
distribution's /usr/bin/chromium driven by Playwright from PyPI; nothing is
downloaded). `browser_page(url)` opens a page and collects its console
errors; `check_app(page, url, uuid, shots)` is the reusable walk through the
three pages that the master test runs and a relay test can run too."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator, List, Optional

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT_MS = 30_000
"""Bound on any one wait for the page (ms)."""


def require_chromium() -> None:
    """Skip without Chromium on a developer's machine; in CI it must be there."""
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing in CI (.ci/run installs it with apt-get install -y chromium)")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")


def screenshot_dir(tmp_path: Path) -> Path:
    """Where screenshots go: LIVETIMING_SCREENSHOTS when set, else the test's tmp dir."""
    target = Path(os.environ.get("LIVETIMING_SCREENSHOTS") or tmp_path / "screenshots")
    target.mkdir(parents=True, exist_ok=True)
    return target


class ConsoleLog:
    """Console errors and page errors of one page. A 404 for `/relays` is the
    app asking a relay (which has no relay list) and is expected."""

    def __init__(self, page):
        self.errors: List[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))

    def _console(self, message) -> None:
        if message.type != "error":
            return
        location = (message.location or {}).get("url", "")
        if "status of 404" in message.text and location.endswith("/relays"):
            return
        self.errors.append(f"console: {message.text} ({location})")


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser, width: int = 1280, height: int = 900):
    """A page in a fresh context (its own localStorage) and its console log."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    return page, ConsoleLog(page)


def demo_uuid(page) -> str:
    """The demo's uuid as the services page lists it."""
    card = page.locator(".card[data-uuid]").first
    card.wait_for()
    return card.get_attribute("data-uuid")


def table_date(page) -> int:
    """The wrapper date of the state the timing table shows."""
    return int(page.locator("#timing-table").get_attribute("data-date") or 0)


def wait_new_table(page, after: int) -> int:
    page.wait_for_function(f"Number(document.querySelector('#timing-table')?.dataset.date || 0) > {after}")
    return table_date(page)


def check_app(browser, base_url: str, shots: Path, expect_service: Optional[str] = None,
              label: str = "master") -> str:
    """The walk every served copy of the app must pass: the services page
    lists the demo; the timing page has one row per car with the manifest's
    columns, a flag band, messages, and redraws after the next publish; the
    analysis page shows stints for every car; no console errors. Returns
    the demo's uuid."""
    page, console = new_page(browser)
    page.goto(base_url)
    page.locator(".card h2").first.wait_for()
    uuid = expect_service or demo_uuid(page)
    card = page.locator(f'.card[data-uuid="{uuid}"]')
    assert card.locator(".service-class").inner_text() == "demo"
    page.screenshot(path=str(shots / f"{label}-services.png"), full_page=True)

    page.goto(f"{base_url}#/{uuid}")
    page.locator("#timing-table tbody:not(.pinned) tr").first.wait_for()
    manifest = page.evaluate(f"window.livetiming.directory.get({uuid!r})")
    headings = page.locator("#timing-table thead th").all_inner_texts()
    assert headings == [column[0] for column in manifest["colSpec"]]
    first = table_date(page)
    second = wait_new_table(page, first)
    state = page.evaluate(f"window.livetiming.client.call('livetiming.service.requestState.{uuid}')"
                          ".then(r => r.args[0])")
    rows = page.locator("#timing-table tbody:not(.pinned) tr")
    assert rows.count() == len(state["cars"])
    assert page.locator("#flag").get_attribute("data-flag") == state["session"]["flagState"]
    assert page.locator("#messages li").count() > 0
    assert second > first
    page.screenshot(path=str(shots / f"{label}-timing.png"), full_page=True)

    page.goto(f"{base_url}#/{uuid}/analysis")
    page.wait_for_function("document.querySelectorAll('.car-analysis').length > 0")
    cars = len(state["cars"])
    page.wait_for_function(f"document.querySelectorAll('.car-analysis').length === {cars}")
    without = "[...document.querySelectorAll('.car-analysis')].filter(s => !s.querySelector('tr.stint-row'))"
    try:  # a car that starts from the pit lane has its first stint once it leaves
        page.wait_for_function(f"{without}.length === 0")
    except PlaywrightTimeout:
        raise AssertionError(f"cars without stints: {page.evaluate(without + '.map(s => s.dataset.car)')}") from None
    page.locator("#lap-chart svg").wait_for()
    page.screenshot(path=str(shots / f"{label}-analysis.png"), full_page=True)
    assert console.errors == []
    page.context.close()
    return uuid


# --- the tests ---------------------------------------------------------------------------------------------------

DEMO_SPEED = 30
"""Fast enough that pit stops, stints and messages come within seconds."""


@pytest.fixture(scope="module")
def demo_router(module_processes, tmp_path_factory):
    """A real router (Crossbar) running the demo race; yields (page URL, demo uuid)."""
    from network import router_env, start_router

    tmp_path = tmp_path_factory.mktemp("web")
    process, ws_url = start_router(module_processes, tmp_path, env=router_env(tmp_path),
                                   args=["--demo", str(DEMO_SPEED)])
    uuid = process.wait_for(r"announcing service (\w+)", timeout=60).group(1)
    yield "http" + ws_url[len("ws"):-len("ws")], uuid


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return screenshot_dir(tmp_path_factory.mktemp("shots"))


def timing_page(browser, url: str, uuid: str, **size):
    page, console = new_page(browser, **size)
    page.goto(f"{url}#/{uuid}")
    page.locator("#timing-table tbody:not(.pinned) tr").first.wait_for()
    return page, console


def shown_after(page, since: int) -> dict:
    """The first update the page drew that arrived after `since` (ms since the epoch)."""
    script = f"window.livetiming.metrics.updates.find(u => u.receivedAt > {since})"
    page.wait_for_function(f"!!({script})")
    return page.evaluate(script)


def test_pages_on_master(browser, demo_router, shots):
    """Services, timing and analysis pages against the master, with no console errors."""
    url, uuid = demo_router
    assert check_app(browser, url, shots, expect_service=uuid) == uuid


def test_page_connects_to_the_server_it_came_from(browser, demo_router):
    """No relay reports to this master, so `/relays` lists none: the page uses the master's /ws."""
    url, uuid = demo_router
    page, console = new_page(browser)
    page.goto(url)
    page.locator(f'.card[data-uuid="{uuid}"]').wait_for()
    assert page.evaluate("window.livetiming.server") == url.replace("http://", "ws://") + "ws"
    assert console.errors == []
    page.context.close()


def test_delay_holds_updates_back_and_survives_reload(browser, demo_router, shots):
    url, uuid = demo_router
    page, console = timing_page(browser, url, uuid)
    delay = 3
    page.locator("#settings summary").click()
    page.fill("#delay", str(delay))
    page.locator("#delay").dispatch_event("change")
    changed_at = page.evaluate("Date.now()")  # every update that arrives from now on is held back
    update = shown_after(page, changed_at)
    assert update["shownAt"] - update["receivedAt"] >= delay * 1000
    assert page.locator("#delay-note").inner_text() == f"(delayed {delay} s)"

    page.reload()  # a new document: its record starts empty
    assert page.locator("#delay").input_value() == str(delay)
    first = shown_after(page, 0)
    assert first["shownAt"] - first["receivedAt"] >= delay * 1000
    page.locator("#timing-table tbody:not(.pinned) tr").first.wait_for()
    page.screenshot(path=str(shots / "timing-delayed.png"))
    assert console.errors == []
    page.context.close()


def test_hidden_columns_and_focused_car_are_remembered(browser, demo_router):
    url, uuid = demo_router
    page, console = timing_page(browser, url, uuid)
    row = page.locator("#timing-table tbody:not(.pinned) tr").nth(2)
    car = row.get_attribute("data-car")
    row.click()
    page.locator(f'#timing-table tbody.pinned tr[data-car="{car}"]').wait_for()
    page.locator("#settings summary").click()
    page.locator('input[data-heading="Team"]').uncheck()
    assert "Team" not in page.locator("#timing-table thead th").all_inner_texts()
    pinned = page.locator(f'#timing-table tbody.pinned tr[data-car="{car}"]')
    pinned.wait_for()
    assert pinned.locator("td").count() == len(page.locator("#timing-table thead th").all_inner_texts())

    page.reload()
    page.locator(f'#timing-table tbody.pinned tr[data-car="{car}"]').wait_for()
    headings = page.locator("#timing-table thead th").all_inner_texts()
    assert "Team" not in headings and "Driver" in headings
    page.locator(f'#timing-table tbody:not(.pinned) tr.focus[data-car="{car}"]').wait_for()
    assert console.errors == []
    page.context.close()


def test_phone_width(browser, demo_router, shots):
    """At a phone's width the page itself never scrolls sideways (only the table does)."""
    url, uuid = demo_router
    page, console = timing_page(browser, url, uuid, width=390, height=844)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(shots / "phone-timing.png"), full_page=True)
    page.goto(f"{url}#/{uuid}/analysis")
    page.locator(".car-analysis").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(shots / "phone-analysis.png"))
    assert console.errors == []
    page.context.close()


# --- the table against the state it was drawn from ----------------------------------------------------------------

SNAPSHOT = """() => ({
  state: window.livetiming.metrics.shown,
  rows: [...document.querySelectorAll('#timing-table tbody:not(.pinned) tr')].map(tr => ({
    car: tr.dataset.car, cls: tr.className,
    cells: [...tr.cells].map(td => ({text: td.textContent, cls: td.className.split(' ')}))})),
})"""
TIME_FLAGS = {"pb", "sb", "sb-new", "old"}
ROW_STATES = {"RUN", "PIT", "OUT", "FUEL", "STOP", "RET", "FIN", "N/S"}


def lap_time(value) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "" if value is None else str(value)
    if value <= 0:
        return ""
    minutes, seconds = divmod(value, 60)
    return f"{int(minutes)}:{seconds:06.3f}" if minutes else f"{seconds:.3f}"


def delta(value) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "" if value is None else str(value)
    if value == 0:
        return ""
    return lap_time(value) if abs(value) >= 60 else f"{value:.3f}"


def numeric(value) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(round(value, 3))
    return "" if value is None else str(value)


def plain(value) -> str:
    return "" if value is None else str(value)


def expected_cell(column_type: str, cell) -> tuple:
    """(text, flag) the page should show for a cell of this column type."""
    value, flag = (cell[0], cell[1]) if isinstance(cell, list) else (cell, "")
    return {"time": lap_time, "delta": delta, "numeric": numeric}.get(column_type, plain)(value), flag


def test_table_cells_match_the_state(browser, demo_router, shots):
    """Cell by cell: text as formatted (m:ss.sss times, gaps), pb/sb/sb-new/old
    classes on time cells, class colours, row state colours, flashing
    highlights; checked on several consecutive updates."""
    url, uuid = demo_router
    page, console = timing_page(browser, url, uuid)
    columns = page.evaluate(f"window.livetiming.directory.get({uuid!r}).colSpec")
    state_index = [c[0] for c in columns].index("State")
    seen_flags, seen_states, flashes = set(), set(), 0
    date = table_date(page)
    for _ in range(5):
        date = wait_new_table(page, date)
        snapshot = page.evaluate(SNAPSHOT)
        cars, rows = snapshot["state"]["cars"], snapshot["rows"]
        assert len(rows) == len(cars)
        for car, row in zip(cars, rows):
            assert row["car"] == str(car[0])
            for (heading, column_type, *_), cell, shown in zip(columns, car, row["cells"]):
                text, flag = expected_cell(column_type, cell)
                assert shown["text"] == text, (car[0], heading, cell)
                assert f"c-{column_type}" in shown["cls"]
                if flag in TIME_FLAGS:
                    assert f"t-{flag}" in shown["cls"], (car[0], heading, cell)
                    seen_flags.add(flag)
                if column_type == "class":
                    assert "cls" in shown["cls"]
            state = car[state_index]
            if state in ROW_STATES:
                assert f"state-{state.replace('/', '')}" in row["cls"].split()
                seen_states.add(state)
        for num in snapshot["state"].get("highlight", []):
            row = next(r for r in rows if r["car"] == num)
            assert "flash-a" in row["cls"] or "flash-b" in row["cls"]
            flashes += 1
    assert {"pb", "old"} <= seen_flags and "RUN" in seen_states and flashes > 0
    colours = page.evaluate("[...document.querySelectorAll('td.cls')].map(td => td.style"
                            ".getPropertyValue('--class-colour'))")
    assert colours and all(colours)
    assert console.errors == []
    page.context.close()


def test_new_messages_newest_first(browser, demo_router):
    url, uuid = demo_router
    page, console = timing_page(browser, url, uuid)
    page.locator("#messages li").first.wait_for()
    newest = page.locator("#messages li").first.inner_text()
    for _ in range(3):  # new messages come on top of the old ones, several updates running
        page.wait_for_function("(before) => document.querySelector('#messages li').innerText !== before", arg=newest)
        snapshot = page.evaluate("""() => ({shown: window.livetiming.metrics.shown.messages,
            items: [...document.querySelectorAll('#messages li')].map(li => [li.querySelector('.text').textContent,
                                                                          li.className])})""")
        shown = snapshot["shown"]
        assert snapshot["items"] == [[message[2], f"msg msg-{message[3] or 'plain'}"] for message in shown]
        assert [message[0] for message in shown] == sorted((message[0] for message in shown), reverse=True)
        newest = page.locator("#messages li").first.inner_text()
    assert console.errors == []
    page.context.close()


def test_services_come_and_go(browser, demo_router, processes, tmp_path):
    """A new service appears as a card, a hidden one never does (its direct
    link still works), and a stopped one goes; the timing page of a stopped
    service says so."""
    from network import start_service

    url, uuid = demo_router
    ws_url = "ws" + url[len("http"):] + "ws"
    page, console = new_page(browser)
    page.goto(url)
    page.locator(f'.card[data-uuid="{uuid}"]').wait_for()
    _, hidden = start_service(processes, ws_url, tmp_path, "demo", "-H", "--cars", "20")
    second, visible = start_service(processes, ws_url, tmp_path, "demo", "--cars", "20", "-d", "Second race")
    card = page.locator(f'.card[data-uuid="{visible}"]')
    card.wait_for()
    assert card.locator(".description").inner_text() == "Second race"
    assert page.locator(f'.card[data-uuid="{hidden}"]').count() == 0
    direct, direct_console = timing_page(browser, url, hidden)  # not listed, but a direct link works
    assert direct_console.errors == []
    direct.context.close()
    watcher, watcher_console = timing_page(browser, url, visible)
    second.stop()
    card.wait_for(state="detached")
    assert page.locator(f'.card[data-uuid="{uuid}"]').count() == 1
    watcher.locator("#service-status").filter(has_text="no longer live").wait_for()
    assert console.errors == watcher_console.errors == []
    page.context.close()
    watcher.context.close()


def test_page_reconnects_and_resubscribes(browser, demo_router):
    url, uuid = demo_router
    page, console = timing_page(browser, url, uuid)
    page.locator("#connection.live").wait_for()
    page.evaluate("window.livetiming.client.socket.close()")
    page.locator("#connection.down").wait_for()
    page.locator("#connection.live").wait_for()
    after = page.evaluate("Date.now()")
    shown_after(page, after)
    assert console.errors == []
    page.context.close()
