"""What a ticker's daily run spends outside fitting: figures, Prefect artifacts, stages.

Runs the real `daily_forecast` flow on a temporary Prefect server (Prefect's test
harness) with a fresh TICKERCAST_HOME and its local MLflow store, on seeded S&P 500
members from `../shared/data/sp500` (the folder source): once as of `--as-of` minus one
session (first ingest, an empty ledger), then as of `--as-of`, the evening that is
measured (an incremental ingest, one scored forecast, so a track record and its plot).
While the second run goes, timers wrap, and call through to, what is measured:

- every figure function of `tickercast.evaluation.plots` (building the figure),
- `MlflowClient.log_figure` (rendering the PNG and storing it in the run),
- `HoldoutPlots.save` and `MlflowClient.log_artifact` (the figures' data a run keeps
  since issue 13, and every other file a run logs, by folder),
- `prefect.artifacts.Artifact.create` (every artifact, per key kind),

each charged to the ticker whose task run made the call (`flow` when none). It then
reads each task run's duration from the Prefect API and the LSTM's `train_seconds`
from MLflow, and times, on the same server, one table artifact the size of the
universe's summary (480 rows) and one small markdown artifact.

    .venv/bin/python benchmarks/ticker_overhead.py [--sample 4] [--label before]
    .venv/bin/python benchmarks/ticker_overhead.py --tickers ORCL,EL --label reviewed

ORCL is in the figures' fixed sample (`run_record.reviewed`), EL is not.
"""

import argparse
import asyncio
import functools
import inspect
import json
import os
import statistics
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

import mlflow  # noqa: E402
from prefect import flow  # noqa: E402
from prefect.artifacts import Artifact, create_markdown_artifact, create_table_artifact  # noqa: E402
from prefect.client.orchestration import get_client  # noqa: E402
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId  # noqa: E402
from prefect.context import TaskRunContext  # noqa: E402
from prefect.testing.utilities import prefect_test_harness  # noqa: E402
from results_file import write_result  # noqa: E402
from sp500_sample import DATA, select  # noqa: E402

from tickercast.data.calendar import sessions_between  # noqa: E402
from tickercast.data.storage import Store  # noqa: E402
from tickercast.data.tickers import ticker_slug  # noqa: E402
from tickercast.evaluation import plots  # noqa: E402
from tickercast.flows.daily_forecast import daily_forecast  # noqa: E402
from tickercast.tracking import run_record  # noqa: E402

UNIVERSE = 480
SMALL_ARTIFACTS = 4  # per ticker before issue 13: quality, track-record, forecast, metrics


class Timers:
    """Seconds and calls per (ticker, what), while `on` is set."""

    def __init__(self) -> None:
        self.on = False
        self.seconds: dict[tuple[str, str], float] = defaultdict(float)
        self.calls: dict[tuple[str, str], int] = defaultdict(int)

    def wrap(self, owner: object, name: str, label: Callable[[tuple], str]) -> None:
        """Replace `owner.name` by a timer that calls it, charging each call's seconds
        to the running ticker under `label(args)`."""
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                if self.on:
                    charged = (_ticker(), label(args))
                    self.seconds[charged] += time.perf_counter() - started
                    self.calls[charged] += 1

        setattr(owner, name, timed)


def _ticker() -> str:
    """The ticker of the running task run (stages are named `stage-TICKER`), or `flow`."""
    context = TaskRunContext.get()
    if context is None or "-" not in context.task_run.name:
        return "flow"
    return context.task_run.name.split("-", 1)[1]


def instrument(timers: Timers) -> None:
    """Time every figure, figure upload, plot data file and artifact the run makes."""
    for name, function in inspect.getmembers(plots, inspect.isfunction):
        if function.__module__ == plots.__name__ and not name.startswith("_"):
            timers.wrap(plots, name, lambda args, name=name: f"figure {name}")
    timers.wrap(mlflow.MlflowClient, "log_figure", lambda args: "log_figure")
    # the files a run logs (Runs.log_file: client, run_id, path, artifact_dir), log_figure's
    # PNGs among them (counted in log_figure), the figures' data file
    timers.wrap(mlflow.MlflowClient, "log_artifact", _logged_file)
    if hasattr(run_record, "HoldoutPlots"):  # the figures' data, kept since issue 13
        timers.wrap(run_record.HoldoutPlots, "save", lambda args: "figure data save")
    timers.wrap(Artifact, "create", lambda args: f"artifact {_kind(args[0].key)}")


def _logged_file(args: tuple) -> str:
    if str(args[2]).endswith(".npz"):
        return "figure data upload"
    return f"log_artifact {args[3]}"


def _kind(key: str) -> str:
    """An artifact key without its ticker: `forecast-aapl` -> `forecast`."""
    return key.removesuffix(f"-{ticker_slug(_ticker())}")


async def stage_seconds(flow_run_id) -> dict[str, float]:
    """Each task run of the flow run, by name, and its duration in seconds."""
    async with get_client() as client:
        runs = await client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    return {run.name: run.total_run_time.total_seconds() for run in runs}


@flow
def artifact_costs(rows: list[dict], markdown: str, repeats: int) -> dict[str, float]:
    """Seconds of one summary table of the universe and of one small markdown artifact."""
    table = [rows[i % len(rows)] | {"ticker": f"T{i:03d}"} for i in range(UNIVERSE)]
    seconds = {"summary_table_480_rows": [], "markdown_small": []}
    for repeat in range(repeats):
        started = time.perf_counter()
        create_table_artifact(key="bench-summary", table=table, description="bench")
        seconds["summary_table_480_rows"].append(time.perf_counter() - started)
        started = time.perf_counter()
        create_markdown_artifact(key=f"bench-{repeat}", markdown=markdown, description="bench")
        seconds["markdown_small"].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in seconds.items()}


def _git_head() -> str:
    shown = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return shown.stdout.strip() + (" (dirty)" if _dirty() else "")


def _dirty() -> bool:
    status = ["git", "status", "--porcelain", "--untracked-files=no"]
    shown = subprocess.run(status, capture_output=True, text=True)
    return bool(shown.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=4, help="seeded S&P 500 members")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--tickers", help="these members instead of the sample, e.g. ORCL,EL")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2021, 4, 20))
    # the first session trained on: fitting is not what is measured
    parser.add_argument("--start", type=date.fromisoformat, default=date(2016, 1, 4))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--label", default="", help="suffix of the result file")
    args = parser.parse_args()
    tickers = (
        args.tickers.split(",") if args.tickers else select(args.sample, args.seed, args.start)[0]
    )
    previous = sessions_between(date(args.as_of.year, 1, 1), args.as_of, "XNYS")[-2].date()
    scratch = Path(tempfile.mkdtemp(prefix="tickercast-overhead-"))
    os.environ["TICKERCAST_HOME"] = str(scratch / "home")
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    timers = Timers()
    instrument(timers)
    parameters = {"tickers": tickers, "source": str(DATA), "start": args.start}
    parameters |= {"epochs": args.epochs, "return_state": True}
    with prefect_test_harness(server_startup_timeout=120):
        daily_forecast(as_of=previous, **parameters)
        timers.on = True
        started = time.perf_counter()
        state = daily_forecast(as_of=args.as_of, **parameters)
        wall = time.perf_counter() - started
        timers.on = False
        stages = asyncio.run(stage_seconds(state.state_details.flow_run_id))
        outcomes = state.result(raise_on_failure=False)
        published = {o.ticker: o.result for o in outcomes if o.result is not None}
        some = next(iter(published))
        forecast_rows = Artifact.get(f"forecast-{ticker_slug(some)}")
        metrics = Artifact.get(f"metrics-{ticker_slug(some)}")
        rows = json.loads(forecast_rows.data) if forecast_rows else [{"ticker": some}]
        costs = artifact_costs(rows, metrics.data if metrics else "# x\n" * 40, repeats=5)
    client = mlflow.MlflowClient(tracking_uri=Store(scratch / "home").local_tracking_uri)
    per_ticker = {}
    for ticker in tickers:
        charged = {what: s for (t, what), s in timers.seconds.items() if t == ticker}
        calls = {what: n for (t, what), n in timers.calls.items() if t == ticker}
        figures = sum(s for what, s in charged.items() if what.startswith(("figure", "log_figure")))
        artifacts = sum(s for what, s in charged.items() if what.startswith("artifact"))
        run = published.get(ticker)
        train = client.get_run(run.mlflow_run_id).data.metrics["train_seconds"] if run else None
        ticker_stages = {
            name.rsplit("-" + ticker, 1)[0]: seconds
            for name, seconds in stages.items()
            if name.endswith("-" + ticker)
        }
        total = ticker_stages.get("forecast")
        per_ticker[ticker] = {
            "published_model": run.model if run else None,
            "total_seconds": total,
            "train_seconds": train,
            "outside_fit_seconds": total - train if total and train else None,
            "figures_seconds": figures,
            "figures": sum(n for what, n in calls.items() if what.startswith("log_figure")),
            "artifacts_seconds": artifacts,
            "artifacts": sum(n for what, n in calls.items() if what.startswith("artifact")),
            "by_call": {what: {"seconds": s, "calls": calls[what]} for what, s in charged.items()},
            "stages": ticker_stages,
        }
        print(
            f"{ticker:6} {per_ticker[ticker]['published_model'] or 'failed':6} total "
            f"{total or 0:6.2f} s, train {train or 0:6.2f} s; figures "
            f"{per_ticker[ticker]['figures']} in {figures:5.2f} s; artifacts "
            f"{per_ticker[ticker]['artifacts']} in {artifacts:5.2f} s"
        )
    flow_level = {what: s for (t, what), s in timers.seconds.items() if t == "flow"}
    median = {
        key: statistics.median(p[key] for p in per_ticker.values())
        for key in ("figures_seconds", "artifacts_seconds", "outside_fit_seconds")
        if all(p[key] is not None for p in per_ticker.values())
    }
    print(f"median per ticker: {median}")
    print(f"flow level: {flow_level}")
    print(
        f"artifact calls on the test server: one markdown {costs['markdown_small']:.3f} s, "
        f"a {UNIVERSE}-row summary table {costs['summary_table_480_rows']:.3f} s; "
        f"{SMALL_ARTIFACTS} small per ticker at {UNIVERSE} tickers: "
        f"{SMALL_ARTIFACTS * UNIVERSE * costs['markdown_small'] / 60:.1f} min"
    )
    name = "ticker_overhead" + (f"_{args.label}" if args.label else "")
    path = write_result(
        name,
        {
            "code": _git_head(),
            "tickers": tickers,
            "as_of": str(args.as_of),
            "start": str(args.start),
            "epochs": args.epochs,
            "flow_wall_seconds": wall,
            "per_ticker": per_ticker,
            "median_per_ticker": median,
            "flow_level": flow_level,
            "artifact_call_seconds": costs,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
