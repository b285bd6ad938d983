"""Scale: 1, 4 and 16 tickers, serial vs a Dask LocalCluster of 2 workers.

Each configuration is one `tickercast run` in a subprocess, as a user starts it, with a
fresh TICKERCAST_HOME and PREFECT_HOME (so its own temporary Prefect server) on a
folder of real daily prices: the offline sample's AAPL, MSFT, IBM and GOOG and, when
`../shared/data` is there, its Yahoo AAPL and MSFT and Alpha Vantage AAPL, replayed
under distinct names (T01..T16) to make 16 tickers. Every ticker trains on the same
range (2008-01-02 to 2012-12-31) for a few epochs.

Figures per configuration:
- wall: the whole command, start-up and temporary server included;
- flow: the daily-forecast flow run, from Prefect's database;
- peak RSS of the process tree (the CLI, the temporary Prefect server, Dask's
  scheduler and workers), sampled every 0.1 s with psutil;
- per-ticker overhead: each `forecast-<ticker>` task run's duration minus the time
  in fit and predict (MLflow's `train_seconds` and `evaluate_seconds`: every
  candidate's fit, calibration and holdout predictions), averaged over tickers;
  and the flow's time outside fit and predict, per ticker.

    .venv/bin/python benchmarks/scale_timing.py [--epochs 3] [--counts 1,4,16]
"""

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import suppress
from datetime import date, datetime
from pathlib import Path

import mlflow
import pandas as pd
import psutil
from results_file import write_result

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
START, AS_OF = date(2008, 1, 2), date(2012, 12, 31)


def real_series() -> list[pd.DataFrame]:
    """The real price histories to replay, as canonical frames."""
    sys.path.insert(0, str(ROOT))
    from tickercast.sources import FolderSource, SampleSource

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


def peak_rss(process: subprocess.Popen, peak: list[int]) -> None:
    """Sample the RSS of `process` and all its descendants until it exits."""
    root = psutil.Process(process.pid)
    while process.poll() is None:
        total = 0
        try:
            for member in [root, *root.children(recursive=True)]:
                with suppress(psutil.Error):  # a child that just exited
                    total += member.memory_info().rss
        except psutil.Error:
            break
        peak[0] = max(peak[0], total)
        time.sleep(0.1)


def prefect_durations(prefect_home: Path) -> tuple[float, dict[str, float]]:
    """The flow run's duration and each forecast-<ticker> task run's, in seconds."""
    with sqlite3.connect(prefect_home / "prefect.db") as db:
        (flow,) = db.execute(
            "select start_time, end_time from flow_run where flow_id in "
            "(select id from flow where name = 'daily-forecast')"
        ).fetchall()
        tasks = db.execute(
            "select name, start_time, end_time from task_run where name like 'forecast-%'"
        ).fetchall()

    def seconds(start: str, end: str) -> float:
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()

    return seconds(*flow), {name.removeprefix("forecast-"): seconds(s, e) for name, s, e in tasks}


def run(tickers: list[str], prices: Path, engine: str, epochs: int, scratch: Path) -> dict:
    """One `tickercast run` over `tickers`; its figures."""
    home, prefect_home = scratch / "home", scratch / "prefect"
    universe = scratch / "universe.txt"
    universe.write_text("\n".join(tickers) + "\n")
    env = {**os.environ, "TICKERCAST_HOME": str(home), "PREFECT_HOME": str(prefect_home)}
    env.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2")
    for variable in ("PREFECT_API_URL", "MLFLOW_TRACKING_URI"):
        env.pop(variable, None)
    command = [str(ROOT / ".venv" / "bin" / "tickercast"), "run", "--source", str(prices)]
    command += ["--universe", str(universe), "--start", str(START), "--as-of", str(AS_OF)]
    command += ["--epochs", str(epochs), "--task-runner", engine]
    peak = [0]
    started = time.perf_counter()
    with open(scratch / "output.txt", "w") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
        sampler = threading.Thread(target=peak_rss, args=(process, peak))
        sampler.start()
        process.wait()
        sampler.join()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{(scratch / 'output.txt').read_text()}")
    flow, per_ticker = prefect_durations(prefect_home)
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{home / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("tickercast").experiment_id])
    model = {
        r.data.tags["ticker"]: r.data.metrics["train_seconds"] + r.data.metrics["evaluate_seconds"]
        for r in runs
        if "ticker" in r.data.tags
    }
    overheads = [per_ticker[t] - model[t] for t in tickers]
    return {
        "engine": engine,
        "tickers": len(tickers),
        "wall_seconds": wall,
        "flow_seconds": flow,
        "peak_rss_mib": peak[0] / 2**20,
        "fit_predict_seconds": sum(model.values()),
        "per_ticker_task_seconds": sum(per_ticker.values()) / len(tickers),
        "per_ticker_overhead_seconds": sum(overheads) / len(tickers),
        "flow_overhead_per_ticker_seconds": (flow - sum(model.values())) / len(tickers),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--counts", default="1,4,16")
    arguments = parser.parse_args()
    counts = [int(count) for count in arguments.counts.split(",")]
    series = real_series()
    results = []
    with tempfile.TemporaryDirectory(prefix="tickercast-scale-") as scratch:
        prices = Path(scratch) / "prices"
        prices.mkdir()
        for count in counts:
            tickers = write_replays(prices, count, series)
            for engine in ("serial", "dask"):
                workdir = Path(scratch) / f"{engine}-{count}"
                workdir.mkdir()
                figures = run(tickers, prices, engine, arguments.epochs, workdir)
                results.append(figures)
                print(
                    f"{engine:6} {count:2} tickers: wall {figures['wall_seconds']:6.1f} s, "
                    f"flow {figures['flow_seconds']:6.1f} s, "
                    f"peak RSS {figures['peak_rss_mib']:6.0f} MiB, "
                    f"fit+predict {figures['fit_predict_seconds']:6.1f} s, "
                    f"overhead/ticker {figures['per_ticker_overhead_seconds']:4.2f} s in the task, "
                    f"{figures['flow_overhead_per_ticker_seconds']:4.2f} s in the flow",
                    flush=True,
                )
    by = {(r["engine"], r["tickers"]): r for r in results}
    summary = {}
    for count in counts:
        summary[f"dask_over_serial_wall_{count}"] = (
            by["dask", count]["wall_seconds"] / by["serial", count]["wall_seconds"]
        )
        summary[f"dask_over_serial_flow_{count}"] = (
            by["dask", count]["flow_seconds"] / by["serial", count]["flow_seconds"]
        )
    if 1 in counts and 16 in counts:
        summary["serial_peak_rss_16_over_1"] = (
            by["serial", 16]["peak_rss_mib"] / by["serial", 1]["peak_rss_mib"]
        )
    for name, value in summary.items():
        print(f"{name}: {value:.3f}")
    payload = {"epochs": arguments.epochs, "shared_data": SHARED.is_dir(), "runs": results}
    out = write_result("scale_timing", payload | {"summary": summary})
    print(f"written to {out}")


if __name__ == "__main__":
    main()
