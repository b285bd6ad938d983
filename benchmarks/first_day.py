"""A new user's first day, played and measured (issue 23): what each command prints, how
long it takes, and what the MLflow run and the Prefect flow run hold.

In a fresh TICKERCAST_HOME and PREFECT_HOME, as a user would after `make install`:

1. `tickercast run --source sample --tickers AAPL,MSFT` (what `make run` runs): console,
   wall time; then from the stores: metrics and plots of AAPL's ticker run, the first
   line of its description, and the flow run's log lines at INFO and above split into
   tickercast's own lines and Prefect's engine lines (`ENGINE_LINES`).
2. `status` (best of 3 wall times), `forecast AAPL`, `track AAPL` after a short backfill
   of AAPL (`--from 2013-02-20 --to 2013-02-28 --epochs 1`, so that some forecasts are
   scored), `serve-model AAPL`.
3. A folder source without the ticker's file, and one whose CSV has no close column:
   console, wall time, how many lines name the failure.
4. With `../shared/data/yahoo` (skipped without it): `backtest --tickers AAPL --source
   ../shared/data/yahoo`, then `run --source sample` again: whether the stored prices
   changed (their sha256), and what the second run published as of.

The consoles go to `benchmarks/results/first_day_<label>.txt`, the figures to
`benchmarks/results/first_day_<label>.json`. With `--screenshots`, headless Chromium
(Debian's `chromium`) also takes the MLflow UI's page of AAPL's run and the Prefect
UI's page of the flow run, served from the same stores (`first_day_<label>_*.png`).

    .venv/bin/python benchmarks/first_day.py --label after --screenshots   # about 7 minutes
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

from results_file import RESULTS, write_result

ROOT = Path(__file__).resolve().parents[1]
TICKERCAST = ROOT / ".venv" / "bin" / "tickercast"
YAHOO = ROOT.parent / "shared" / "data" / "yahoo"
# Prefect's own lines in a flow run's log: the engine's, not the pipeline's.
ENGINE_LINES = re.compile(
    r"^(Beginning flow run|Running hook|Hook '|Finished in state|Created task run|"
    r"Executing '|Submitting task run|View at )"
)


class Session:
    """Commands run as the user runs them, in one home, their consoles kept."""

    def __init__(self, scratch: Path) -> None:
        self.home = scratch / "home"
        self.env = {
            **os.environ,
            "TICKERCAST_HOME": str(self.home),
            "PREFECT_HOME": str(scratch / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "COLUMNS": "120",
        }
        for name in ("PREFECT_API_URL", "MLFLOW_TRACKING_URI"):
            self.env.pop(name, None)
        self.transcript: list[str] = []

    def run(self, *arguments: str, timeout: float = 1800) -> dict:
        """Run `tickercast ARGUMENTS`; its console, exit code and wall time."""
        started = time.perf_counter()
        done = subprocess.run(
            [str(TICKERCAST), *arguments],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
        )
        seconds = time.perf_counter() - started
        console = done.stdout + done.stderr
        self.transcript += [
            f"$ tickercast {' '.join(arguments)}   # exit {done.returncode}, {seconds:.1f} s",
            console.rstrip(),
            "",
        ]
        return {
            "exit": done.returncode,
            "seconds": round(seconds, 2),
            "lines": len(console.splitlines()),
            "console": console,
        }

    def serve(self, *arguments: str, wait: float = 45) -> dict:
        """Run `tickercast serve-model ARGUMENTS`: what it prints before it exits, or
        within `wait` seconds if it serves (then it is stopped)."""
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(TICKERCAST), "serve-model", *arguments],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            console, _ = process.communicate(timeout=wait)
            code = process.returncode
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGINT)
            console, _ = process.communicate(timeout=30)
            code = "serving"
        seconds = time.perf_counter() - started
        self.transcript += [
            f"$ tickercast serve-model {' '.join(arguments)}   # exit {code}, {seconds:.1f} s",
            console.rstrip(),
            "",
        ]
        return {"exit": code, "lines": len(console.splitlines()), "console": console}


def ticker_run(home: Path, ticker: str) -> dict:
    """The ticker's latest daily run in the home's MLflow store: metric count, plots,
    the description's first line."""
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{home / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("tickercast").experiment_id
    runs = client.search_runs(
        [experiment],
        filter_string=f"tags.ticker = '{ticker}'",
        order_by=["attributes.start_time DESC"],
    )
    run = next(r for r in runs if "backtest" not in r.info.run_name)
    plots = [a.path for a in client.list_artifacts(run.info.run_id, "plots")]
    description = run.data.tags.get("mlflow.note.content", "")
    parents = [r for r in client.search_runs([experiment]) if "ticker" not in r.data.tags]
    return {
        "run_name": run.info.run_name,
        "metrics": len(run.data.metrics),
        "plots": plots,
        "description_first_line": description.splitlines()[0] if description else "",
        "parent_run_names": sorted(p.info.run_name for p in parents if p.info.run_name),
    }


def screenshots(session: "Session", scratch: Path, label: str) -> list[Path]:
    """The MLflow UI's page of AAPL's first daily run and the Prefect UI's page of the
    first daily flow run, as a reviewer opens them, in headless Chromium."""
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{session.home / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("tickercast").experiment_id
    runs = client.search_runs(
        [experiment], "tags.ticker = 'AAPL'", order_by=["attributes.start_time ASC"]
    )
    run_id = runs[0].info.run_id
    database = sqlite3.connect(scratch / "prefect" / "prefect.db")
    (flow_run_id,) = database.execute(
        "select flow_run.id from flow_run join flow on flow.id = flow_run.flow_id "
        "where flow.name = 'daily-forecast' order by flow_run.start_time limit 1"
    ).fetchone()
    mlflow_port, prefect_port = _free_port(), _free_port()
    bin_dir = ROOT / ".venv" / "bin"
    servers = [
        subprocess.Popen(
            [str(bin_dir / "mlflow"), "ui", "--host", "127.0.0.1", "--port", str(mlflow_port),
             "--backend-store-uri", f"sqlite:///{session.home / 'mlflow.db'}",
             "--default-artifact-root", str(session.home / "mlartifacts")],
            env=session.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        ),
        subprocess.Popen(
            [str(bin_dir / "prefect"), "server", "start", "--host", "127.0.0.1",
             "--port", str(prefect_port)],
            env=session.env | {"PREFECT_UI_API_URL": f"http://127.0.0.1:{prefect_port}/api"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        ),
    ]  # fmt: skip
    pages = {
        "mlflow_run": f"http://127.0.0.1:{mlflow_port}/#/experiments/{experiment}/runs/{run_id}"
        "?workflowType=machine_learning",
        "prefect_flow_run": f"http://127.0.0.1:{prefect_port}/runs/flow-run/{flow_run_id}",
    }
    shots = []
    try:
        for url in (
            f"http://127.0.0.1:{mlflow_port}/health",
            f"http://127.0.0.1:{prefect_port}/api/health",
        ):
            _wait(url)
        for name, url in pages.items():
            shot = RESULTS / f"first_day_{label}_{name}.png"
            taken = subprocess.run(
                ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", f"--user-data-dir={scratch / ('chromium-' + name)}",
                 "--virtual-time-budget=25000", "--window-size=1600,1200",
                 f"--screenshot={shot}", url],
                capture_output=True, text=True, timeout=180,
            )  # fmt: skip
            if not shot.is_file():
                raise RuntimeError(f"no screenshot of {url}: {taken.stderr[-2000:]}")
            shots.append(shot)
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    return shots


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(url: str, seconds: float = 120) -> None:
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer in {seconds} s")


def flow_run_logs(prefect_home: Path) -> dict:
    """The daily-forecast flow runs' log lines at INFO and above, by whose they are."""
    database = sqlite3.connect(prefect_home / "prefect.db")
    runs = database.execute(
        "select flow_run.id, flow_run.name from flow_run join flow on flow.id = flow_run.flow_id "
        "where flow.name = 'daily-forecast' order by flow_run.start_time"
    ).fetchall()
    flow_run_id, name = runs[0]
    messages = [
        message
        for (message,) in database.execute(
            "select message from log where flow_run_id = ? and level >= 20 order by timestamp",
            (flow_run_id,),
        )
    ]
    engine = [m for m in messages if ENGINE_LINES.match(m)]
    return {
        "flow_run_names": [n for _, n in runs],
        "first_flow_run": name,
        "lines": len(messages),
        "engine_lines": len(engine),
        "tickercast_lines": len(messages) - len(engine),
        "tickercast_share": round((len(messages) - len(engine)) / max(1, len(messages)), 3),
        "messages": messages,
    }


def sha256(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def sample_csv(folder: Path, ticker: str, drop_close: bool = False) -> None:
    """`folder/<ticker>.csv` from the offline sample, in Yahoo's layout (a user's file)."""
    import pandas as pd
    from bokeh_sampledata import stocks

    bars = pd.DataFrame(getattr(stocks, ticker))
    frame = pd.DataFrame(
        {
            "Date": bars["date"],
            "Open": bars["open"],
            "High": bars["high"],
            "Low": bars["low"],
            "Close": bars["close"],
            "Adj Close": bars["adj_close"],
            "Volume": bars["volume"],
        }
    )
    if drop_close:
        frame = frame.drop(columns=["Close", "Adj Close"])
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / f"{ticker}.csv", index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="after", help="names the result files")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument(
        "--screenshots", action="store_true", help="the MLflow and Prefect UI pages, in Chromium"
    )
    args = parser.parse_args()
    label = args.label
    scratch = Path(tempfile.mkdtemp(prefix="tickercast-first-day-"))
    session = Session(scratch)
    figures: dict = {"label": label}

    figures["make_run"] = session.run("run", "--source", "sample", "--tickers", "AAPL,MSFT")
    figures["ticker_run"] = ticker_run(session.home, "AAPL")
    figures["flow_run_logs"] = flow_run_logs(scratch / "prefect")
    if args.screenshots:  # the stores as the first run left them
        figures["screenshots"] = [str(path) for path in screenshots(session, scratch, label)]
    statuses = [session.run("status") for _ in range(3)]
    figures["status"] = statuses[-1] | {"best_seconds": min(s["seconds"] for s in statuses)}
    figures["forecast"] = session.run("forecast", "AAPL")
    figures["serve_model"] = session.serve("AAPL")
    figures["serve_model_version"] = session.serve("AAPL", "--version", "7")
    figures["backfill"] = session.run(
        "backfill", "--tickers", "AAPL", "--source", "sample", "--from", "2013-02-20",
        "--to", "2013-02-28", "--epochs", "1",
    )  # fmt: skip
    figures["track"] = session.run("track", "AAPL")
    figures["scored_run"] = ticker_run(session.home, "AAPL")  # the backfill's last run

    # a new user's own folder, in a home of its own (the home above holds the sample's AAPL)
    folders = Session(scratch / "folders")
    missing = scratch / "missing"
    sample_csv(missing, "MSFT")
    figures["missing_file"] = folders.run("run", "--tickers", "AAPL", "--source", str(missing))
    no_close = scratch / "no-close"
    sample_csv(no_close, "AAPL", drop_close=True)
    figures["no_close_column"] = folders.run("run", "--tickers", "AAPL", "--source", str(no_close))
    session.transcript += folders.transcript

    if YAHOO.is_dir():
        prices = session.home / "prices" / "ticker=AAPL" / "prices.parquet"
        before = sha256(prices)
        figures["mixed_backtest"] = session.run(
            "backtest", "--tickers", "AAPL", "--source", "../shared/data/yahoo",
            "--start", "2020-01-01", "--end", "2022-12-30", "--folds", "1", "--epochs", "1",
        )  # fmt: skip
        figures["mixed_prices_unchanged"] = sha256(prices) == before
        again = session.run("run", "--tickers", "AAPL", "--source", "sample", "--epochs", "1")
        figures["mixed_run_again"] = again
        figures["mixed_run_again_as_of"] = json.loads(
            (session.home / "forecasts" / "AAPL" / "latest.json").read_text()
        )[0]["as_of"]

    transcript = RESULTS / f"first_day_{label}.txt"
    RESULTS.mkdir(parents=True, exist_ok=True)
    transcript.write_text("\n".join(session.transcript) + "\n")
    for entry in figures.values():
        if isinstance(entry, dict):
            entry.pop("console", None)
    path = write_result(f"first_day_{label}", figures)
    logs, run = figures["flow_run_logs"], figures["ticker_run"]
    rows = [
        ("make run: wall s, console lines", "make_run", "seconds", "lines"),
        ("status: best of 3 s, exit", "status", "best_seconds", "exit"),
        ("forecast AAPL: s, lines", "forecast", "seconds", "lines"),
        ("track AAPL: s, lines", "track", "seconds", "lines"),
        ("serve-model AAPL: exit, lines", "serve_model", "exit", "lines"),
        ("serve-model --version 7: exit, lines", "serve_model_version", "exit", "lines"),
        ("missing folder file: s, lines", "missing_file", "seconds", "lines"),
        ("CSV without close: s, lines", "no_close_column", "seconds", "lines"),
        ("backtest from yahoo: s, exit", "mixed_backtest", "seconds", "exit"),
    ]
    for name, key, first, second in rows:
        if key in figures:
            print(f"{name:45} {figures[key][first]!s:>12} {figures[key][second]!s:>8}")
    print(f"{'AAPL run: metrics, plots':45} {run['metrics']:>12} {len(run['plots']):>8}")
    print(f"{'AAPL run after backfill: metrics':45} {figures['scored_run']['metrics']:>12}")
    print(f"{'flow run log: lines, tickercast share':45} {logs['lines']:>12} ", end="")
    print(f"{logs['tickercast_share']:>8}")
    if "mixed_backtest" in figures:
        unchanged, again = figures["mixed_prices_unchanged"], figures["mixed_run_again_as_of"]
        print(f"prices unchanged by it: {unchanged}; the next sample run published as of {again}")
    print(f"flow run: {logs['first_flow_run']}; parent runs: {run['parent_run_names']}")
    print(f"description: {run['description_first_line']}")
    print(f"consoles: {transcript}\nfigures: {path}")
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
