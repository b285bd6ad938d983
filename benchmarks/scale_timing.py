"""Scale: 1, 4 and 16 tickers, serial vs Dask with 2 workers.

Each configuration is one `tickercast run` in a subprocess, as a user starts it, with a
fresh TICKERCAST_HOME, on a folder of real daily prices: the offline sample's AAPL,
MSFT, IBM and GOOG and, when `../shared/data` is there, its Yahoo AAPL and MSFT and
Alpha Vantage AAPL, replayed under distinct names (T01..T16) to make 16 tickers.
Every ticker trains on the same range (2008-01-02 to 2012-12-31) for a few epochs.

Two set-ups:
- `one-off`: nothing running beforehand, as `tickercast run` on a laptop: each run
  starts its own temporary Prefect server (fresh PREFECT_HOME), and `dask` its own
  LocalCluster of 2 single-threaded workers;
- `standing`: a `prefect server` and a Dask cluster (`dask scheduler`, `dask worker
  --nworkers 2 --nthreads 1`) already running on 127.0.0.1, as in production; the
  workers are warmed by one unmeasured run, and `dask` runs pass `--dask-address`.

Figures per configuration:
- wall: the whole command, start-up included;
- flow: the daily-forecast flow run, from Prefect's database;
- peak RSS, sampled every 0.1 s with psutil: one-off, of the whole process tree (the
  CLI, the temporary Prefect server, Dask's scheduler and workers); standing, of the
  CLI's tree plus the Dask workers (not the shared Prefect server);
- phases: the flow's time before its first ticker's task run started and after the
  last one ended (for Dask: cluster start, worker imports, closing the workers), and
  the first ticker's duration on each worker slot against the later ones;
- per-ticker overhead: each `forecast-<ticker>` task run's duration minus the time
  in fit and predict (MLflow's `train_seconds` and `evaluate_seconds`: every
  candidate's fit, calibration and holdout predictions), averaged over tickers;
  and the flow's time outside fit and predict, per ticker.

    .venv/bin/python benchmarks/scale_timing.py [--epochs 3] [--counts 1,4,16]
"""

import argparse
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import date, datetime
from pathlib import Path

import mlflow
import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from results_file import write_result  # noqa: E402

from tests.servers import BIN, free_port, prefect_server, running  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
START, AS_OF = date(2008, 1, 2), date(2012, 12, 31)


def real_series() -> list[pd.DataFrame]:
    """The real price histories to replay, as canonical frames."""
    from tickercast.data.sources import FolderSource, SampleSource

    series = [SampleSource().fetch(t, None, AS_OF) for t in ("AAPL", "MSFT", "IBM", "GOOG")]
    if SHARED.is_dir():
        series += [FolderSource(SHARED / "yahoo").fetch(t, None, AS_OF) for t in ("AAPL", "MSFT")]
        series.append(FolderSource(SHARED / "alphavantage").fetch("AAPL", None, AS_OF))
    return series


def write_replays(folder: Path, count: int, series: list[pd.DataFrame]) -> list[str]:
    """`count` price files T01.. in `folder`, cycling through the real series."""
    tickers = [f"T{number:02d}" for number in range(1, count + 1)]
    for ticker, prices in zip(tickers, (series * count)[:count], strict=True):
        prices.rename(columns={"session": "Date"}).to_csv(folder / f"{ticker}.csv", index=False)
    return tickers


def peak_rss(process: subprocess.Popen, also: list[int], peak: list[int]) -> None:
    """Sample the RSS of `process`, the processes `also` and all their descendants
    until `process` exits."""
    roots = [psutil.Process(pid) for pid in [process.pid, *also]]
    while process.poll() is None:
        total = 0
        try:
            for member in [m for root in roots for m in [root, *root.children(recursive=True)]]:
                with suppress(psutil.Error):  # a child that just exited
                    total += member.memory_info().rss
        except psutil.Error:
            break
        peak[0] = max(peak[0], total)
        time.sleep(0.1)


def prefect_durations(database: Path, flow_run_id: str, slots: int) -> dict:
    """From Prefect's database: the flow run's duration; each of its forecast-<ticker>
    task runs' durations; the time before the first of them started and after the last
    ended; and the mean duration of the first task in each of `slots` slots (one per
    worker) against the later ones, in seconds."""
    with sqlite3.connect(database) as db:
        (flow,) = db.execute(
            "select start_time, end_time from flow_run where id = ?", (flow_run_id,)
        ).fetchall()
        tasks = db.execute(
            "select name, start_time, end_time from task_run "
            "where flow_run_id = ? and name like 'forecast-%'",
            (flow_run_id,),
        ).fetchall()

    def seconds(start: str, end: str) -> float:
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()

    tasks.sort(key=lambda task: task[1])
    durations = [seconds(start, end) for _, start, end in tasks]
    first, later = durations[:slots], durations[slots:]
    return {
        "flow": seconds(*flow),
        "per_ticker": {
            name.removeprefix("forecast-"): d
            for (name, _, _), d in zip(tasks, durations, strict=True)
        },
        "before_first_ticker": seconds(flow[0], tasks[0][1]),
        "after_last_ticker": seconds(max(end for _, _, end in tasks), flow[1]),
        "first_ticker_per_slot": sum(first) / len(first),
        "later_tickers": sum(later) / len(later) if later else None,
    }


class Setup:
    """Where runs report and how `dask` runs find workers."""

    def __init__(self, name: str, env: dict, database: Path | None, dask_address=None, also=()):
        self.name, self.env, self.database = name, env, database
        self.dask_address, self.also = dask_address, list(also)


def run(
    tickers: list[str], prices: Path, engine: str, epochs: int, scratch: Path, setup: Setup
) -> dict:
    """One `tickercast run` over `tickers`; its figures."""
    home, prefect_home = scratch / "home", scratch / "prefect"
    universe = scratch / "universe.txt"
    universe.write_text("\n".join(tickers) + "\n")
    env = {**os.environ, "TICKERCAST_HOME": str(home), "PREFECT_HOME": str(prefect_home)}
    env.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2")
    for variable in ("PREFECT_API_URL", "MLFLOW_TRACKING_URI"):
        env.pop(variable, None)
    env.update(setup.env)
    command = [str(BIN / "tickercast"), "run", "--source", str(prices)]
    command += ["--universe", str(universe), "--start", str(START), "--as-of", str(AS_OF)]
    command += ["--epochs", str(epochs), "--task-runner", engine]
    if engine == "dask" and setup.dask_address:
        command += ["--dask-address", setup.dask_address]
    peak = [0]
    started = time.perf_counter()
    with open(scratch / "output.txt", "w") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
        sampler = threading.Thread(target=peak_rss, args=(process, setup.also, peak))
        sampler.start()
        process.wait()
        sampler.join()
    wall = time.perf_counter() - started
    printed = (scratch / "output.txt").read_text()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{printed}")
    flow_run_id = re.search(r"\(flow run ([0-9a-f-]{36})\)", printed).group(1)
    database = setup.database or prefect_home / "prefect.db"
    phases = prefect_durations(database, flow_run_id, slots=2 if engine == "dask" else 1)
    flow, per_ticker = phases["flow"], phases["per_ticker"]
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{home / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("tickercast").experiment_id])
    model = {
        r.data.tags["ticker"]: r.data.metrics["train_seconds"] + r.data.metrics["evaluate_seconds"]
        for r in runs
        if "ticker" in r.data.tags
    }
    overheads = [per_ticker[t] - model[t] for t in tickers]
    return {
        "setup": setup.name,
        "engine": engine,
        "tickers": len(tickers),
        "wall_seconds": wall,
        "flow_seconds": flow,
        "before_first_ticker_seconds": phases["before_first_ticker"],
        "after_last_ticker_seconds": phases["after_last_ticker"],
        "first_ticker_per_slot_seconds": phases["first_ticker_per_slot"],
        "later_tickers_seconds": phases["later_tickers"],
        "peak_rss_mib": peak[0] / 2**20,
        "fit_predict_seconds": sum(model.values()),
        "per_ticker_task_seconds": sum(per_ticker.values()) / len(tickers),
        "per_ticker_overhead_seconds": sum(overheads) / len(tickers),
        "flow_overhead_per_ticker_seconds": (flow - sum(model.values())) / len(tickers),
    }


@contextmanager
def standing(folder: Path, workers: int) -> Iterator[Setup]:
    """A `prefect server` and a Dask cluster of `workers` single-threaded workers."""
    from distributed import Client

    with prefect_server(folder / "prefect") as server_env:
        address = f"tcp://127.0.0.1:{free_port()}"
        scheduler = [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1"]
        scheduler += ["--port", address.rsplit(":", 1)[1], "--no-dashboard"]
        worker = [str(BIN / "dask"), "worker", address, "--nworkers", str(workers)]
        worker += ["--nthreads", "1", "--no-dashboard"]
        with (
            running(scheduler, folder / "scheduler.log", server_env),
            running(worker, folder / "workers.log", server_env) as worker_process,
        ):
            with Client(address, timeout=60) as client:
                client.wait_for_workers(workers, timeout=120)
            database = folder / "prefect" / "prefect.db"
            yield Setup("standing", server_env, database, address, [worker_process.pid])


def measure(setup: Setup, counts: list[int], series, scratch: Path, epochs: int) -> list[dict]:
    """Serial and dask runs of each ticker count under `setup`."""
    prices = scratch / "prices"
    prices.mkdir()
    results = []
    for count in counts:
        tickers = write_replays(prices, count, series)
        for engine in ("serial", "dask"):
            workdir = scratch / f"{engine}-{count}"
            workdir.mkdir()
            figures = run(tickers, prices, engine, epochs, workdir, setup)
            results.append(figures)
            print(
                f"{setup.name:8} {engine:6} {count:2} tickers: "
                f"wall {figures['wall_seconds']:6.1f} s, flow {figures['flow_seconds']:6.1f} s, "
                f"peak RSS {figures['peak_rss_mib']:6.0f} MiB, "
                f"fit+predict {figures['fit_predict_seconds']:6.1f} s, "
                f"overhead/ticker {figures['per_ticker_overhead_seconds']:4.2f} s in the task, "
                f"{figures['flow_overhead_per_ticker_seconds']:4.2f} s in the flow; "
                f"{figures['before_first_ticker_seconds']:4.1f} s before the first ticker, "
                f"{figures['after_last_ticker_seconds']:4.1f} s after the last; "
                f"first ticker per slot {figures['first_ticker_per_slot_seconds']:4.1f} s"
                + (
                    f", later {figures['later_tickers_seconds']:4.1f} s"
                    if figures["later_tickers_seconds"]
                    else ""
                ),
                flush=True,
            )
    return results


def ratios(results: list[dict], counts: list[int]) -> dict[str, float]:
    """Dask over serial, wall and flow, per set-up and count; serial RSS 16 over 1."""
    by = {(r["setup"], r["engine"], r["tickers"]): r for r in results}
    summary = {}
    for setup, count in sorted({(r["setup"], r["tickers"]) for r in results}):
        for figure in ("wall", "flow"):
            summary[f"{setup}_dask_over_serial_{figure}_{count}"] = (
                by[setup, "dask", count][f"{figure}_seconds"]
                / by[setup, "serial", count][f"{figure}_seconds"]
            )
    if 1 in counts and 16 in counts:
        summary["one-off_serial_peak_rss_16_over_1"] = (
            by["one-off", "serial", 16]["peak_rss_mib"] / by["one-off", "serial", 1]["peak_rss_mib"]
        )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--counts", default="1,4,16")
    parser.add_argument("--setups", default="one-off,standing")
    arguments = parser.parse_args()
    counts = [int(count) for count in arguments.counts.split(",")]
    setups = arguments.setups.split(",")
    series = real_series()
    results = []
    with tempfile.TemporaryDirectory(prefix="tickercast-scale-") as scratch:
        if "one-off" in setups:
            folder = Path(scratch) / "one-off"
            folder.mkdir()
            results += measure(Setup("one-off", {}, None), counts, series, folder, arguments.epochs)
        if "standing" in setups:
            folder = Path(scratch) / "standing"
            folder.mkdir()
            with standing(folder / "services", workers=2) as setup:
                warm = folder / "warm-up"
                warm.mkdir()
                measure(setup, [2], series, warm, 1)  # workers import and trace once
                results += measure(setup, counts, series, folder, arguments.epochs)
    summary = ratios(results, counts)
    for name, value in summary.items():
        print(f"{name}: {value:.3f}")
    payload = {"epochs": arguments.epochs, "shared_data": SHARED.is_dir(), "runs": results}
    out = write_result("scale_timing", payload | {"summary": summary})
    print(f"written to {out}")


if __name__ == "__main__":
    main()
