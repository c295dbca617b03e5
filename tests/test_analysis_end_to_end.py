"""Live and offline analysis agree: a demo race published through a real
router and recorded with -r; its live requestAnalysisData (asked by the
JavaScript client) equals the offline analysis of the recording on stints,
laps and drivers."""
import json
import subprocess
import time

from network import js_client, start_router, start_service
from processes import command


def all_finished(url, uuid) -> bool:
    out = js_client(url, [{"op": "call", "procedure": f"livetiming.service.requestState.{uuid}"}])
    cars = out["results"][0]["result"]["cars"]
    return bool(cars) and all(row[1] in ("FIN", "RET") for row in cars)


def test_live_and_offline_analysis_agree(processes, tmp_path):
    router, url = start_router(processes, tmp_path)
    recording = tmp_path / "race.zip"
    service, uuid = start_service(processes, url, tmp_path, "demo", "--cars", "20", "--hours", "0.05",
                                  "--speed", "60", "--grid", "5", "-r", str(recording))
    deadline = time.monotonic() + 90
    while not all_finished(url, uuid):
        assert time.monotonic() < deadline, "the demo race did not finish"
    # requestAnalysisData is answered on the analyser's own thread, after every update queued before it.
    live = js_client(url, [{"op": "call", "procedure": f"livetiming.service.requestAnalysisData.{uuid}"}])
    live = live["results"][0]["result"]
    service.stop()
    assert service.proc.returncode == 0

    result = subprocess.run([command("livetiming-analysis"), str(recording), "-q"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    offline = json.loads(recording.with_suffix(".json").read_text())
    assert len(live["stint"]) == 20
    assert sum(len(stints) for stints in live["stint"].values()) >= 20
    assert live["driver"] == offline["driver"]
    assert live["stint"] == offline["stint"]
    assert live["lap"] == offline["lap"]
    assert live["static"] == offline["static"]
