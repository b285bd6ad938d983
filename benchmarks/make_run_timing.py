"""Wall time of `make run` after install, per stage, and the overhead around the model.

Runs `make run` (the flow on the offline sample, AAPL and MSFT, default epochs) with a
fresh TICKERCAST_HOME and a fresh PREFECT_HOME, then reads the run back: task-run
durations from Prefect's database; from MLflow, `train_seconds` (fitting the LSTM and
the baselines, calibrating intervals: Keras' `fit` and the models' predictions) and
`evaluate_seconds` (every candidate's holdout predictions and metrics). Overhead is
everything else: process start-up, imports, the temporary Prefect server, ingest,
windows, tracking, plots, model logging and registration, publishing.

    .venv/bin/python benchmarks/make_run_timing.py
"""

import asyncio
import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from results_file import write_result

ROOT = Path(__file__).resolve().parents[1]
STAGES = [
    "ingest_prices",
    "load_champion",
    "build_windows",
    "start_tracking_run",
    "train_model",
    "evaluate_model",
    "publish_forecast",
    "end_tracking_run",
]


async def _prefect_runs():
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        flow_runs = await client.read_flow_runs()
        task_runs = await client.read_task_runs()
        flows = {f.id: f.name for f in await client.read_flows()}
    return flow_runs, task_runs, flows


def main() -> None:
    scratch = Path(tempfile.mkdtemp(prefix="tickercast-bench-"))
    env = {
        **os.environ,
        "TICKERCAST_HOME": str(scratch / "home"),
        "PREFECT_HOME": str(scratch / "prefect"),
    }
    env.pop("PREFECT_API_URL", None)
    env.pop("MLFLOW_TRACKING_URI", None)
    started = time.perf_counter()
    completed = subprocess.run(["make", "run"], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"make run failed:\n{completed.stdout}\n{completed.stderr}")

    # Read the run back from the same Prefect database and MLflow store.
    os.environ.update(
        {"PREFECT_HOME": env["PREFECT_HOME"], "TICKERCAST_HOME": env["TICKERCAST_HOME"]}
    )
    flow_runs, task_runs, flows = asyncio.run(_prefect_runs())
    (parent,) = [r for r in flow_runs if flows[r.flow_id] == "daily-forecast"]
    stage_seconds: dict[str, float] = defaultdict(float)
    for task_run in task_runs:
        stage = task_run.name.rsplit("-", 1)[0]
        stage_seconds[stage] += (task_run.end_time - task_run.start_time).total_seconds()
    flow_seconds = (parent.end_time - parent.start_time).total_seconds()

    import mlflow

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{scratch / 'home' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("tickercast").experiment_id
    # the ticker runs (the flow run's parent run groups them and trains nothing)
    tickers = [r for r in client.search_runs([experiment]) if "ticker" in r.data.tags]
    runs = tickers
    fit = sum(r.data.metrics["train_seconds"] for r in runs)
    predict = sum(r.data.metrics["evaluate_seconds"] for r in runs)

    result = {
        "command": "make run",
        "tickers": len(tickers),
        "wall_seconds": wall,
        "startup_seconds": wall - flow_seconds,
        "flow_seconds": flow_seconds,
        "stage_seconds": {stage: stage_seconds.get(stage, 0.0) for stage in STAGES},
        "fit_seconds": fit,
        "predict_seconds": predict,
        "overhead_seconds": wall - fit - predict,
        "overhead_in_flow_seconds": flow_seconds - fit - predict,
    }
    print(f"make run (after install), {len(tickers)} tickers: {wall:.1f} s wall")
    print(
        f"  start-up, imports, temporary Prefect server, summary: {result['startup_seconds']:.1f} s"
    )
    print(f"  flow run: {flow_seconds:.1f} s, of which per stage (summed over tickers):")
    for stage in STAGES:
        print(f"    {stage:20} {result['stage_seconds'][stage]:6.1f} s")
    print(f"  fitting and calibrating models: {fit:.1f} s, scoring them: {predict:.2f} s")
    print(
        f"  overhead outside the models: {result['overhead_seconds']:.1f} s in all, "
        f"{result['overhead_in_flow_seconds']:.1f} s of it inside the flow run "
        f"({result['overhead_in_flow_seconds'] / len(tickers):.1f} s per ticker)"
    )
    print("\nits output:\n" + completed.stdout + completed.stderr)
    out = write_result("make_run_timing", result)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
