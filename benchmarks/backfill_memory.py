"""Memory of a backfill: the RSS of `tickercast backfill` after each session.

Runs `tickercast backfill` on the offline sample data (no ../shared needed) in a
subprocess, in a fresh TICKERCAST_HOME and PREFECT_HOME (so its temporary Prefect
server is its own), and samples the CLI process's RSS (the process that trains the
models; not its Prefect server's) every 0.1 s with psutil. A session counts as done
when every ticker's forecast file for it is written; its RSS is the one sampled then.
Printed per session: the RSS and its growth since the previous session; and the
mean growth per session after the first `--settle` sessions (start-up, imports and
the first traces are not retention). A backfill that retains nothing across
sessions grows by a few MB per session at most.

    nice -n 10 .venv/bin/python benchmarks/backfill_memory.py [--tickers AAPL] \\
        [--from 2013-01-02] [--to 2013-02-15] [--epochs 1] [--settle 3]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import suppress
from datetime import date
from pathlib import Path

import psutil
from results_file import write_result

from tickercast.data.storage import Store


def _sample(process: subprocess.Popen, samples: list[tuple[float, int]], done: threading.Event):
    """Append (time, RSS of the CLI process) every 0.1 s until it exits."""
    watched = psutil.Process(process.pid)
    while not done.is_set():
        with suppress(psutil.Error):
            samples.append((time.monotonic(), watched.memory_info().rss))
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", default="AAPL")
    parser.add_argument("--from", dest="first", type=date.fromisoformat, default="2013-01-02")
    parser.add_argument("--to", dest="last", type=date.fromisoformat, default="2013-02-15")
    parser.add_argument("--start", default="2008-01-01")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--settle", type=int, default=3, help="sessions left out of the mean")
    args = parser.parse_args()
    tickers = args.tickers.split(",")
    with tempfile.TemporaryDirectory(prefix="backfill-memory-") as folder:
        home, prefect_home = Path(folder) / "home", Path(folder) / "prefect"
        prefect_home.mkdir()  # Prefect does not create it
        store = Store(home)
        env = {
            **os.environ,
            "TICKERCAST_HOME": str(home),
            "PREFECT_HOME": str(prefect_home),
            "TF_CPP_MIN_LOG_LEVEL": "2",
        }
        for name in ("MLFLOW_TRACKING_URI", "PREFECT_API_URL"):
            env.pop(name, None)
        command = [
            str(Path(sys.executable).parent / "tickercast"),
            "backfill",
            "--tickers",
            args.tickers,
            "--source",
            "sample",
            "--start",
            args.start,
            "--from",
            args.first.isoformat(),
            "--to",
            args.last.isoformat(),
            "--epochs",
            str(args.epochs),
        ]
        started = time.monotonic()
        samples: list[tuple[float, int]] = []
        done = threading.Event()
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        sampler = threading.Thread(target=_sample, args=(process, samples, done), daemon=True)
        sampler.start()
        sessions: list[dict] = []  # in the order they completed
        seen: set[str] = set()
        while process.poll() is None:
            time.sleep(0.2)
            written = [
                {path.stem for path in store.forecast_dir(ticker).glob("*.parquet")}
                for ticker in tickers
            ]
            for session in sorted(set.intersection(*written) - seen):
                seen.add(session)
                rss = samples[-1][1] if samples else 0
                previous = sessions[-1]["rss_mb"] if sessions else rss / 2**20
                sessions.append(
                    {
                        "as_of": session,
                        "seconds": time.monotonic() - started,
                        "rss_mb": rss / 2**20,
                        "growth_mb": rss / 2**20 - previous,
                    }
                )
                print(
                    f"session {len(sessions):3} {session}: RSS {rss / 2**20:7.0f} MB "
                    f"({sessions[-1]['growth_mb']:+.0f}) at {sessions[-1]['seconds']:.0f} s",
                    flush=True,
                )
        done.set()
        sampler.join()
        output = process.stdout.read()
    if process.returncode != 0:
        print(output[-3000:])
    counted = sessions[args.settle :]
    growth = (
        (counted[-1]["rss_mb"] - sessions[args.settle - 1]["rss_mb"]) / len(counted)
        if counted and args.settle > 0
        else None
    )
    peak = max(rss for _, rss in samples) / 2**20 if samples else None
    print(
        f"{len(sessions)} sessions of {', '.join(tickers)} (exit {process.returncode}); peak RSS "
        f"{peak:.0f} MB; mean growth per session after the first {args.settle}: "
        + (f"{growth:.1f} MB" if growth is not None else "n/a")
    )
    result = {
        "command": command[1:],
        "exit_code": process.returncode,
        "peak_rss_mb": peak,
        "mean_growth_mb_per_session": growth,
        "settle_sessions": args.settle,
        "sessions": sessions,
    }
    print(f"written to {write_result('backfill_memory', result)}")


if __name__ == "__main__":
    main()
