"""MLflow runs: opening a ticker's run (or a flow run's parent), writing what each stage
records to it (parameters, tags, metrics, history, figures, tables, the training data),
closing it, and finding a ticker's latest daily run."""

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pandas as pd
from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunStatus

from tickercast.settings import Settings
from tickercast.tracking.experiment import UI_VIEW, Experiment, experiment_for

if TYPE_CHECKING:
    from matplotlib.figure import Figure

T = TypeVar("T")

# The tag that tells a daily run's ticker run from a backtest's (`Runs.start_run`).
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


@dataclass(frozen=True)
class LatestRun:
    """A ticker's most recent MLflow run, as `tickercast status` shows it."""

    run_id: str
    name: str
    status: str
    published_model: str | None
    published_rmse_ratio: float | None


def _run_kind(run) -> str:
    """A ticker run's kind; runs made before the tag are told by their name."""
    if RUN_KIND in run.data.tags:
        return run.data.tags[RUN_KIND]
    return BACKTEST if f" {BACKTEST} " in run.info.run_name else DAILY


def runs_for(settings: Settings) -> "Runs":
    """The runs of this process's experiment for the settings' store."""
    return Runs(experiment_for(settings))


@dataclass(frozen=True)
class Runs:
    """The runs of one experiment."""

    experiment: Experiment

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
        run = self.experiment.client.create_run(
            self.experiment.id,
            run_name=" ".join(filter(None, (ticker, shown, as_of.isoformat()))),
            tags={"ticker": ticker, "as_of": as_of.isoformat(), RUN_KIND: kind, **parent},
        )
        self.record(run.info.run_id, record)
        return run.info.run_id

    def record(self, run_id: str, record: Record) -> None:
        """Write a stage's record to a run: params, tags, metrics, history, figures,
        tables, data."""
        client = self.experiment.client
        params = [Param(key, str(value)) for key, value in record.params.items()]
        if params:
            client.log_batch(run_id, params=params)
        self.set_tags(run_id, record.tags)
        if record.metrics:
            self.log_metrics(run_id, record.metrics)
        self.log_history(run_id, record.history)
        for path, figure in record.figures.items():
            client.log_figure(run_id, figure, path)
        for path, table in record.tables.items():
            client.log_table(run_id, data=table, artifact_file=path)
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
        self.experiment.client.log_inputs(run_id, datasets=[DatasetInput(dataset, tags=[context])])

    def start_parent_run(self, name: str, tags: dict[str, str]) -> str:
        """Open the run that groups one flow run's ticker runs.

        Returns:
            The MLflow run id.
        """
        run = self.experiment.client.create_run(self.experiment.id, run_name=name, tags=tags)
        return run.info.run_id

    def rename_run(self, run_id: str, name: str) -> None:
        """Give a run its final name (a flow run's parent, once its sessions are known)."""
        self.experiment.client.update_run(run_id, name=name)

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
            self.experiment.client.log_batch(run_id, metrics=batch[first : first + 1000])

    def log_history(self, run_id: str, history: dict[str, list[float]]) -> None:
        """Log per-epoch series (`loss`, `val_loss`) with the epoch as the step."""
        for epoch, values in enumerate(zip(*history.values(), strict=True), start=1):
            self.log_metrics(run_id, dict(zip(history, values, strict=True)), step=epoch)

    def log_file(self, run_id: str, path: Path | str, artifact_dir: str) -> None:
        """Copy a local file into the run's artifacts under `artifact_dir`."""
        self.experiment.client.log_artifact(run_id, str(path), artifact_dir)

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        """Set run tags (`mlflow.note.content` is the run's description in the UI)."""
        for key, value in tags.items():
            self.experiment.client.set_tag(run_id, key, value)

    def end_run(self, run_id: str, succeeded: bool) -> None:
        """Close the run as FINISHED or FAILED."""
        status = RunStatus.FINISHED if succeeded else RunStatus.FAILED
        self.experiment.client.set_terminated(run_id, RunStatus.to_string(status))

    def latest_run(self, ticker: str) -> LatestRun | None:
        """The ticker's most recent daily run (not a backtest's), or None when it has none."""
        client, experiments = self.experiment.client, [self.experiment.id]
        newest_first = ["attributes.start_time DESC"]
        ticker_runs = f"tags.ticker = '{ticker}'"
        # one run read, all its metrics with it; a tagged run is newer than any untagged
        tagged = f"{ticker_runs} and tags.{RUN_KIND} = '{DAILY}'"
        runs = client.search_runs(experiments, tagged, order_by=newest_first, max_results=1)
        if not runs:  # a home whose runs all predate the tag: told apart by their names
            runs = client.search_runs(
                experiments, ticker_runs, order_by=newest_first, max_results=LATEST_SEARCHED
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
            return read(Path(self.experiment.client.download_artifacts(run_id, str(path), folder)))

    def run_url(self, run_id: str) -> str:
        """Where a reviewer opens the run, in MLflow's model training view."""
        return self.experiment.url().replace(UI_VIEW, f"/runs/{run_id}{UI_VIEW}")
