"""Recordings in the web app and the replay player, in a real headless
Chromium against a real router whose recordings directory holds the
reference race (with its analysis file) and a recording written by the
DVR's RecordingWriter: the catalogue lists both, newest first, filters by
name, and links downloads that return the files' bytes; the player plays,
pauses, changes speed, and after seeks (jump box and seek bar) shows exactly
the state `livetiming-rectool state-at` gives — cars in order, the
manifest's columns, cell texts, flag, messages; the flag periods are drawn
on the seek bar; the analysis tab shows the recording's analysis; no
console errors. Screenshots are written as test_web_app's are; `browser` is
the shared Chromium fixture of conftest.py (skipped without Chromium outside CI)."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import urllib.error
import urllib.request
from bisect import bisect_right
from pathlib import Path

import pytest

from livetiming.recording import RecordingReader
from network import js_client, router_env, start_router
from processes import command
from test_catalogue import make_recording
from test_web_app import new_page, screenshot_dir

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = "7e1f0c0a71a54c1e9b1d2024041413ff"
SMALL = "uuid-dvr-small"
SMALL_FRAMES = 25
ARCHIVE = 50
FLAGS = ["none", "green", "white", "chequered", "yellow", "fcy", "code_60", "vsc", "sc", "caution", "red",
         "slow_zone", "code_60_zone"]
"""FlagStatus names by value (constants.md)."""


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return screenshot_dir(tmp_path_factory.mktemp("replay-shots"))


@pytest.fixture(scope="module")
def master(module_processes, tmp_path_factory):
    """A real router whose catalogue lists the reference race and a small recording; yields its facts."""
    tmp_path = tmp_path_factory.mktemp("replay")
    directory = tmp_path / "recordings"
    directory.mkdir()
    shutil.copy(FIXTURES / "reference_race.zip", directory / "reference.zip")
    shutil.copy(FIXTURES / "reference_race.analysis.json", directory / "reference.json")
    small = make_recording(directory, "small.zip", SMALL, 1_700_000_000, name="Small Series", frames=SMALL_FRAMES)
    for n in range(ARCHIVE):   # older ones, so that the catalogue has a second page
        make_recording(directory, f"archive-{n}.zip", f"uuid-archive-{n:02d}", 1_600_000_000 + n * 86_400,
                       name="Archive")
    env = router_env(tmp_path, LIVETIMING_RECORDINGS_DIR=directory, LIVETIMING_RECORDINGS_REFRESH_INTERVAL=1,
                     GENERATE_ANALYSIS="")
    _, url = start_router(module_processes, tmp_path, env=env)
    for uuid in (REFERENCE, SMALL):   # one scan indexes them all
        out = js_client(url, [{"op": "until", "procedure": "livetiming.recordings.page", "contains": uuid}])
        assert "error" not in out["results"][0]
    yield {"http": url.replace("ws://", "http://").rsplit("/ws", 1)[0] + "/",
           "files": {REFERENCE: directory / "reference.zip", SMALL: small},
           "analysis": directory / "reference.json"}


def rectool_state(path: Path, time: str) -> dict:
    result = subprocess.run([command("livetiming-rectool"), "state-at", str(path), time], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def frame_time(path: Path, offset: float) -> int:
    """The second of the frame shown at `offset` from the recording's start."""
    with RecordingReader(path) as reader:
        frames = reader.frames
        t = reader.start_time + offset
    return frames[max(0, bisect_right(frames, t) - 1)]


def open_player(browser, base: str, uuid: str, **size):
    page, console = new_page(browser, **size)
    page.goto(f"{base}#/recordings/{uuid}")
    page.wait_for_function("document.querySelector('#player')?.dataset.state === 'paused'")
    return page, console


def check_shows(page, state: dict, manifest: dict) -> None:
    """The screen shows `state` (as rectool gives it): columns, rows in order, cells, flag, messages."""
    assert page.evaluate("window.livetiming.replay.current.state") == state
    headings = page.locator("#timing-table thead th").all_inner_texts()
    assert headings == [column[0] for column in manifest["colSpec"]]
    num = headings.index("Num")
    rows = page.evaluate("[...document.querySelectorAll('#timing-table tbody:not(.pinned) tr')]"
                         ".map(tr => [...tr.children].map(td => td.textContent))")
    assert [row[num] for row in rows] == [str(car[num]) for car in state["cars"]]
    text_columns = [i for i, column in enumerate(manifest["colSpec"]) if column[1] in ("text", "class")]
    for row, car in zip(rows, state["cars"]):
        for i in text_columns:
            value = car[i][0] if isinstance(car[i], list) else car[i]
            assert row[i] == ("" if value is None else str(value)), (headings[i], row, car)
    flag = str(state["session"].get("flagState", "none")).lower()
    assert page.locator("#flag").get_attribute("data-flag") == flag
    shown = page.locator("#messages li .text").all_inner_texts()
    assert shown == [str(message[2]) for message in state["messages"]]


def jump(page, text: str, second: int) -> None:
    page.fill("#replay-jump", text)
    page.press("#replay-jump", "Enter")
    page.wait_for_function(f"document.querySelector('#player').dataset.time === '{second}'")


def test_catalogue_lists_both_with_downloads(browser, master, shots):
    page, console = new_page(browser)
    page.goto(f"{master['http']}#/recordings")
    page.wait_for_function("document.querySelectorAll('#recordings tr.recording').length === 50")
    uuids = page.evaluate("[...document.querySelectorAll('#recordings tr.recording')].map(tr => tr.dataset.uuid)")
    # newest first, 50 a page
    assert uuids == [REFERENCE, SMALL] + [f"uuid-archive-{n:02d}" for n in range(ARCHIVE - 1, 1, -1)]
    assert page.locator("#recordings-page").inner_text() == "page 1 of 2"
    assert page.locator("#recordings-previous").is_disabled()
    first = page.locator(f'tr[data-uuid="{REFERENCE}"]')
    assert first.locator(".recording-name").inner_text() == "Timing71 reference race"
    assert first.locator(".description").inner_text() == "45 minutes, 12 cars, 3 classes (synthetic)"
    with RecordingReader(master["files"][REFERENCE]) as reader:
        duration = reader.duration
    assert first.locator(".duration").inner_text() == \
        f"{duration // 3600}:{duration % 3600 // 60:02d}:{duration % 60:02d}"
    assert first.locator(".has-analysis").inner_text() == "yes"
    second = page.locator(f'tr[data-uuid="{SMALL}"]')
    assert second.locator(".has-analysis").inner_text() == "–"
    assert second.locator(".download-analysis").count() == 0
    assert page.locator("#recordings-status").inner_text() == f"{ARCHIVE + 2} recordings"
    page.screenshot(path=str(shots / "recordings.png"), full_page=True)

    # downloads: the links' bytes, fetched by the page and by a plain client
    links = {
        (REFERENCE, "zip"): first.locator(".download-zip").get_attribute("href"),
        (REFERENCE, "json"): first.locator(".download-analysis").get_attribute("href"),
        (SMALL, "zip"): second.locator(".download-zip").get_attribute("href"),
    }
    for (uuid, kind), href in links.items():
        expected = (master["analysis"] if kind == "json" else master["files"][uuid]).read_bytes()
        digest = page.evaluate("href => fetch(href).then(r => r.arrayBuffer()).then(b => crypto.subtle.digest("
                               "'SHA-256', b)).then(d => [...new Uint8Array(d)].map(x => x.toString(16)"
                               ".padStart(2, '0')).join(''))", href)
        assert digest == hashlib.sha256(expected).hexdigest(), href
        with urllib.request.urlopen(master["http"].rstrip("/") + href, timeout=20) as answer:
            assert answer.read() == expected

    # filter by name
    page.select_option("#recordings-filter", "Small Series")
    page.wait_for_function("document.querySelectorAll('#recordings tr.recording').length === 1")
    assert page.locator("#recordings tr.recording").get_attribute("data-uuid") == SMALL
    page.select_option("#recordings-filter", "")
    page.wait_for_function("document.querySelectorAll('#recordings tr.recording').length === 50")
    page.click("#recordings-next")
    page.wait_for_function("document.querySelectorAll('#recordings tr.recording').length === 2")
    assert page.evaluate("[...document.querySelectorAll('#recordings tr.recording')].map(tr => tr.dataset.uuid)") \
        == ["uuid-archive-01", "uuid-archive-00"]
    assert page.locator("#recordings-next").is_disabled()
    page.click("#recordings-previous")
    page.wait_for_function("document.querySelectorAll('#recordings tr.recording').length === 50")

    page.click(f'tr[data-uuid="{SMALL}"] .recording-name')
    page.wait_for_function("document.querySelector('#player')?.dataset.state === 'paused'")
    assert page.url.endswith(f"#/recordings/{SMALL}")
    assert console.errors == []
    page.context.close()


@pytest.mark.parametrize("path", ["/recordings/../reference.zip", "/recordings/unknown.zip",
                                  "/recordings/%2E%2E%2Frecordings%2Freference.zip"])
def test_unknown_names_and_traversal_are_refused(master, path):
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(master["http"].rstrip("/") + path, timeout=20)
    assert refused.value.code in (400, 404)


def test_player_seeks_show_the_rectool_state(browser, master, shots):
    path = master["files"][REFERENCE]
    page, console = open_player(browser, master["http"], REFERENCE)
    with RecordingReader(path) as reader:
        manifest = reader.manifest
        first = reader.first_frame
    assert page.locator("#service-name").inner_text() == manifest["name"]
    assert page.locator("#player").get_attribute("data-time") == str(first)
    check_shows(page, rectool_state(path, "+0"), manifest)

    # the analysis file's flag periods on the seek bar (not green, not none)
    page.wait_for_function("document.querySelector('#player').dataset.analysis === 'loaded'")
    analysis = json.loads(master["analysis"].read_text())
    expected = [FLAGS[period[0]] for period in analysis["session"]["flagStats"] if period[0] > 1]
    assert page.locator("#replay-flags .period").evaluate_all("s => s.map(x => x.dataset.flag)") == expected

    for offset_text, offset in [("+0:07:13", 433), ("+0:33:20", 2000), ("+0:02:01", 121), ("+12:00:00", 43200)]:
        second = frame_time(path, offset)
        jump(page, offset_text, second)
        check_shows(page, rectool_state(path, offset_text), manifest)
    page.screenshot(path=str(shots / "replay-timing.png"), full_page=True)

    # the seek bar: a position in seconds from the first frame
    page.evaluate("v => { const s = document.querySelector('#replay-seek'); s.value = v; "
                  "s.dispatchEvent(new Event('input')); }", 1500)
    second = frame_time(path, first + 1500 - manifest["startTime"])
    page.wait_for_function(f"document.querySelector('#player').dataset.time === '{second}'")
    check_shows(page, rectool_state(path, str(first + 1500)), manifest)

    # the analysis tab: the live analysis page over the recording's analysis file
    page.click("#tab-analysis")
    page.wait_for_function(f"document.querySelectorAll('.car-analysis').length === {len(analysis['static'])}")
    page.locator("#lap-chart svg").wait_for()
    page.screenshot(path=str(shots / "replay-analysis.png"), full_page=True)
    page.click("#tab-timing")
    assert page.locator("#timing-table").is_visible()
    assert console.errors == []
    page.context.close()


def test_player_plays_pauses_and_changes_speed(browser, master, shots):
    path = master["files"][REFERENCE]
    page, console = open_player(browser, master["http"], REFERENCE, width=390, height=844)
    start = int(page.locator("#player").get_attribute("data-time"))
    page.click("#replay-play")
    page.wait_for_function("document.querySelector('#player').dataset.state === 'playing'")
    page.wait_for_function(f"Number(document.querySelector('#player').dataset.time) > {start}")
    page.select_option("#replay-speed", "60")
    assert page.locator("#player").get_attribute("data-speed") == "60"
    # at 60x a minute of the race passes in about a second
    page.wait_for_function(f"Number(document.querySelector('#player').dataset.time) > {start + 90}")
    page.click("#replay-play")
    page.wait_for_function("document.querySelector('#player').dataset.state === 'paused'")
    # paused: several of the player's ticks later the same frame is shown and the clock stands still
    held = page.evaluate("""async () => {
        const player = document.querySelector('#player');
        const before = [player.dataset.time, window.livetiming.replay.now()];
        await new Promise((resolve) => setTimeout(resolve, 600));
        return [before, [player.dataset.time, window.livetiming.replay.now()]];
    }""")
    assert held[0] == held[1]
    second = int(held[1][0])
    with RecordingReader(path) as reader:
        manifest = reader.manifest
    check_shows(page, rectool_state(path, str(second)), manifest)
    page.screenshot(path=str(shots / "replay-phone.png"), full_page=True)
    # keys: -> steps ten seconds, space plays
    page.evaluate("document.activeElement && document.activeElement.blur()")
    target = page.evaluate("window.livetiming.replay.now()") + 10
    page.keyboard.press("ArrowRight")
    with RecordingReader(path) as reader:
        expected = frame_time(path, target - reader.start_time)
    page.wait_for_function(f"document.querySelector('#player').dataset.time === '{expected}'")
    page.keyboard.press(" ")
    page.wait_for_function("document.querySelector('#player').dataset.state === 'playing'")
    page.keyboard.press(" ")
    page.wait_for_function("document.querySelector('#player').dataset.state === 'paused'")
    assert console.errors == []
    page.context.close()


def test_the_dvr_recording_plays_to_its_end(browser, master):
    """A recording without an analysis file: played at 60x to its last frame,
    which shows rectool's last state; the flag periods come from the states."""
    path = master["files"][SMALL]
    page, console = open_player(browser, master["http"], SMALL)
    with RecordingReader(path) as reader:
        manifest = reader.manifest
        last = reader.last_frame
    assert page.locator("#tab-analysis").is_hidden()
    page.select_option("#replay-speed", "60")
    page.click("#replay-play")
    page.wait_for_function(f"document.querySelector('#player').dataset.time === '{last}' && "
                           "document.querySelector('#player').dataset.state === 'paused'")
    check_shows(page, rectool_state(path, str(last)), manifest)
    assert page.locator("#replay-clock").inner_text() == f"+0:00:{SMALL_FRAMES - 1:02d} / +0:00:{SMALL_FRAMES - 1:02d}"
    # played again from the start after the end
    page.click("#replay-play")
    page.wait_for_function(f"Number(document.querySelector('#player').dataset.time) < {last}")
    page.click("#replay-play")
    assert console.errors == []
    page.context.close()


def test_a_file_from_this_computer_plays(browser, master):
    """The recordings page's file input: the ZIP read from disk (a Blob), not from the master."""
    path = master["files"][REFERENCE]
    page, console = new_page(browser)
    page.goto(f"{master['http']}#/recordings")
    page.locator("#recording-file").set_input_files(str(path))
    page.wait_for_function("document.querySelector('#player')?.dataset.state === 'paused'")
    assert page.url.endswith("#/recordings/local")
    with RecordingReader(path) as reader:
        manifest = reader.manifest
    assert page.evaluate("window.livetiming.replay.recording.zip.source.requests") is None   # no HTTP source
    jump(page, "+0:20:00", frame_time(path, 1200))
    check_shows(page, rectool_state(path, "+0:20:00"), manifest)
    assert console.errors == []
    page.context.close()


def test_an_unknown_recording_says_so(browser, master):
    page, console = new_page(browser)
    page.goto(f"{master['http']}#/recordings/uuid-not-there")
    page.wait_for_function("document.querySelector('#player')?.dataset.state === 'error'")
    assert "No such recording" in page.locator("#replay-status").inner_text()
    # the only console error is the refused download itself
    assert all("404" in error for error in console.errors)
    page.context.close()
