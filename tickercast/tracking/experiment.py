"""The MLflow experiment every run is tracked in, on the configured tracking server or
the local store under `TICKERCAST_HOME`: its client, its write lock, its id and its
address in the UI.

Every call names its run explicitly (`MlflowClient`), so stages may run in any thread or
process. Runs are `tickercast.tracking.runs`'s, the registry `.registry`'s, pruning
`.housekeeping`'s and the networks `.model_store`'s: each is made of an `Experiment`.
None imports model code (no TensorFlow) but `model_store`, so the read-only commands
(`status`, `serve-model`, ...) start fast.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache, cached_property
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS, ErrorCode

from tickercast.data.storage import Store
from tickercast.errors import TrackingUnavailableError
from tickercast.settings import Settings
from tickercast.tracking.redaction import redacted
from tickercast.tracking.write_lock import SerializedClient, WriteLock

# Marks the experiment as model training (an experiment without a kind opens on the
# GenAI overview in MLflow 3). MLflow 3.17's UI takes the kind from a per-browser
# switch instead, which links choose with `UI_VIEW`: every link we print carries it.
EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}
UI_VIEW = "?workflowType=machine_learning"


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


def pages(search, *args, **kwargs) -> Iterator[list]:
    """Every page of an MLflow search (`search(*args, **kwargs)`, 1,000 at a time)."""
    token = None
    while True:
        page = search(*args, **kwargs, max_results=1000, page_token=token)
        yield list(page)
        token = page.token
        if not token:
            return


def experiment_for(settings: Settings) -> "Experiment":
    """This process's experiment for the settings' store: MLflow is configured once per
    process, however many stages and tickers use it."""
    return _experiment(
        settings.home,
        settings.mlflow_tracking_uri,
        settings.experiment,
        settings.tracking_timeout,
        settings.tracking_retries,
    )


@cache
def _experiment(
    home: Path, tracking_uri: str | None, name: str, timeout: float, retries: int
) -> "Experiment":
    # MLflow reads its HTTP limits from its own variables at each request: the only
    # way to bound how long an unreachable server holds a run up.
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = str(int(timeout))
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = str(retries)
    return Experiment(home, tracking_uri, name, f"timeout {timeout:g} s, {retries} retries")


class Experiment:
    """One MLflow experiment on the configured tracking server or local store.

    Made by `experiment_for`; it talks to MLflow only when first used.

    Attributes:
        uri: the tracking (and registry) URI: the server's, or the local SQLite store's.
        local: whether the store is a database (no server in between).
        client: the MLflow client; on SQLite, every call holds `lock`.
        lock: the store's write lock (a no-op but on SQLite).
    """

    def __init__(self, home: Path, tracking_uri: str | None, name: str, limits: str) -> None:
        self.home = home
        self.uri = tracking_uri or Store(home).local_tracking_uri
        self.in_home = tracking_uri is None  # the SQLite store under TICKERCAST_HOME
        self.local = not self.uri.startswith(("http://", "https://"))
        self.name = name
        self.limits = limits
        client = mlflow.MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        sqlite = self.uri.startswith("sqlite:///")
        self.lock = WriteLock(Path(self.uri.removeprefix("sqlite:///") + ".lock"), sqlite)
        self.client = SerializedClient(client, self.lock) if sqlite else client

    @cached_property
    def id(self) -> str:
        """The experiment's id, created (as a model training experiment) if missing.

        Raises:
            TrackingUnavailableError: the tracking server did not answer.
        """
        try:
            return self._id()
        except (MlflowException, OSError) as error:
            if self.local:
                raise
            detail = str(error).replace(self.uri.rstrip("/"), redacted(self.uri).rstrip("/"))
            raise TrackingUnavailableError(
                f"MLflow tracking server {redacted(self.uri)} did not answer "
                f"({self.limits}): {detail}"
            ) from None

    def _id(self) -> str:
        if self.in_home:
            self.home.mkdir(parents=True, exist_ok=True)
        experiment = self.client.get_experiment_by_name(self.name)
        if experiment is not None:
            if EXPERIMENT_KIND.keys() - experiment.tags.keys():  # made by an older version
                for key, value in EXPERIMENT_KIND.items():
                    self.client.set_experiment_tag(experiment.experiment_id, key, value)
            return experiment.experiment_id
        artifacts = Store(self.home).local_artifact_root.as_uri() if self.in_home else None
        try:
            return self.client.create_experiment(
                self.name, artifact_location=artifacts, tags=EXPERIMENT_KIND
            )
        except MlflowException as error:  # another run created it in the meantime
            if error.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
                raise
            return self.client.get_experiment_by_name(self.name).experiment_id

    def url(self) -> str:
        """Where a reviewer opens the experiment's runs: the server's UI, or the local
        `make mlflow-ui`'s, in MLflow's model training view."""
        base = "http://127.0.0.1:5000" if self.local else redacted(self.uri).rstrip("/")
        return f"{base}/#/experiments/{self.id}{UI_VIEW}"
