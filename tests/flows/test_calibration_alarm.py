"""The calibration alarm as users get it: `emit_calibration_drift` inside a real flow run
against a real `prefect server` on 127.0.0.1, which stores the event, and the shipped
automation (deployments/calibration-drift.yaml) notifying a webhook served by the test."""

import json
import os
import queue
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.servers import ROOT, flow_run, prefect_cli, prefect_server
from tickercast.evaluation.track_record import CalibrationAlarm

pytestmark = pytest.mark.server

PLACEHOLDER = "00000000-0000-0000-0000-000000000000"

# two tickers, one with a listing suffix: each must reach the webhook on its own
ALARMS = [
    CalibrationAlarm("AAPL", date(2013, 3, 1), 0.8, 60, 0.6, 2.1e-4),
    CalibrationAlarm("SAP.DE", date(2013, 3, 1), 0.8, 60, 0.95, 1.3e-3),
]

# The scoring task's path: a task inside a flow, in a process of its own (as a worker
# runs it), emitting the alarms; it prints the flow run's id.
SCORING = """
import datetime, sys
from prefect import flow, task
from tickercast.tasks.alarms import emit_calibration_drift
from tickercast.evaluation.track_record import CalibrationAlarm

@task
def score(alarm):
    emit_calibration_drift(alarm)

@flow
def scoring():
    for alarm in [{alarms}]:
        score(alarm)

print(scoring(return_state=True).state_details.flow_run_id)
"""


@pytest.fixture
def server(tmp_path) -> Iterator[dict]:
    with prefect_server(tmp_path / "prefect") as env:
        yield {**os.environ, **env}


@pytest.fixture
def webhook() -> Iterator[tuple[str, queue.Queue]]:
    """An HTTP server on 127.0.0.1 that answers 200 and keeps every JSON body posted."""
    received: queue.Queue = queue.Queue()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            received.put(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *arguments):  # keep the test's output quiet
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_address[1]}/notify", received
    finally:
        http.shutdown()
        http.server_close()


def webhook_block(env: dict, url: str) -> str:
    """Save a Custom Webhook notification block posting subject and body to `url`."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.settings import PREFECT_API_URL, temporary_settings

    block = CustomWebhookNotificationBlock(
        name="tickercast", url=url, json_data={"subject": "{{subject}}", "body": "{{body}}"}
    )
    with temporary_settings(updates={PREFECT_API_URL: env["PREFECT_API_URL"]}):
        return str(block.save("calibration-test"))


def events_named(env: dict, name: str) -> list[dict]:
    """The server's stored events of that name (POST /api/events/filter)."""
    query = {"filter": {"event": {"name": [name]}}, "limit": 50}
    request = urllib.request.Request(
        f"{env['PREFECT_API_URL']}/events/filter",
        data=json.dumps(query).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())["events"]


def stored_alarms(env: dict, seconds: float = 30) -> list[dict]:
    """Poll until the server has stored one drift event per alarm (the event persister
    flushes every few seconds); fail with what it has after `seconds`."""
    deadline = time.monotonic() + seconds
    while len(stored := events_named(env, "tickercast.calibration.drift")) < len(ALARMS):
        assert time.monotonic() < deadline, f"stored after {seconds} s: {stored}"
        time.sleep(0.5)
    return stored


def notifications(received: queue.Queue, seconds: float = 30) -> list[dict]:
    """The webhook's first posts, one per alarm, waiting up to `seconds` in all (the
    triggers and actions services run in the server, a moment after the event)."""
    deadline, posts = time.monotonic() + seconds, []
    while len(posts) < len(ALARMS):
        try:
            posts.append(received.get(timeout=max(deadline - time.monotonic(), 0.01)))
        except queue.Empty:
            raise AssertionError(f"the webhook got {posts} after {seconds} s") from None
    return posts


def test_a_drift_alarm_is_stored_and_notified_once_per_ticker(server, webhook, tmp_path):
    url, received = webhook
    # the shipped automation, with only the placeholder replaced, created as the header says
    shipped = (ROOT / "deployments" / "calibration-drift.yaml").read_text()
    assert PLACEHOLDER in shipped
    automation = tmp_path / "calibration-drift.yaml"
    automation.write_text(shipped.replace(PLACEHOLDER, webhook_block(server, url)))
    assert "Created automation" in prefect_cli(
        server, "automation", "create", "--from-file", str(automation)
    )

    script = SCORING.format(alarms=", ".join(repr(alarm) for alarm in ALARMS))
    scoring = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=server,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert scoring.returncode == 0, scoring.stderr[-3000:]
    flow_run_id = scoring.stdout.split()[-1]

    stored = stored_alarms(server)
    assert len(stored) == len(ALARMS)
    by_ticker = {event["resource"]["prefect.resource.name"]: event for event in stored}
    for alarm in ALARMS:
        event = by_ticker[alarm.ticker]
        assert event["resource"]["prefect.resource.id"] == f"tickercast.ticker.{alarm.ticker}"
        assert event["payload"] == {
            "ticker": alarm.ticker,
            "as_of": "2013-03-01",
            "level": 0.8,
            "forecasts": 60,
            "coverage": alarm.coverage,
            "kupiec_pvalue": alarm.kupiec_pvalue,
            "message": alarm.message(),
        }
        related = {resource["prefect.resource.role"]: resource for resource in event["related"]}
        assert related["flow-run"]["prefect.resource.id"] == f"prefect.flow-run.{flow_run_id}"
        assert related["flow"]["prefect.resource.name"] == "scoring"
        assert related["task-run"]["prefect.resource.id"].startswith("prefect.task-run.")

    run = flow_run(server, flow_run_id)
    by_subject = {note["subject"]: note["body"] for note in notifications(received)}
    assert by_subject == {
        f"tickercast: {alarm.ticker} calibration drift": (
            f"{alarm.message()} (flow run {run['name']})"
        )
        for alarm in ALARMS
    }
    with pytest.raises(queue.Empty):  # and nothing more: one notification per alarm
        received.get(timeout=1)
