"""Issue 13: a universe of S&P 500 members, from a first run to the evening after.

For each count N (`--counts`), the first N tickers of a seeded permutation of
`../shared/data/sp500/universe.txt` (so the 30 are among the 120, and those among the
480), in a fresh TICKERCAST_HOME and PREFECT_HOME, two `tickercast run` subprocesses
as a user starts them, on the folder source:

- `full`: the first run, `--as-of 2021-04-20` (`--as-of`): every ticker ingested
  from nothing and trained from scratch;
- `steady`: the evening after, in the same homes, as of the next session (the data's
  last, 2021-04-21): one new session to ingest, yesterday's forecasts to score, each
  LSTM trained as the retrain policy says (`TICKERCAST_RETRAIN`; by default afresh
  every evening, `monthly+reuse` reuses the network within its month).

With `--model global` the daily runs use one network for the universe: before the
full run, `tickercast ingest` stores the prices and `tickercast train-global` trains
the network on them (its own weekly flow in production); both are timed as steps.

Figures per run:
- wall: the whole command; flow: the daily-forecast flow run (Prefect's database);
  startup: wall - flow (imports, the temporary Prefect server, the printed table);
- peak RSS of the whole process tree (the CLI, its temporary Prefect server, Dask's
  workers), sampled with psutil (`scale_timing.peak_rss`);
- the split of the flow's time, summed over tickers, in seconds:
  - ingest: `ingest_prices` task runs (the seconds Prefect has them running, retries
    included, of those that completed); ledger: `score_forecasts`; windows: `build_windows`;
  - fit: MLflow's `train_seconds` (the candidates' fits and interval calibration);
  - evaluate: MLflow's `evaluate_seconds` (every candidate's holdout scoring, the gates);
  - plots: MLflow metrics named `*plot*_seconds`, when the runs log any (else null:
    rendering the plots is then inside `logging`);
  - logging: MLflow outside those: `start_tracking_run`, `report_track_record`,
    `load_champion`, `end_tracking_run`, `train_model` - train_seconds,
    `evaluate_model` - evaluate_seconds (logging metrics, plots and history), less
    plots, and the flow's own `start_parent_run`, `publish_run_summary`, `end_parent_run`;
  - publish: `publish_forecast` (model logged and registered, alias, forecast files,
    ledger, artifacts);
  - prefect: each `forecast-<ticker>` task run's duration minus its stages', plus the
    flow's time outside every ticker's task run and the flow-level stages.
  - failed_stages: stage runs that failed in the end (where a ticker failed);
  - retry_waits: the time between a stage's attempts.
  In a serial run these add up to the flow's seconds. With `--task-runner dask`
  tickers overlap: the split adds ticker-seconds, not wall.
  Every `*_seconds` metric the ticker runs log is also summed under `mlflow_seconds`;
- failed tickers, each with its one-line reason (the CLI's `FAILED in` lines);
- registered model versions and LoggedModels created (rows added to `model_versions`
  and `logged_models` in the home's `mlflow.db`), and Prefect artifacts created by the
  flow run (its rows in `artifact`), by kind.

Written to benchmarks/results/universe_timing.json after each run (`--out`), and
printed as a table. The load average before and after each run is kept: on a shared
machine the timings are only as clean as it was idle.

    .venv/bin/python benchmarks/universe_timing.py --counts 30
    .venv/bin/python benchmarks/universe_timing.py --counts 30,120,480 --keep
    .venv/bin/python benchmarks/universe_timing.py --model global --jobs 2 --out \
        benchmarks/results/universe_timing_global.json
"""

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from contextlib import closing
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from results_file import RESULTS  # noqa: E402
from scale_timing import peak_rss, prefect_durations  # noqa: E402
from sp500_sample import CALENDAR, DATA  # noqa: E402

from tests.servers import BIN  # noqa: E402
from tickercast.data.calendar import sessions_between  # noqa: E402
from tickercast.data.tickers import read_universe  # noqa: E402
from tickercast.models.network_config import ModelConfig  # noqa: E402

AS_OF = date(2021, 4, 20)  # the day before the data's last session
TICKER_TASK = "forecast"  # forecast-<ticker>
# the flow's own stage runs, outside any ticker's
FLOW_STAGES = ("start_parent_run", "publish_run_summary", "end_parent_run")
# a ticker's stages that only talk to MLflow (open, close, show, load)
LOGGING_STAGES = ("start_tracking_run", "report_track_record", "load_champion", "end_tracking_run")
# stage -> the MLflow metric timing the model work inside it, and its split category
MEASURED_INSIDE = {
    "train_model": ("train_seconds", "fit"),
    "evaluate_model": ("evaluate_seconds", "evaluate"),
}
SPLIT_STAGES = {
    "ingest_prices": "ingest",
    "score_forecasts": "ledger",
    "build_windows": "windows",
    "publish_forecast": "publish",
}
SPLIT = ("ingest", "ledger", "windows", "fit", "evaluate", "plots", "logging", "publish", "prefect")
# the rest of the flow's time: stage runs that failed, and the waits before retries
EXTRA = ("failed_stages", "retry_waits")
# ticker-run tags counted per run: how the LSTM was trained, what was published
TAGS = ("training", "warm_start", "published_model", "interval_model")
LABELS = {"failed_stages": "failstg", "retry_waits": "retries"}


def sample(count: int, seed: int) -> list[str]:
    """The first `count` tickers of the universe in a seeded order: nested across counts."""
    universe = sorted(read_universe(DATA / "universe.txt"))
    if count > len(universe):
        raise SystemExit(f"--counts: {count} > the {len(universe)} tickers of the universe")
    return random.Random(seed).sample(universe, len(universe))[:count]


def seconds(start: str | None, end: str | None) -> float:
    """Between two of Prefect's timestamps; 0 for a run that never ran (cached)."""
    if start is None or end is None:
        return 0.0
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def covered(intervals: list[tuple[str, str]]) -> float:
    """Seconds inside at least one of the intervals (overlapping Dask tasks count once)."""
    total, reach = 0.0, None
    for start, end in sorted(
        (datetime.fromisoformat(s), datetime.fromisoformat(e)) for s, e in intervals
    ):
        if reach is None or start > reach:
            total += (end - start).total_seconds()
            reach = end
        elif end > reach:
            total += (end - reach).total_seconds()
            reach = end
    return total


def query(database: Path, sql: str, *parameters: str) -> list[tuple]:
    """The rows of one query on a SQLite database."""
    with closing(sqlite3.connect(database)) as db:
        return db.execute(sql, parameters).fetchall()


def task_runs(database: Path, flow_run_id: str) -> list[tuple[str, str, float, float, str]]:
    """`(stage, ticker, span, running, state)` of each task run of the flow run: `span`
    from its start to its end (retry waits included), `running` the seconds it spent
    running; `ticker` is "" for the flow's own stages, `stage` "forecast" for a ticker's
    task run."""
    rows = query(
        database,
        "select name, start_time, end_time, total_run_time, state_type from task_run "
        "where flow_run_id = ?",
        flow_run_id,
    )
    epoch = datetime(1970, 1, 1)
    runs = []
    for name, start, end, running, state in rows:
        stage, _, ticker = name.partition("-")  # stage names have no dash; BRK-B has
        ran = (datetime.fromisoformat(running) - epoch).total_seconds() if running else 0.0
        runs.append((stage, ticker, seconds(start, end), ran, state))
    return runs


def flow_runs(database: Path, flow: str) -> dict[str, str]:
    """The runs of a flow in Prefect's database: id -> when created."""
    if not database.is_file():
        return {}
    sql = "select r.id, r.created from flow_run r join flow f on f.id = r.flow_id where f.name = ?"
    return dict(query(database, sql, flow))


def failures(database: Path, flow_run_id: str, printed: str) -> dict[str, str]:
    """Each failed ticker's one-line reason: the CLI's `FAILED in <stage>: <error>` line
    when it printed one (it also names tickers rejected before any task ran), else the
    stage that failed and the ticker's task-run state message from Prefect's database."""
    rows = query(
        database,
        "select t.name, s.message from task_run t left join task_run_state s "
        "on s.id = t.state_id where t.flow_run_id = ? and t.state_type = 'FAILED'",
        flow_run_id,
    )
    stages = {}
    for name, _ in rows:
        stage, _, ticker = name.partition("-")
        if stage != TICKER_TASK and ticker:
            stages.setdefault(ticker, stage)
    failed = {
        name.partition("-")[2]: f"in {stages.get(name.partition('-')[2], '?')}: "
        + (message or "").strip().split("\n")[0]
        for name, message in rows
        if name.partition("-")[0] == TICKER_TASK
    }
    printed_lines = re.findall(r"^(\S+)\s+FAILED (in .*)$", printed, flags=re.MULTILINE)
    return failed | {ticker: reason.strip() for ticker, reason in printed_lines}


def ticker_spans(database: Path, flow_run_id: str) -> list[tuple[str, str]]:
    """`(start, end)` of each ticker's task run that ran."""
    return query(
        database,
        "select start_time, end_time from task_run where flow_run_id = ? "
        f"and name like '{TICKER_TASK}-%' and start_time is not null "
        "and end_time is not null",
        flow_run_id,
    )


def artifacts(database: Path, flow_run_id: str) -> Counter:
    """The flow run's Prefect artifacts, by kind (the key without its ticker)."""
    keys = query(database, "select key from artifact where flow_run_id = ?", flow_run_id)
    kinds = Counter()
    for (key,) in keys:
        kind = (
            "daily-forecast-summary"
            if key == "daily-forecast-summary"
            else (key or "").split("-")[0]
        )
        kinds["track-record" if kind == "track" else kind] += 1
    return kinds


def mlflow_rows(home: Path) -> dict[str, int | None]:
    """Rows of `model_versions` and `logged_models` in the home's MLflow store (None: no
    such table)."""
    store = home / "mlflow.db"
    counts: dict[str, int | None] = {"model_versions": 0, "logged_models": 0}
    if not store.is_file():
        return counts
    with closing(sqlite3.connect(store)) as db:
        tables = {
            name for (name,) in db.execute("select name from sqlite_master where type = 'table'")
        }
        for table in counts:
            counts[table] = (
                db.execute(f"select count(*) from {table}").fetchone()[0]
                if table in tables
                else None
            )
    return counts


def run_seconds_metrics(home: Path, flow_run_id: str) -> dict[str, dict[str, float]]:
    """Each ticker run of the flow run: its `*_seconds` metrics (latest values)."""
    rows = query(
        home / "mlflow.db",
        "select ticker.value, m.key, m.value from tags flow "
        "join tags ticker on ticker.run_uuid = flow.run_uuid and ticker.key = 'ticker' "
        "join latest_metrics m on m.run_uuid = flow.run_uuid "
        "where flow.key = 'prefect_flow_run_id' and flow.value = ? and m.key like '%seconds'",
        flow_run_id,
    )
    metrics: dict[str, dict[str, float]] = defaultdict(dict)
    for ticker, key, value in rows:
        metrics[ticker][key] = value
    return metrics


def run_tags(home: Path, flow_run_id: str) -> dict[str, dict[str, int]]:
    """How many of the flow run's ticker runs have each value of the tags that say how
    the LSTM was trained and what was published (those of TAGS present)."""
    rows = query(
        home / "mlflow.db",
        "select t.key, t.value from tags flow "
        "join tags ticker on ticker.run_uuid = flow.run_uuid and ticker.key = 'ticker' "
        "join tags t on t.run_uuid = flow.run_uuid "
        "where flow.key = 'prefect_flow_run_id' and flow.value = ? "
        f"and t.key in ({', '.join('?' * len(TAGS))})",
        flow_run_id,
        *TAGS,
    )
    counts: dict[str, Counter] = defaultdict(Counter)
    for key, value in rows:
        counts[key][value] += 1
    return {key: dict(counts[key].most_common()) for key in TAGS if key in counts}


def split(
    runs: list, spans: list, flow: float, metrics: dict[str, dict[str, float]]
) -> tuple[dict, dict]:
    """The flow's time by category (SPLIT), and each stage's summed running seconds
    (completed task runs)."""
    stage_seconds: dict[str, float] = defaultdict(float)
    completed: dict[str, set[str]] = defaultdict(set)  # stage -> tickers
    inside, flow_stages, failed, waits = 0.0, 0.0, 0.0, 0.0
    for stage, ticker, span, running, state in runs:
        if stage == TICKER_TASK:
            inside += span
            continue
        if ticker:
            inside -= span
        else:
            flow_stages += span
        waits += span - running  # retry waits; 0 for a run that ran once
        if state == "FAILED":
            failed += running
        else:
            stage_seconds[stage] += running
            completed[stage].add(ticker)
    parts = dict.fromkeys(SPLIT, 0.0)
    for stage, category in SPLIT_STAGES.items():
        parts[category] = stage_seconds.get(stage, 0.0)
    parts["logging"] = sum(stage_seconds.get(s, 0.0) for s in (*LOGGING_STAGES, *FLOW_STAGES))
    for stage, (metric, category) in MEASURED_INSIDE.items():
        measured = sum(metrics.get(t, {}).get(metric, 0.0) for t in completed[stage])
        parts[category] = measured
        parts["logging"] += stage_seconds.get(stage, 0.0) - measured
    plots = [sum(m.get(k, 0.0) for m in metrics.values()) for k in plot_metrics(metrics)]
    parts["plots"] = sum(plots) if plots else None
    parts["logging"] -= parts["plots"] or 0.0
    outside = flow - covered(spans) - flow_stages
    parts["prefect"] = inside + outside
    parts["failed_stages"], parts["retry_waits"] = failed, waits
    known = {*SPLIT_STAGES, *LOGGING_STAGES, *FLOW_STAGES, *MEASURED_INSIDE}
    parts["unclassified"] = sum(v for s, v in stage_seconds.items() if s not in known)
    parts["prefect_in_ticker_tasks"], parts["prefect_outside_ticker_tasks"] = inside, outside
    return parts, dict(stage_seconds)


def plot_metrics(metrics: dict[str, dict[str, float]]) -> list[str]:
    return sorted({key for m in metrics.values() for key in m if "plot" in key})


def tickercast(
    command: str,
    universe: Path,
    as_of: date,
    home: Path,
    prefect_home: Path,
    arguments: argparse.Namespace,
    log: Path,
) -> tuple[float, int, str, int]:
    """One `tickercast <command>` subprocess (`run`, `ingest`, `train-global`) as a user
    starts it: wall seconds, peak RSS (bytes), output, exit code."""
    env = {**os.environ, "TICKERCAST_HOME": str(home), "PREFECT_HOME": str(prefect_home)}
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    # the console as a user sees it: the CLI quiets TensorFlow unless told otherwise
    for variable in ("PREFECT_API_URL", "MLFLOW_TRACKING_URI", "TF_CPP_MIN_LOG_LEVEL"):
        env.pop(variable, None)
    argv = [str(BIN / "tickercast"), command, "--universe", str(universe), "--as-of", str(as_of)]
    if command in ("run", "ingest"):
        argv += ["--source", str(DATA)]
    if command == "run":
        argv += ["--task-runner", arguments.task_runner, "--model", arguments.model]
        if arguments.jobs is not None:
            argv += ["--dask-workers", str(arguments.jobs)]
    if command in ("run", "train-global") and arguments.epochs is not None:
        argv += ["--epochs", str(arguments.epochs)]
    peak = [0]
    started = time.perf_counter()
    with open(log, "w") as output:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        sampler = threading.Thread(target=peak_rss, args=(process, [], peak))
        sampler.start()
        process.wait()
        sampler.join()
    return time.perf_counter() - started, peak[0], log.read_text(), process.returncode


def measure_step(
    count: int, command: str, as_of: date, tickers: list[str], folder: Path, arguments
) -> dict:
    """A step before the first daily run with `--model global` (the ingest, then
    `train-global` on the stored prices): its wall, flow seconds and peak RSS."""
    home, prefect_home = folder / "home", folder / "prefect"
    universe = folder / "universe.txt"
    universe.write_text("\n".join(tickers) + "\n")
    load_before, code = os.getloadavg(), code_version()
    earlier = flow_runs(prefect_home / "prefect.db", command)  # each flow is named so
    wall, peak, printed, exit_code = tickercast(
        command, universe, as_of, home, prefect_home, arguments, folder / f"{command}.log"
    )
    now = flow_runs(prefect_home / "prefect.db", command)
    (flow_run_id,) = set(now) - set(earlier)
    if exit_code != 0 and command == "train-global":
        raise SystemExit(f"train-global of {count} tickers exited {exit_code}:\n{printed[-5000:]}")
    (start, end) = query(
        prefect_home / "prefect.db",
        "select start_time, end_time from flow_run where id = ?",
        flow_run_id,
    )[0]
    return {
        "count": count,
        "kind": command,
        "as_of": str(as_of),
        "exit_code": exit_code,
        "code": code,
        "flow_run_id": flow_run_id,
        "wall_seconds": wall,
        "flow_seconds": seconds(start, end),
        "peak_rss_mib": peak / 2**20,
        "printed_tail": printed.strip().splitlines()[-3:],
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }


def measure(
    count: int, kind: str, as_of: date, tickers: list[str], folder: Path, arguments
) -> dict:
    """One run in `folder`'s homes, and its figures."""
    home, prefect_home = folder / "home", folder / "prefect"
    universe = folder / "universe.txt"
    universe.write_text("\n".join(tickers) + "\n")
    before, load_before, code = mlflow_rows(home), os.getloadavg(), code_version()
    earlier = flow_runs(prefect_home / "prefect.db", "daily-forecast")
    wall, peak, printed, exit_code = tickercast(
        "run", universe, as_of, home, prefect_home, arguments, folder / f"{kind}.log"
    )
    load_after = os.getloadavg()
    database = prefect_home / "prefect.db"
    now = flow_runs(database, "daily-forecast")
    new = sorted(set(now) - set(earlier), key=now.get)
    if not new:
        raise SystemExit(
            f"{kind} run of {count} tickers exited {exit_code} without a flow run:\n"
            + printed[-5000:]
        )
    flow_run_id = new[-1]
    slots = (arguments.jobs or 2) if arguments.task_runner == "dask" else 1
    phases = prefect_durations(database, flow_run_id, slots)
    runs, spans = task_runs(database, flow_run_id), ticker_spans(database, flow_run_id)
    metrics = run_seconds_metrics(home, flow_run_id)
    parts, stage_seconds = split(runs, spans, phases["flow"], metrics)
    failed = failures(database, flow_run_id, printed)
    after = mlflow_rows(home)
    kinds = artifacts(database, flow_run_id)
    per_ticker = sorted(phases["per_ticker"].values())
    return {
        "count": count,
        "kind": kind,
        "as_of": str(as_of),
        "exit_code": exit_code,
        "code": code,
        "flow_run_id": flow_run_id,
        "wall_seconds": wall,
        "flow_seconds": phases["flow"],
        "startup_seconds": wall - phases["flow"],
        "peak_rss_mib": peak / 2**20,
        "split_seconds": parts,
        "stage_seconds": stage_seconds,
        "mlflow_seconds": {
            key: sum(m.get(key, 0.0) for m in metrics.values())
            for key in sorted({key for m in metrics.values() for key in m})
        },
        "ticker_task_seconds": {
            "mean": sum(per_ticker) / len(per_ticker),
            "median": per_ticker[len(per_ticker) // 2],
            "max": per_ticker[-1],
            "first_per_slot": phases["first_ticker_per_slot"],
            "later": phases["later_tickers"],
        },
        "before_first_ticker_seconds": phases["before_first_ticker"],
        "after_last_ticker_seconds": phases["after_last_ticker"],
        "tickers_published": count - len(failed),
        "tickers_failed": len(failed),
        "failures": failed,
        "model_versions_created": _added(before, after, "model_versions"),
        "logged_models_created": _added(before, after, "logged_models"),
        "ticker_run_tags": run_tags(home, flow_run_id),
        "artifacts_created": sum(kinds.values()),
        "artifacts_by_kind": dict(sorted(kinds.items())),
        "load_average_before": load_before,
        "load_average_after": load_after,
    }


def _added(before: dict, after: dict, table: str) -> int | None:
    return None if after[table] is None else after[table] - (before[table] or 0)


def _figure(value: float | None, width: int = 6) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:{width}.0f}"


def table(results: list[dict]) -> str:
    """The runs side by side: seconds, MiB and counts."""
    head = f"{'N':>4} {'run':6} {'wall':>6} {'flow':>6} {'start':>6} {'RSS MiB':>7} "
    head += " ".join(f"{LABELS.get(name, name)[:7]:>7}" for name in (*SPLIT, *EXTRA))
    head += f" {'failed':>6} {'versions':>8} {'LMs':>4} {'artfcts':>7}"
    lines = [head]
    for r in results:
        parts = r["split_seconds"]
        line = f"{r['count']:4} {r['kind']:6} {_figure(r['wall_seconds'])} "
        line += f"{_figure(r['flow_seconds'])} "
        line += f"{_figure(r['startup_seconds'])} {_figure(r['peak_rss_mib'], 7)} "
        line += " ".join(_figure(parts[name], 7) for name in (*SPLIT, *EXTRA))
        line += f" {r['tickers_failed']:6} {_figure(r['model_versions_created'], 8)}"
        line += f" {_figure(r['logged_models_created'], 4)} {r['artifacts_created']:7}"
        lines.append(line)
    return "\n".join(lines)


def code_version() -> dict:
    """The commit measured, and the files that differed from it when the run started
    (the run imports the working tree)."""

    def git(*command: str) -> str:
        return subprocess.run(["git", *command], cwd=ROOT, capture_output=True, text=True).stdout

    changed = git("status", "--porcelain", "--untracked-files=no").splitlines()
    return {"commit": git("rev-parse", "HEAD").strip(), "modified": [f[3:] for f in changed]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--counts", default="30,120,480", help="tickers per universe (30,120,480)")
    parser.add_argument(
        "--epochs", type=int, help=f"the run's --epochs (default: its own, {ModelConfig.epochs})"
    )
    parser.add_argument("--seed", type=int, default=13, help="the universe's permutation (13)")
    parser.add_argument(
        "--as-of", type=date.fromisoformat, default=AS_OF, help=f"the full run's ({AS_OF})"
    )
    parser.add_argument("--task-runner", choices=("serial", "dask"), default="serial")
    parser.add_argument(
        "--model",
        choices=("lstm", "global"),
        default="lstm",
        help="the daily runs' model; global: ingest and train-global before the full run",
    )
    parser.add_argument("--jobs", type=int, help="Dask workers (implies --task-runner dask)")
    parser.add_argument("--keep", action="store_true", help="keep the homes and logs")
    parser.add_argument("--out", type=Path, default=RESULTS / "universe_timing.json")
    arguments = parser.parse_args()
    if arguments.jobs is not None:
        arguments.task_runner = "dask"
    counts = [int(count) for count in arguments.counts.split(",")]
    evening = sessions_between(
        arguments.as_of + timedelta(days=1), arguments.as_of + timedelta(days=10), CALENDAR
    )
    kinds = (("full", arguments.as_of), ("steady", evening[0].date()))
    payload = {
        "source": str(DATA),
        "seed": arguments.seed,
        "epochs": arguments.epochs or ModelConfig.epochs,
        "task_runner": arguments.task_runner,
        "model": arguments.model,
        "dask_workers": arguments.jobs,
        "cpu_count": os.cpu_count(),
        "runs": [],
    }
    scratch = Path(tempfile.mkdtemp(prefix="tickercast-universe-"))
    try:
        for count in counts:
            tickers = sample(count, arguments.seed)
            payload.setdefault("tickers", {})[str(count)] = tickers
            folder = scratch / f"n{count}"
            folder.mkdir()
            if arguments.model == "global":  # the global network needs stored prices
                for command in ("ingest", "train-global"):
                    print(f"{count} tickers, {command} as of {arguments.as_of} ...", flush=True)
                    step = measure_step(count, command, arguments.as_of, tickers, folder, arguments)
                    payload.setdefault("steps", []).append(step)
                    print(
                        f"  {command}: {step['wall_seconds']:.0f} s wall, "
                        f"{step['peak_rss_mib']:.0f} MiB; {' | '.join(step['printed_tail'])}",
                        flush=True,
                    )
            for kind, as_of in kinds:
                print(f"{count} tickers, {kind} run as of {as_of} ...", flush=True)
                result = measure(count, kind, as_of, tickers, folder, arguments)
                payload["runs"].append(result)
                arguments.out.parent.mkdir(parents=True, exist_ok=True)
                arguments.out.write_text(json.dumps(payload, indent=2))
                print(table([result]).splitlines()[1], flush=True)
                for ticker, reason in result["failures"].items():
                    print(f"     {ticker:8} FAILED {reason}")
    finally:
        if arguments.keep:
            print(f"homes and logs kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print()
    print(table(payload["runs"]))
    print("seconds, summed over tickers (see the docstring); N/A (-): not logged by the runs")
    print(f"written to {arguments.out}")


if __name__ == "__main__":
    main()
