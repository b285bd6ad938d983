"""Serve a ticker's registered model over HTTP with `mlflow models serve`, on 127.0.0.1.

The server answers `POST /invocations` (`{"dataframe_split": ...}` of at least
`window + 1` recent sessions, 23 for log-HAR intervals, as the model's input example
shows) with the next H sessions' forecasts and intervals in the as_of session's price
units: for the day it was registered, the numbers of the forecast file published that
day, its intervals included (the interval gate's, saved with it:
`tickercast.models.saved_candidate`).

    served = served_version(registry_for(settings), Store(settings.home), "AAPL", None)
    argv, env = serve_model_command(settings, "AAPL", served.version)
    subprocess.run(argv, env=env)

Most tickers publish naive on most evenings, and nothing is registered until an LSTM
is published: `served_version` says so, and what was published instead.
"""

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from tickercast.data.storage import Store
from tickercast.data.tickers import CHAMPION_ALIAS, normalize_ticker, registered_model_name
from tickercast.errors import InputError
from tickercast.settings import Settings

if TYPE_CHECKING:  # MLflow loads in a second: the CLI imports this module for its port
    from tickercast.tracking.registry import RegisteredVersion, Registry

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


class NothingToServeError(InputError):
    """No registered version to serve: none was ever registered, or none is champion."""


class UnknownVersionError(InputError):
    """A version asked for that the ticker's registered model does not have."""


def served_version(
    registry: "Registry", store: Store, ticker: str, version: str | None
) -> "RegisteredVersion":
    """The registered version `serve-model` serves: the one asked for, or the champion.

    Args:
        registry: the MLflow registry the versions are registered in.
        store: the home, whose latest forecast says what was published instead.
        ticker: the symbol (validated).
        version: a version number, or None for the champion.

    Returns:
        The version.

    Raises:
        NothingToServeError: nothing is registered (it says why: what was published
            instead, and where to read it), or no version is champion.
        UnknownVersionError: `version` is not one of the registered versions (it lists them).
    """
    versions = registry.registered_versions(ticker)
    if not versions:
        raise NothingToServeError(_nothing_registered(store, ticker))
    listed = ", ".join(f"v{v.version}" + (" (champion)" if v.champion else "") for v in versions)
    if version is not None:
        chosen = next((v for v in versions if v.version == str(version).lstrip("v")), None)
        if chosen is None:
            raise UnknownVersionError(
                f"{ticker}: {registered_model_name(ticker)} has no version {version}; it has "
                f"{listed}"
            )
        return chosen
    champion = next((v for v in versions if v.champion), None)
    if champion is None:
        raise NothingToServeError(
            f"{ticker}: no version is champion (registered: {listed}); serve one with --version N"
        )
    return champion


def _nothing_registered(store: Store, ticker: str) -> str:
    """Why nothing is registered for the ticker, from what it published instead."""
    name = registered_model_name(ticker)
    try:
        latest = store.read_latest_forecast(ticker)[0]
    except InputError:
        return (
            f"{ticker}: nothing to serve: {name} is not registered, and no forecast has been "
            f"published for {ticker} yet (`tickercast run --tickers {ticker}`)"
        )
    return (
        f"{ticker}: nothing to serve: {name} is not registered. A model is registered on the "
        f"evening it is published, and the LSTM has not been: as of {latest['as_of']} "
        f"{latest['model']} was published, because {latest['reason']}. Read that forecast "
        f"with `tickercast forecast {ticker}`"
    )
