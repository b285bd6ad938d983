"""Real servers for tests, on 127.0.0.1: started as subprocesses, always stopped."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, log: Path, seconds: float = 120) -> None:
    """Poll `url` until it answers 200, or fail with the server's log."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer in {seconds} s:\n{log.read_text()[-3000:]}")


@contextmanager
def running(command: list[str], log: Path, env: dict | None = None) -> Iterator[subprocess.Popen]:
    """Run a server process group for the block; stop it (and its children) after."""
    with log.open("w") as output:
        process = subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            # the virtualenv's bin first: `mlflow models serve` execs `uvicorn`
            env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", **(env or {})},
            start_new_session=True,
        )
        try:
            yield process
        finally:
            _stop_group(process)


def _stop_group(process: subprocess.Popen) -> None:
    """Stop the server and everything it started, even if it already exited."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=20)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextmanager
def mlflow_server(folder: Path) -> Iterator[str]:
    """`mlflow server` with a SQLite backend and an artifact root in `folder`; yields its URL."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    command = [
        str(BIN / "mlflow"),
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backend-store-uri",
        f"sqlite:///{folder / 'mlflow.db'}",
        "--artifacts-destination",
        str(folder / "artifacts"),
        "--workers",
        "1",
    ]
    log = folder / "mlflow-server.log"
    with running(command, log) as process:
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/health", process, log)
        yield url


@contextmanager
def prefect_server(folder: Path) -> Iterator[dict[str, str]]:
    """`prefect server start` with its database in `folder`; yields the environment that
    points Prefect clients, workers and flow runs at it."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    env = {
        "PREFECT_HOME": str(folder / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{folder / 'prefect.db'}",
    }
    command = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    log = folder / "prefect-server.log"
    with running(command, log, env) as process:
        api = f"http://127.0.0.1:{port}/api"
        wait_for(f"{api}/health", process, log)
        yield {**env, "PREFECT_API_URL": api}


ROOT = Path(__file__).resolve().parents[1]


def prefect_cli(env: dict, *arguments: str, timeout: float = 180) -> str:
    """Run `prefect ...` from the project root; fail with its output if it fails."""
    result = subprocess.run(
        [str(BIN / "prefect"), *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"prefect {' '.join(arguments)}:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def start_deployment_run(
    env: dict, deployment: str, parameters: list[str], run_env: dict[str, str] | None = None
) -> str:
    """Trigger a deployment run (`-p key=value` pairs), with `run_env` added to the
    environment a process worker gives its flow run; returns the flow run id."""
    variables = ["--job-variable", f"env={json.dumps(run_env)}"] if run_env else []
    output = prefect_cli(env, "deployment", "run", deployment, *parameters, *variables)
    return re.search(r"UUID: ([0-9a-f-]{36})", output).group(1)


def deployment_env(api: dict[str, str], home: Path, **variables: str) -> dict[str, str]:
    """The environment of the `prefect` CLI and a worker (its flow runs inherit it):
    this one, pointed at the Prefect server `api` and the TICKERCAST_HOME `home`."""
    return {
        **os.environ,
        **api,
        "TICKERCAST_HOME": str(home),
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        **variables,
    }


FINAL = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")


def flow_run(env: dict, flow_run_id: str) -> dict:
    """A flow run as the Prefect server at `env`'s PREFECT_API_URL has it (its JSON)."""
    url = f"{env['PREFECT_API_URL']}/flow_runs/{flow_run_id}"
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.load(answer)


def wait_for_state(
    env: dict,
    flow_run_id: str,
    types: tuple[str, ...] = FINAL,
    seconds: float = 420,
    poll: float = 1,
) -> dict:
    """Poll a flow run until its state is of one of `types`, and return it. It asks the
    API itself: a `prefect flow-run inspect` per poll costs a second of a core, taken
    from the flow run being waited for."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = flow_run(env, flow_run_id)
        if run["state"]["type"] in types:
            return run
        time.sleep(poll)
    raise TimeoutError(f"flow run {flow_run_id} was not {' or '.join(types)} in {seconds} s")


def wait_for_flow_run(env: dict, flow_run_id: str, seconds: float = 420, poll: float = 2) -> dict:
    """Poll a flow run until Completed and return it; fail on any other final state."""
    run = wait_for_state(env, flow_run_id, FINAL, seconds, poll)
    if run["state"]["type"] != "COMPLETED":
        state = run["state"]
        raise AssertionError(f"flow run {flow_run_id} ended {state['type']}: {state['message']}")
    return run


def moment(text: str) -> datetime:
    """A timestamp from Prefect's JSON."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
