"""Time from `prefect deployment run` to Completed through a real server and worker,
and the time to load the champion with mlflow.pyfunc and predict once.

Starts `prefect server` on 127.0.0.1 (database in a temp folder), creates the
`process` pool, deploys deployments/prefect.yaml, starts a worker, and triggers the
daily deployment for AAPL on the sample with 2 epochs. Reports the whole time, the
part before the flow run starts (the worker polling and starting a Python process
that imports the flow), and the flow run itself. The gate is opened
(TICKERCAST_GATE_MARGIN=-1) so that the run registers a champion to load.

    .venv/bin/python benchmarks/deployment_timing.py
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from results_file import write_result  # noqa: E402

from tests.servers import (  # noqa: E402
    BIN,
    deployment_env,
    moment,
    prefect_cli,
    prefect_server,
    running,
    start_deployment_run,
    wait_for_flow_run,
)

LOAD_AND_PREDICT = """
import json, sys, time
started = time.perf_counter()
import mlflow
from tickercast.data.storage import Store
imported = time.perf_counter()
model = mlflow.pyfunc.load_model("models:/tickercast-AAPL@champion")
loaded = time.perf_counter()
prices = Store(__import__("pathlib").Path(sys.argv[1])).read_prices("AAPL").tail(61)
prices["session"] = prices["session"].dt.strftime("%Y-%m-%d")
prices["volume"] = prices["volume"].astype("float64")
recent = prices[["session", "adjusted_close", "close", "volume", "high", "low"]]
model.predict(recent)
predicted = time.perf_counter()
print(json.dumps({"import_seconds": imported - started, "load_seconds": loaded - imported,
                  "predict_seconds": predicted - loaded}))
"""


def main() -> None:
    scratch = Path(tempfile.mkdtemp(prefix="tickercast-deploy-"))
    with prefect_server(scratch / "prefect") as server:
        env = deployment_env(
            server,
            scratch / "home",
            TICKERCAST_GATE_MARGIN="-1",
            TICKERCAST_GATE_SIGNIFICANCE="1",
        )
        env.pop("MLFLOW_TRACKING_URI", None)

        prefect_cli(env, "work-pool", "create", "tickercast", "--type", "process")
        prefect_cli(
            env, "--no-prompt", "deploy", "--prefect-file", "deployments/prefect.yaml", "--all"
        )
        worker = [str(BIN / "prefect"), "worker", "start", "--pool", "tickercast"]
        with running(worker, scratch / "worker.log", env):
            time.sleep(5)  # the worker is up and polling, as in production
            started = time.monotonic()
            run_id = start_deployment_run(
                env,
                "daily-forecast/daily",
                ["-p", 'tickers=["AAPL"]', "-p", "source=sample", "-p", "epochs=2"],
            )
            run = wait_for_flow_run(env, run_id, poll=0.5)
            total = time.monotonic() - started
        created, start, end = (moment(run[k]) for k in ("created", "start_time", "end_time"))
        tracking = {"MLFLOW_TRACKING_URI": f"sqlite:///{scratch / 'home' / 'mlflow.db'}"}
        champion = subprocess.run(
            [sys.executable, "-c", LOAD_AND_PREDICT, env["TICKERCAST_HOME"]],
            env={**env, **tracking},
            capture_output=True,
            text=True,
        )
        if champion.returncode != 0:
            raise SystemExit(champion.stderr[-3000:])
        loading = json.loads(champion.stdout.strip().splitlines()[-1])
    result = {
        "deployment_run_to_completed_seconds": total,
        "before_flow_start_seconds": (start - created).total_seconds(),
        "flow_run_seconds": (end - start).total_seconds(),
        **loading,
    }
    print(f"prefect deployment run -> Completed: {total:.1f} s (AAPL, sample, 2 epochs)")
    print(
        f"  before the flow run starts (worker poll, process start, imports): "
        f"{result['before_flow_start_seconds']:.1f} s"
    )
    print(f"  the flow run itself: {result['flow_run_seconds']:.1f} s")
    print(
        f"champion: mlflow.pyfunc.load_model {loading['load_seconds']:.2f} s, one prediction "
        f"{loading['predict_seconds']:.3f} s (after {loading['import_seconds']:.1f} s of imports)"
    )
    print(f"written to {write_result('deployment_timing', result)}")


if __name__ == "__main__":
    main()
