"""One MLflow call at a time on a local store: the lock file held across processes,
reentrant within a thread, and nothing at all for a tracking server."""

import subprocess
import sys
import threading
import time

from tickercast.tracking.write_lock import SerializedClient, WriteLock

HOLD = """
import sys, time
from pathlib import Path
from tickercast.tracking.write_lock import WriteLock
with WriteLock(Path(sys.argv[1]), enabled=True).held():
    print("held", flush=True)
    time.sleep(1.5)
"""


def test_a_second_process_waits_for_the_lock_and_a_thread_may_take_it_again(tmp_path):
    path = tmp_path / "mlflow.lock"
    other = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert other.stdout.readline() == "held\n"
        lock = WriteLock(path, enabled=True)
        started = time.monotonic()
        with lock.held(), lock.held():  # reentrant: the inner block does not wait on itself
            waited = time.monotonic() - started
    finally:
        other.wait(timeout=30)
    assert waited > 0.5  # until the other process let go


def test_threads_of_one_process_take_turns(tmp_path):
    lock = WriteLock(tmp_path / "mlflow.lock", enabled=True)
    inside, overlaps = [], []

    def call() -> None:
        with lock.held():
            overlaps.append(len(inside))
            inside.append(1)
            time.sleep(0.05)
            inside.pop()

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == [0, 0, 0, 0]


def test_a_disabled_lock_holds_nothing_and_a_serialized_client_passes_values_through(tmp_path):
    lock = WriteLock(tmp_path / "mlflow.lock", enabled=False)
    with lock.held():
        assert not (tmp_path / "mlflow.lock").exists()

    class Client:
        tracking_uri = "sqlite:///x.db"

        def search(self, query: str) -> str:
            return f"found {query}"

    client = SerializedClient(Client(), WriteLock(tmp_path / "mlflow.lock", enabled=True))
    assert client.tracking_uri == "sqlite:///x.db"
    assert client.search("runs") == "found runs"
