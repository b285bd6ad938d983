"""The one module that talks to MLflow: runs, metrics, plots, models, the registry.

Every call names its run explicitly (`MlflowClient`), so stages may run in any
thread or process; only model logging goes through MLflow's fluent API, which needs
an active run.
"""

import time
from datetime import date
from importlib.metadata import version
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import mlflow
import numpy as np
from matplotlib.figure import Figure
from mlflow.entities import Metric, Param, RunStatus
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS, ErrorCode

from tickercast.settings import Settings
from tickercast.storage import Store
from tickercast.tickers import registered_model_name

# Pinning the served model's requirements skips MLflow's ~6 s inference of them.
_MODEL_REQUIREMENTS = [f"{name}=={version(name)}" for name in ("mlflow", "tensorflow", "keras")]


class Tracker:
    """MLflow experiment `settings.experiment` on the configured tracking server or store."""

    def __init__(self, settings: Settings) -> None:
        store = Store(settings.home)
        self.local = settings.mlflow_tracking_uri is None
        self.uri = settings.mlflow_tracking_uri or store.local_tracking_uri
        if self.local:
            settings.home.mkdir(parents=True, exist_ok=True)
        self.client = mlflow.MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        self.experiment_id = self._experiment_id(
            settings.experiment, store.local_artifact_root.as_uri() if self.local else None
        )

    def _experiment_id(self, name: str, artifact_location: str | None) -> str:
        experiment = self.client.get_experiment_by_name(name)
        if experiment is not None:
            return experiment.experiment_id
        try:
            return self.client.create_experiment(name, artifact_location=artifact_location)
        except MlflowException as error:  # another run created it in the meantime
            if error.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
                raise
            return self.client.get_experiment_by_name(name).experiment_id

    def start_run(
        self, ticker: str, as_of: date, tags: dict[str, str], params: dict[str, object]
    ) -> str:
        """Open the run of one ticker in one flow run, named like `AAPL 2022-12-30`.

        Returns:
            The MLflow run id.
        """
        run = self.client.create_run(
            self.experiment_id,
            run_name=f"{ticker} {as_of.isoformat()}",
            tags={"ticker": ticker, "as_of": as_of.isoformat(), **tags},
        )
        run_id = run.info.run_id
        self.client.log_batch(run_id, params=[Param(k, str(v)) for k, v in params.items()])
        return run_id

    def log_metrics(self, run_id: str, metrics: dict[str, float], step: int = 0) -> None:
        """Log metrics at one step (NaN values are skipped: MLflow cannot chart them)."""
        stamp = int(time.time() * 1000)
        batch = [
            Metric(key, float(value), stamp, step)
            for key, value in metrics.items()
            if np.isfinite(value)
        ]
        self.client.log_batch(run_id, metrics=batch)

    def log_history(self, run_id: str, history: dict[str, list[float]]) -> None:
        """Log per-epoch series (`loss`, `val_loss`) with the epoch as the step."""
        for epoch, values in enumerate(zip(*history.values(), strict=True), start=1):
            self.log_metrics(run_id, dict(zip(history, values, strict=True)), step=epoch)

    def log_figure(self, run_id: str, figure: Figure, artifact_file: str) -> None:
        """Save a figure into the run's artifacts and release it."""
        try:
            self.client.log_figure(run_id, figure, artifact_file)
        finally:
            plt.close(figure)

    def log_file(self, run_id: str, path: Path, artifact_dir: str) -> None:
        """Copy a local file into the run's artifacts under `artifact_dir`."""
        self.client.log_artifact(run_id, str(path), artifact_dir)

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        """Set run tags (`mlflow.note.content` is the run's description in the UI)."""
        for key, value in tags.items():
            self.client.set_tag(run_id, key, value)

    def log_model(self, run_id: str, ticker: str, network: keras.Model, example: np.ndarray) -> str:
        """Log the network with its signature and register it as `tickercast-<ticker>`.

        Args:
            run_id: the ticker's run.
            ticker: the symbol; names the registered model.
            network: the fitted Keras model.
            example: (n, window, 1) inputs, to infer the signature from.

        Returns:
            The new registered model version, as a string.
        """
        signature = infer_signature(example, network.predict(example, verbose=0))
        mlflow.set_tracking_uri(self.uri)
        mlflow.set_registry_uri(self.uri)
        with mlflow.start_run(run_id=run_id):
            info = mlflow.tensorflow.log_model(
                network,
                name="model",
                signature=signature,
                registered_model_name=registered_model_name(ticker),
                pip_requirements=_MODEL_REQUIREMENTS,
            )
        return str(info.registered_model_version)

    def end_run(self, run_id: str, succeeded: bool) -> None:
        """Close the run as FINISHED or FAILED."""
        status = RunStatus.FINISHED if succeeded else RunStatus.FAILED
        self.client.set_terminated(run_id, RunStatus.to_string(status))

    def run_url(self, run_id: str) -> str:
        """Where a reviewer opens the run: the server's page, or the local `mlflow ui`'s."""
        base = "http://127.0.0.1:5000" if self.local else self.uri.rstrip("/")
        return f"{base}/#/experiments/{self.experiment_id}/runs/{run_id}"
