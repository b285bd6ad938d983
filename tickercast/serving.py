"""Serve a ticker's registered model over HTTP with `mlflow models serve`, on 127.0.0.1.

The server answers `POST /invocations` (`{"dataframe_split": ...}` of at least
`window + 1` recent sessions, as the model's input example shows) with the next H
sessions' forecasts and intervals in the as_of session's price units: the numbers of
the published forecast file for that day.

    argv, env = serve_model_command(Settings.from_env(), "AAPL")
    subprocess.run(argv, env=env)
"""

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from tickercast.settings import Settings
from tickercast.storage import Store
from tickercast.tickers import CHAMPION_ALIAS, normalize_ticker, registered_model_name

HOST = "127.0.0.1"
# `mlflow models serve`'s own default, 5000, is where `make mlflow-ui` listens
DEFAULT_PORT = 5001


def serve_model_command(
    settings: Settings,
    ticker: str,
    version: str | None = None,
    port: int = DEFAULT_PORT,
    environ: Mapping[str, str] | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The command that serves `tickercast-<ticker>` (its champion, or one version).

    Args:
        settings: where the MLflow store or tracking server is.
        ticker: the symbol; checked and upper-cased.
        version: a registered version ("3"); None serves the `champion` alias, resolved
            once when the server starts.
        port: the port on 127.0.0.1.
        environ: the environment to start from; `os.environ` when None.

    Returns:
        `(argv, env)` for `subprocess`: this environment's `mlflow models serve` with
        `--env-manager local` (the model imports the installed tickercast), and the
        environment with the tracking URI set and this environment's bin directory first
        on PATH, since `mlflow models serve` runs `uvicorn` by name.

    Raises:
        InvalidTickerError: `ticker` is not a symbol.
    """
    name = registered_model_name(normalize_ticker(ticker))
    model_uri = f"models:/{name}/{version}" if version else f"models:/{name}@{CHAMPION_ALIAS}"
    # the interpreter's own folder, not its resolved target: a virtualenv's python is a
    # symlink out of the bin directory that holds mlflow and uvicorn
    bin_dir = Path(sys.executable).parent
    argv = [
        str(bin_dir / "mlflow"),
        "models",
        "serve",
        "--model-uri",
        model_uri,
        "--env-manager",
        "local",
        "--host",
        HOST,
        "--port",
        str(port),
    ]
    base = dict(os.environ if environ is None else environ)
    path = base.get("PATH")
    env = {
        **base,
        "PATH": f"{bin_dir}{os.pathsep}{path}" if path else str(bin_dir),
        "MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri
        or Store(settings.home).local_tracking_uri,
    }
    return argv, env
