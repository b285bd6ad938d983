"""The one module that talks to MLflow about runs: their parameters, tags, metrics,
tables and files, the registry's versions and the `champion` alias, and pruning.

Every call names its run explicitly (`MlflowClient`), so stages may run in any
thread or process. It imports no model code (no TensorFlow): `tickercast status`, `serve-model`
and the other read-only commands use it and start fast. Logging and loading networks
is `tickercast.tracking.model_store`'s.
"""

import fcntl
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit, urlunsplit

import mlflow
import numpy as np
import pandas as pd
from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunStatus
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS, ErrorCode

from tickercast.data.storage import Store
from tickercast.data.tickers import CHAMPION_ALIAS, registered_model_name
from tickercast.errors import TrackingUnavailableError
from tickercast.settings import Settings

if TYPE_CHECKING:
    from matplotlib.figure import Figure

T = TypeVar("T")

# Marks the experiment as model training (an experiment without a kind opens on the
# GenAI overview in MLflow 3). MLflow 3.17's UI takes the kind from a per-browser
# switch instead, which links choose with `UI_VIEW`: every link we print carries it.
EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}
UI_VIEW = "?workflowType=machine_learning"
# The tag that tells a daily run's ticker run from a backtest's (`Tracker.start_run`).
RUN_KIND = "run_kind"
DAILY, BACKTEST = "daily", "backtest"
# Runs or LoggedModels searched for a ticker's latest: a replay of an earlier day, or a
# few backtests, never outnumber them.
LATEST_SEARCHED = 50


@dataclass(frozen=True)
class TrainingData:
    """The stored prices a run trained on, as MLflow shows a run's dataset.

    Attributes:
        name: `<TICKER> prices`.
        path: the ticker's Parquet partition.
        data_sha256: hash of the sessions and closes used.
        sessions: how many sessions, from `first_session` to `last_session`.
    """

    name: str
    path: Path
    data_sha256: str
    sessions: int
    first_session: str
    last_session: str


@dataclass(frozen=True)
class Record:
    """What one stage logs to a run; empty parts are skipped (`tickercast.tracking.run_record`
    makes them)."""

    params: dict[str, object] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    # artifact path (under the run) -> figure
    figures: "dict[str, Figure]" = field(default_factory=dict)
    # artifact path (under the run, `.json`) -> a table a reviewer opens in the UI
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    # per-epoch series (`loss`, `val_loss`), logged with the epoch as the step
    history: dict[str, list[float]] = field(default_factory=dict)
    training_data: TrainingData | None = None


def without_credentials(text: str) -> str:
    """A message with the user and password of every URL in it hidden: MLflow's errors
    quote the tracking URI as given, and outcomes end in reports and artifacts."""
    return re.sub(r"\b([a-z][a-z0-9+.-]*://)[^/\s@]+@", r"\1***@", text)


def redacted(uri: str) -> str:
    """A URI without its user and password, fit to print or log."""
    parts = urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=f"***@{host}"))


@contextmanager
def fluent_api(uri: str) -> Iterator[None]:
    """Point MLflow's fluent API at `uri` for a block; MLflow's own setters also export
    MLFLOW_TRACKING_URI to the environment, which this block puts back as it was."""
    saved = {name: os.environ.get(name) for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _run_kind(run) -> str:
    """A ticker run's kind; runs made before the tag are told by their name."""
    if RUN_KIND in run.data.tags:
        return run.data.tags[RUN_KIND]
    return BACKTEST if f" {BACKTEST} " in run.info.run_name else DAILY


@dataclass(frozen=True)
class LatestRun:
    """A ticker's most recent MLflow run, as `tickercast status` shows it."""

    run_id: str
    name: str
    status: str
    published_model: str | None
    published_rmse_ratio: float | None


@dataclass(frozen=True)
class Pruned:
    """What `Tracker.prune` deleted and kept."""

    runs: int
    models: int
    kept_runs: int
    kept_models: int
    permanent: bool  # removed for good (the local store), or only marked deleted

    def summary(self) -> str:
        """One line for the console."""
        how = (
            "deleted"
            if self.permanent
            else "marked deleted (the server's `mlflow gc` removes them)"
        )
        return (
            f"{self.runs} runs and {self.models} LoggedModels {how}; kept "
            f"{self.kept_runs} runs and {self.kept_models} LoggedModels of registered "
            "versions and of each ticker's latest network"
        )


def _collect_garbage(uri: str, runs: list[str], models: list[str]) -> None:
    """Remove deleted runs and LoggedModels from a local store for good, with their
    artifacts (`mlflow gc`, in chunks that fit a command line)."""
    chunk = 2000
    for first in range(0, max(len(runs), len(models)), chunk):
        ids = {"--run-ids": runs[first : first + chunk]}
        ids["--logged-model-ids"] = models[first : first + chunk]
        arguments = [f"{flag}={','.join(values)}" for flag, values in ids.items() if values]
        command = ["mlflow", "gc", "--backend-store-uri", uri, "--tracking-uri", uri]
        done = subprocess.run(
            [sys.executable, "-m", *command, *arguments], capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"`{' '.join(command)}` failed: {done.stderr.strip()[-2000:]}")


@dataclass(frozen=True)
class ChampionSummary:
    """The registered champion of a ticker, without its network."""

    version: str
    as_of: str | None
    rmse_ratio: float | None


@dataclass(frozen=True)
class RegisteredVersion:
    """One registered version of a ticker's model, as `serve-model` lists them.

    Attributes:
        version: its number, as a string.
        run_id: the ticker run that registered it.
        champion: whether the `champion` alias points at it.
        tags: its registry tags (`as_of`, `interval_model`, `data_sha256`, ...).
    """

    version: str
    run_id: str
    champion: bool
    tags: dict[str, str]


class _WriteLock:
    """One MLflow call at a time on a local SQLite store, across processes (Dask
    workers) and threads; reentrant within a thread. SQLite fails a writer with
    "database is locked" when another holds the database past the busy timeout, or at
    once when a transaction that read must upgrade to a write while another writes:
    serialised calls meet neither. A no-op for a tracking server, which serialises
    its own writes."""

    def __init__(self, path: Path, enabled: bool) -> None:
        self.path = path
        self.enabled = enabled
        self._thread = threading.RLock()
        self._depth = 0
        self._handle = None

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock for a block."""
        if not self.enabled:
            yield
            return
        with self._thread:
            if self._depth == 0:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._handle = self.path.open("a")
                fcntl.flock(self._handle, fcntl.LOCK_EX)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    fcntl.flock(self._handle, fcntl.LOCK_UN)
                    self._handle.close()


class _Serialized:
    """An MlflowClient whose every call holds a `_WriteLock`."""

    def __init__(self, client: mlflow.MlflowClient, lock: _WriteLock) -> None:
        self._client = client
        self._lock = lock

    def __getattr__(self, name: str):
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def locked(*args, **kwargs):
            with self._lock.held():
                return attribute(*args, **kwargs)

        return locked


def tracker_for(settings: Settings) -> "Tracker":
    """This process's tracker for the settings' store and experiment: MLflow is
    configured once per process, however many stages and tickers use it."""
    return _tracker(
        settings.home,
        settings.mlflow_tracking_uri,
        settings.experiment,
        settings.tracking_timeout,
        settings.tracking_retries,
    )


@cache
def _tracker(
    home: Path, tracking_uri: str | None, experiment: str, timeout: float, retries: int
) -> "Tracker":
    # MLflow reads its HTTP limits from its own variables at each request: the only
    # way to bound how long an unreachable server holds a run up.
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = str(int(timeout))
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = str(retries)
    return Tracker(home, tracking_uri, experiment, f"timeout {timeout:g} s, {retries} retries")


class Tracker:
    """One MLflow experiment on the configured tracking server or local store.

    Made by `tracker_for`; it talks to MLflow only when first used.
    """

    def __init__(self, home: Path, tracking_uri: str | None, experiment: str, limits: str) -> None:
        self.home = home
        self.uri = tracking_uri or Store(home).local_tracking_uri
        self.in_home = tracking_uri is None  # the SQLite store under TICKERCAST_HOME
        self.local = not self.uri.startswith(("http://", "https://"))
        self.experiment = experiment
        self.limits = limits
        client = mlflow.MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        sqlite = self.uri.startswith("sqlite:///")
        self.lock = _WriteLock(Path(self.uri.removeprefix("sqlite:///") + ".lock"), sqlite)
        self.client = _Serialized(client, self.lock) if sqlite else client

    @cached_property
    def experiment_id(self) -> str:
        """The experiment's id, created (as a model training experiment) if missing.

        Raises:
            TrackingUnavailableError: the tracking server did not answer.
        """
        try:
            return self._experiment_id()
        except (MlflowException, OSError) as error:
            if self.local:
                raise
            detail = str(error).replace(self.uri.rstrip("/"), redacted(self.uri).rstrip("/"))
            raise TrackingUnavailableError(
                f"MLflow tracking server {redacted(self.uri)} did not answer "
                f"({self.limits}): {detail}"
            ) from None

    def _experiment_id(self) -> str:
        if self.in_home:
            self.home.mkdir(parents=True, exist_ok=True)
        experiment = self.client.get_experiment_by_name(self.experiment)
        if experiment is not None:
            if EXPERIMENT_KIND.keys() - experiment.tags.keys():  # made by an older version
                for key, value in EXPERIMENT_KIND.items():
                    self.client.set_experiment_tag(experiment.experiment_id, key, value)
            return experiment.experiment_id
        artifacts = Store(self.home).local_artifact_root.as_uri() if self.in_home else None
        try:
            return self.client.create_experiment(
                self.experiment, artifact_location=artifacts, tags=EXPERIMENT_KIND
            )
        except MlflowException as error:  # another run created it in the meantime
            if error.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
                raise
            return self.client.get_experiment_by_name(self.experiment).experiment_id

    def start_run(
        self,
        ticker: str,
        as_of: date,
        record: Record,
        kind: str = DAILY,
        parent_run_id: str | None = None,
    ) -> str:
        """Open the run of one ticker in one flow run, named like `AAPL 2022-12-30`
        (or `AAPL backtest 2022-12-30` for `kind=BACKTEST`), under the flow run's
        parent run when there is one, and write `record` to it.

        Returns:
            The MLflow run id.
        """
        parent = {"mlflow.parentRunId": parent_run_id} if parent_run_id else {}
        shown = kind if kind != DAILY else ""
        run = self.client.create_run(
            self.experiment_id,
            run_name=" ".join(filter(None, (ticker, shown, as_of.isoformat()))),
            tags={"ticker": ticker, "as_of": as_of.isoformat(), RUN_KIND: kind, **parent},
        )
        self.record(run.info.run_id, record)
        return run.info.run_id

    def record(self, run_id: str, record: Record) -> None:
        """Write a stage's record to a run: params, tags, metrics, history, figures,
        tables, data."""
        params = [Param(key, str(value)) for key, value in record.params.items()]
        if params:
            self.client.log_batch(run_id, params=params)
        self.set_tags(run_id, record.tags)
        if record.metrics:
            self.log_metrics(run_id, record.metrics)
        self.log_history(run_id, record.history)
        for path, figure in record.figures.items():
            self.client.log_figure(run_id, figure, path)
        for path, table in record.tables.items():
            self.client.log_table(run_id, data=table, artifact_file=path)
        if record.training_data is not None:
            self.log_training_data(run_id, record.training_data)

    def log_training_data(self, run_id: str, data: TrainingData) -> None:
        """Show the run's training data in MLflow's Datasets panel: its Parquet
        partition, digested by its data hash (MLflow keeps 36 characters of it)."""
        dataset = Dataset(
            name=data.name,
            digest=data.data_sha256[:36],
            source_type="local",
            source=json.dumps({"uri": data.path.as_uri()}),
            profile=json.dumps(
                {
                    "data_sha256": data.data_sha256,
                    "sessions": data.sessions,
                    "first_session": data.first_session,
                    "last_session": data.last_session,
                }
            ),
        )
        context = InputTag(key="mlflow.data.context", value="training")
        self.client.log_inputs(run_id, datasets=[DatasetInput(dataset, tags=[context])])

    def start_parent_run(self, name: str, tags: dict[str, str]) -> str:
        """Open the run that groups one flow run's ticker runs.

        Returns:
            The MLflow run id.
        """
        return self.client.create_run(self.experiment_id, run_name=name, tags=tags).info.run_id

    def rename_run(self, run_id: str, name: str) -> None:
        """Give a run its final name (a flow run's parent, once its sessions are known)."""
        self.client.update_run(run_id, name=name)

    def log_metrics(
        self, run_id: str, metrics: dict[str, float], step: int = 0, model_id: str | None = None
    ) -> None:
        """Log metrics at one step, to the run and to its LoggedModel `model_id` if given
        (NaN values are skipped: MLflow cannot chart them)."""
        stamp = int(time.time() * 1000)
        batch = [
            Metric(key, float(value), stamp, step, model_id=model_id)
            for key, value in metrics.items()
            if np.isfinite(value)
        ]
        # MLflow refuses a batch of more than 1,000 metrics
        for first in range(0, len(batch), 1000):
            self.client.log_batch(run_id, metrics=batch[first : first + 1000])

    def log_history(self, run_id: str, history: dict[str, list[float]]) -> None:
        """Log per-epoch series (`loss`, `val_loss`) with the epoch as the step."""
        for epoch, values in enumerate(zip(*history.values(), strict=True), start=1):
            self.log_metrics(run_id, dict(zip(history, values, strict=True)), step=epoch)

    def log_file(self, run_id: str, path: Path | str, artifact_dir: str) -> None:
        """Copy a local file into the run's artifacts under `artifact_dir`."""
        self.client.log_artifact(run_id, str(path), artifact_dir)

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        """Set run tags (`mlflow.note.content` is the run's description in the UI)."""
        for key, value in tags.items():
            self.client.set_tag(run_id, key, value)

    def prune(self, before: datetime) -> Pruned:
        """Delete the runs and LoggedModels created before `before`, except those of
        registered versions (the champions and what they replaced) and each ticker's
        latest LoggedModel (tomorrow's warm start); on the local store, for good
        (`mlflow gc`), elsewhere into MLflow's deleted stage for the server's own gc.

        Returns:
            What was deleted and kept.
        """
        cutoff = int(before.timestamp() * 1000)
        registered = [
            version
            for page in self._pages(self.client.search_model_versions, "name LIKE 'tickercast-%'")
            for version in page
        ]
        # a version's source is its LoggedModel's URI (MLflow's SQL registry leaves
        # the version's own model_id empty)
        kept_models = {v.source.removeprefix("models:/") for v in registered} | {
            model.model_id for model in self._latest_per_ticker()
        }
        kept_runs = {v.run_id for v in registered}
        old_models = [
            model.model_id
            for page in self._pages(
                self.client.search_logged_models,
                [self.experiment_id],
                filter_string=f"creation_time < {cutoff}",
            )
            for model in page
            if model.model_id not in kept_models
        ]
        kept_runs |= {m.source_run_id for m in map(self.client.get_logged_model, kept_models) if m}
        old_runs = [
            run.info.run_id
            for page in self._pages(
                self.client.search_runs,
                [self.experiment_id],
                filter_string=f"attributes.start_time < {cutoff}",
            )
            for run in page
            if run.info.run_id not in kept_runs
        ]
        for model_id in old_models:
            self.client.delete_logged_model(model_id)
        for run_id in old_runs:
            self.client.delete_run(run_id)
        if self.local and (old_models or old_runs):
            with self.lock.held():
                _collect_garbage(self.uri, old_runs, old_models)
        return Pruned(len(old_runs), len(old_models), len(kept_runs), len(kept_models), self.local)

    def _latest_per_ticker(self) -> list:
        """Each ticker's most recent LoggedModel."""
        latest = {}
        for page in self._pages(
            self.client.search_logged_models,
            [self.experiment_id],
            order_by=[{"field_name": "creation_time", "ascending": False}],
        ):
            for model in page:
                latest.setdefault(model.tags.get("ticker"), model)
        return list(latest.values())

    @staticmethod
    def _pages(search, *args, **kwargs) -> Iterator[list]:
        """Every page of an MLflow search."""
        token = None
        while True:
            page = search(*args, **kwargs, max_results=1000, page_token=token)
            yield list(page)
            token = page.token
            if not token:
                return

    def champion_version(self, name: str):
        """The model version behind the alias, None when there is none; any other
        MLflow failure is not taken for "no champion"."""
        try:
            return self.client.get_model_version_by_alias(name, CHAMPION_ALIAS)
        except MlflowException as error:
            if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                return None
            raise TrackingUnavailableError(
                f"MLflow could not say which {name} is the champion: {error}"
            ) from error

    def set_champion(self, ticker: str, version: str) -> None:
        """Point the `champion` alias of `tickercast-<ticker>` at `version`."""
        self.client.set_registered_model_alias(
            registered_model_name(ticker), CHAMPION_ALIAS, version
        )

    def latest_run(self, ticker: str) -> "LatestRun | None":
        """The ticker's most recent daily run (not a backtest's), or None when it has none."""
        newest_first = ["attributes.start_time DESC"]
        ticker_runs = f"tags.ticker = '{ticker}'"
        # one run read, all its metrics with it; a tagged run is newer than any untagged
        tagged = f"{ticker_runs} and tags.{RUN_KIND} = '{DAILY}'"
        runs = self.client.search_runs(
            [self.experiment_id], tagged, order_by=newest_first, max_results=1
        )
        if not runs:  # a home whose runs all predate the tag: told apart by their names
            runs = self.client.search_runs(
                [self.experiment_id],
                ticker_runs,
                order_by=newest_first,
                max_results=LATEST_SEARCHED,
            )
        run = next((run for run in runs if _run_kind(run) == DAILY), None)
        if run is None:
            return None
        return LatestRun(
            run_id=run.info.run_id,
            name=run.info.run_name,
            status=run.info.status,
            published_model=run.data.tags.get("published_model"),
            published_rmse_ratio=run.data.metrics.get("published_rmse_ratio"),
        )

    def read_artifact(self, run_id: str, path: Path | str, read: Callable[[Path], T]) -> T:
        """`read(local copy)` of one of the run's artifacts (the copy is removed after)."""
        with tempfile.TemporaryDirectory() as folder:
            return read(Path(self.client.download_artifacts(run_id, str(path), folder)))

    def register(
        self, run_id: str, ticker: str, model_id: str, description: str, tags: dict[str, str]
    ) -> str:
        """Register a logged LSTM as a version of `tickercast-<ticker>`, with why it was
        registered (`description`) and what a reviewer filters on (`tags`).

        Returns:
            The new registered model version, as a string.
        """
        # registered through the client: `registered_model_name=` prints to stderr
        name = registered_model_name(ticker)
        try:
            self.client.create_registered_model(name)
        except MlflowException as error:
            if error.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
                raise
        # the registry finds the LoggedModel through the fluent API's tracking store
        with fluent_api(self.uri):
            version = self.client.create_model_version(
                name,
                source=f"models:/{model_id}",
                run_id=run_id,
                model_id=model_id,
                description=description,
                tags=tags,
            )
        return str(version.version)

    def registered_versions(self, ticker: str) -> list["RegisteredVersion"]:
        """Every registered version of `tickercast-<ticker>`, oldest first (none when
        nothing was ever registered)."""
        name = registered_model_name(ticker)
        found = [
            version
            for page in self._pages(self.client.search_model_versions, f"name = '{name}'")
            for version in page
        ]
        # a search's versions come without their aliases
        champion = self.champion_version(name) if found else None
        return sorted(
            (
                RegisteredVersion(
                    version=str(v.version),
                    run_id=v.run_id,
                    champion=champion is not None and str(champion.version) == str(v.version),
                    tags=dict(v.tags or {}),
                )
                for v in found
            ),
            key=lambda v: int(v.version),
        )

    def champion_summary(self, ticker: str) -> "ChampionSummary | None":
        """The champion's version, as_of and holdout RMSE ratio, without loading it."""
        version = self.champion_version(registered_model_name(ticker))
        if version is None:
            return None
        run = self.client.get_run(version.run_id)
        return ChampionSummary(
            version=str(version.version),
            as_of=run.data.tags.get("as_of"),
            rmse_ratio=run.data.metrics.get("rmse_ratio"),
        )

    def end_run(self, run_id: str, succeeded: bool) -> None:
        """Close the run as FINISHED or FAILED."""
        status = RunStatus.FINISHED if succeeded else RunStatus.FAILED
        self.client.set_terminated(run_id, RunStatus.to_string(status))

    def experiment_url(self) -> str:
        """Where a reviewer opens the experiment's runs: the server's UI, or the local
        `make mlflow-ui`'s, in MLflow's model training view."""
        base = "http://127.0.0.1:5000" if self.local else redacted(self.uri).rstrip("/")
        return f"{base}/#/experiments/{self.experiment_id}{UI_VIEW}"

    def run_url(self, run_id: str) -> str:
        """Where a reviewer opens the run, in MLflow's model training view."""
        return self.experiment_url().replace(UI_VIEW, f"/runs/{run_id}{UI_VIEW}")
