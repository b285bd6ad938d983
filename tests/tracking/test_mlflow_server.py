"""The pipeline against a real `mlflow server` on 127.0.0.1, the champion loaded in a
fresh process and served by `mlflow models serve`, and an unreachable server."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from tests.servers import BIN, free_port, mlflow_server, wait_for
from tickercast.data.storage import Store
from tickercast.flows.daily_forecast import daily_forecast
from tickercast.models.prediction import BOUND_COLUMNS
from tickercast.settings import Settings
from tickercast.tracking.serving import serve_model_command

pytestmark = [pytest.mark.usefixtures("prefect_api"), pytest.mark.server]
SMALL = {"epochs": 1, "window": 20, "horizons": 3}
RECENT = """
import json, sys
import mlflow
from tickercast.data.storage import Store
prices = Store(__import__("pathlib").Path(sys.argv[1])).read_prices("AAPL").tail(30)
prices["session"] = prices["session"].dt.strftime("%Y-%m-%d")
prices["volume"] = prices["volume"].astype("float64")
recent = prices[["session", "adjusted_close", "close", "volume", "open", "high", "low"]]
"""


@pytest.fixture(scope="module")
def tracking_server(tmp_path_factory):
    with mlflow_server(tmp_path_factory.mktemp("mlflow-server")) as url:
        yield url


@pytest.fixture(scope="module")
def tracked(tracking_server, tmp_path_factory):
    """One promoted AAPL run tracked on the server, shared by this module's tests:
    (the published forecast, its TICKERCAST_HOME)."""
    home = tmp_path_factory.mktemp("tracked-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TICKERCAST_HOME", str(home))
        patch.setenv("MLFLOW_TRACKING_URI", tracking_server)
        patch.setenv("TICKERCAST_GATE_MARGIN", "-1")
        patch.setenv("TICKERCAST_GATE_SIGNIFICANCE", "1")
        patch.setenv("TICKERCAST_SHADOW_FORECASTS", "0")  # the holdout alone: promote now
        state = daily_forecast(
            tickers=["AAPL"], source="sample", start=date(2011, 6, 1), return_state=True, **SMALL
        )
    assert state.is_completed(), state.message
    return state.result()[0].result, home


def test_runs_metrics_plots_and_the_champion_are_on_the_server(tracked, tracking_server):
    published, _ = tracked
    client = mlflow.MlflowClient(tracking_uri=tracking_server)
    run = client.get_run(published.mlflow_run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "AAPL 2013-03-01"
    assert {"rmse_ratio", "coverage_80", "lstm_rmse_ratio_h1", "published_rmse_ratio_h3"} <= set(
        run.data.metrics
    )
    plots = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert "plots/holdout_published.png" in plots and "plots/coverage_by_horizon.png" in plots
    champion = client.get_model_version_by_alias("tickercast-AAPL", "champion")
    assert champion.run_id == run.info.run_id
    assert published.mlflow_run_url.startswith(f"{tracking_server}/#/experiments/")


def test_the_champion_loads_and_predicts_in_a_fresh_process(tracked, tracking_server):
    _, home = tracked
    script = (
        RECENT
        + """
model = mlflow.pyfunc.load_model("models:/tickercast-AAPL@champion")
print(model.predict(recent).to_json(orient="records"))
"""
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(home)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "MLFLOW_TRACKING_URI": tracking_server},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = json.loads(result.stdout.strip().splitlines()[-1])
    assert [r["horizon"] for r in rows] == [1, 2, 3]
    assert all(r["lower_95"] < r["forecast"] < r["upper_95"] for r in rows)


def test_the_serve_command_runs_this_environments_mlflow_on_127_0_0_1(tmp_path):
    settings = Settings(home=tmp_path)
    argv, env = serve_model_command(settings, "brk-b", environ={"PATH": "/usr/bin"})
    assert argv == [
        str(BIN / "mlflow"),
        *("models", "serve", "--model-uri", "models:/tickercast-BRK-B@champion"),
        *("--env-manager", "local", "--host", "127.0.0.1", "--port", "5001"),
    ]
    assert env["PATH"] == f"{BIN}:/usr/bin"  # `mlflow models serve` runs `uvicorn` by name
    assert env["MLFLOW_TRACKING_URI"] == f"sqlite:///{tmp_path / 'mlflow.db'}"
    remote = Settings(home=tmp_path, mlflow_tracking_uri="http://10.0.0.5:5000")
    argv, env = serve_model_command(remote, "AAPL", version="3", port=8080, environ={})
    assert argv[4] == "models:/tickercast-AAPL/3" and argv[-1] == "8080"
    assert env == {"PATH": str(BIN), "MLFLOW_TRACKING_URI": "http://10.0.0.5:5000"}


def test_serve_model_answers_the_published_forecast_and_its_intervals(
    tracked, tracking_server, tmp_path
):
    published, home = tracked
    assert published.model == "lstm"  # the gate was told to publish and promote it
    port = free_port()
    # as a user starts it: outside an activated virtualenv (its bin directory is not on
    # PATH), with no variable of the test session's that would quiet TensorFlow
    user = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "MLFLOW_"))}
    user |= {"PATH": "/usr/local/bin:/usr/bin:/bin", "TICKERCAST_HOME": str(home)}
    user["MLFLOW_TRACKING_URI"] = tracking_server
    log = tmp_path / "serve.log"
    command = [str(BIN / "tickercast"), "serve-model", "AAPL", "--port", str(port)]
    with subprocess.Popen(
        command, env=user, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    ) as process:
        try:
            wait_for(f"http://127.0.0.1:{port}/ping", process, log, seconds=240)
            prices = Store(home).read_prices("AAPL").tail(30)
            prices["session"] = prices["session"].dt.strftime("%Y-%m-%d")
            recent = prices[["session", "adjusted_close", "close", "volume", "open", "high", "low"]]
            body = {
                "dataframe_split": json.loads(
                    recent.astype({"volume": "float64"}).to_json(orient="split", index=False)
                )
            }
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/invocations",
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=60) as answer:
                predictions = pd.DataFrame(json.loads(answer.read())["predictions"])
        finally:
            os.killpg(process.pid, signal.SIGINT)  # Ctrl-C, as the user stops it
            process.wait(timeout=60)
    console = log.read_text()
    assert console.splitlines()[0] == (
        f"serving tickercast-AAPL v1 (the champion, trained as of 2013-03-01, intervals of "
        f"{published.interval_model}) on http://127.0.0.1:{port}"
    )
    assert not re.search(r"cuda|absl|oneDNN|Traceback", console, re.IGNORECASE), console[-3000:]
    # the published file's rows, its intervals included: the interval gate's choice was
    # registered with the model (format 2), not the LSTM's own intervals
    forecast = pd.read_parquet(published.path)
    columns = ["horizon", "last_close", "forecast", *BOUND_COLUMNS]
    assert predictions["as_of"].tolist() == [d.isoformat() for d in forecast["as_of"]]
    pd.testing.assert_frame_equal(
        predictions[columns], forecast[columns], check_dtype=False, rtol=1e-6
    )


def test_an_unreachable_server_fails_the_run_quickly_and_publishes_nothing(settings, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    started = time.monotonic()
    state = daily_forecast(
        tickers=["IBM"], source="sample", start=date(2011, 6, 1), return_state=True, **SMALL
    )
    assert time.monotonic() - started < 120
    assert state.is_failed()
    assert "TrackingUnavailableError: MLflow tracking server http://127.0.0.1:" in state.message
    assert not Store(settings.home).forecast_dir("IBM").exists()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ROOT = Path(__file__).resolve().parents[2]


def _browse(url: str, profile: Path, *extra: str) -> str:
    """The DOM of `url` after its scripts ran, from headless Chromium."""
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=20000",
        "--window-size=1400,1000",
        *extra,
        url,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120).stdout


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (make install adds it as root)"
)
@pytest.mark.browser
def test_a_reviewer_sees_the_runs_and_the_plots_in_the_mlflow_ui(
    tracked, tracking_server, tmp_path
):
    published, _ = tracked
    client = mlflow.MlflowClient(tracking_uri=tracking_server)
    run = client.get_run(published.mlflow_run_id)
    experiment = run.info.experiment_id
    runs_page = _browse(
        f"{tracking_server}/#/experiments/{experiment}/runs", tmp_path / "p1", "--dump-dom"
    )
    assert "daily-forecast 2013-03-01: AAPL" in runs_page  # the flow run's, named by its session
    run_page = _browse(
        f"{tracking_server}/#/experiments/{experiment}/runs/{run.info.run_id}",
        tmp_path / "p4",
        "--dump-dom",
    )
    assert "AAPL 2013-03-01" in run_page and "rmse_ratio" in run_page  # the ticker's child run
    # its description opens on the forecast itself
    assert f"AAPL 2013-03-04: {published.forecast:.2f}, 80 % " in run_page
    assert "AAPL prices" in run_page  # its training data, in the Datasets panel
    # the experiment is model training, and the links a reviewer is given open on its
    # runs, not on MLflow's GenAI overview (traces, token usage, "Detect Issues")
    tags = client.get_experiment(experiment).tags
    assert tags["mlflow.experimentKind"] == "custom_model_development"
    experiment_link = published.mlflow_run_url.split("/runs/")[0]
    landing = _browse(
        f"{experiment_link}?workflowType=machine_learning", tmp_path / "p5", "--dump-dom"
    )
    assert "daily-forecast 2013-03-01: AAPL" in landing
    assert "Detect Issues" not in landing and "Token Usage" not in landing
    plot = "plots/holdout_published.png"
    artifact_page = _browse(
        f"{tracking_server}/#/experiments/{experiment}/runs/{run.info.run_id}/artifacts/{plot}",
        tmp_path / "p2",
        "--dump-dom",
    )
    assert f'alt="{plot}"' in artifact_page  # the plot is shown as an image
    screenshots = ROOT / ".test-artifacts"
    screenshots.mkdir(exist_ok=True)
    _browse(
        f"{tracking_server}/#/experiments/{experiment}/runs",
        tmp_path / "p3",
        f"--screenshot={screenshots / 'mlflow_ui_runs.png'}",
    )
    assert (screenshots / "mlflow_ui_runs.png").stat().st_size > 10_000
