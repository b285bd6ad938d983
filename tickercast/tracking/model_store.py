"""tickercast's networks in MLflow: each evening's LSTM logged as a LoggedModel, the
universe's global network, and both read back (tomorrow's warm start, the champion).

Apart from `tickercast.tracking.runs` and `.registry` because it loads Keras and
TensorFlow, which the read-only commands (`status`, `serve-model`, ...) never need.
"""

import tempfile
from datetime import date
from functools import cache
from importlib.metadata import version
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.entities import RunStatus
from mlflow.models import ModelSignature, infer_signature
from mlflow.types import ColSpec, Schema

from tickercast.data.tickers import registered_model_name
from tickercast.errors import ModelFormatError
from tickercast.evaluation.champion import Champion
from tickercast.models.global_network import GlobalNetwork, load_global, save_global
from tickercast.models.prediction import BOUND_COLUMNS
from tickercast.models.retraining import LatestNetwork, Training
from tickercast.models.saved_candidate import (
    FORMAT_VERSION,
    INPUT_COLUMNS,
    SavedCandidate,
    load_candidate,
    recent_sessions,
    save_candidate,
)
from tickercast.settings import Settings
from tickercast.tracking.experiment import Experiment, experiment_for, fluent_api
from tickercast.tracking.registry import Registry
from tickercast.tracking.runs import LATEST_SEARCHED, Runs

# Pinning the served model's requirements skips MLflow's ~6 s inference of them. The
# model also imports this project (model_code.py), which is not on PyPI: it is served
# with --env-manager local, in this environment (tickercast.tracking.serving).
MODEL_REQUIREMENTS = [
    f"{name}=={version(name)}"
    for name in ("mlflow", "tensorflow", "keras", "scikit-learn", "pandas", "exchange-calendars")
]
# What MLflow copies into every registered model and runs to load it (see the file).
MODEL_CODE = Path(__file__).with_name("model_code.py")
# The tag value that marks the universe's network among the LoggedModels.
GLOBAL_KIND = "global"


@cache
def _global_network(uri: str, model_id: str) -> GlobalNetwork:
    """A global network read once per process: every ticker of a run uses it."""
    with tempfile.TemporaryDirectory() as folder, fluent_api(uri):
        return load_global(
            Path(mlflow.artifacts.download_artifacts(f"models:/{model_id}", dst_path=folder))
        )


def model_store_for(settings: Settings) -> "ModelStore":
    """This process's model store for the settings' MLflow store and experiment."""
    return ModelStore(experiment_for(settings))


class ModelStore:
    """The networks of one experiment, on its store (and its write lock)."""

    def __init__(self, experiment: Experiment) -> None:
        self.experiment = experiment
        self.client = experiment.client
        self.runs = Runs(experiment)
        self.registry = Registry(experiment)

    def log_model(
        self,
        run_id: str,
        saved: SavedCandidate,
        recent: pd.DataFrame,
        tags: dict[str, str],
        metrics: dict[str, float],
    ) -> str:
        """Log an LSTM candidate as a LoggedModel of the run, with its holdout metrics.

        Every new LSTM is logged, published or not: the next evening warm-starts from
        the latest (`latest_network`); only a promoted or published one is registered
        (`Registry.register`). The pyfunc is `pyfunc_model`'s: code and plain data,
        nothing of ours pickled; it answers in the as_of session's price units with the
        intervals published with it, as the published forecast does.

        Args:
            run_id: the ticker's run.
            saved: the LSTM with its scalers and intervals, and the published intervals.
            recent: the latest sessions, at least a window long: the input example.
            tags: `ticker`, `as_of`, `full_as_of`, `training`: what `latest_network` reads.
            metrics: its holdout metrics, attached to the model (and to the run).

        Returns:
            The LoggedModel's id.
        """
        experiment = self.experiment
        with (
            tempfile.TemporaryDirectory() as folder,
            experiment.lock.held(),
            fluent_api(experiment.uri),
            mlflow.start_run(run_id=run_id),
        ):
            info = mlflow.pyfunc.log_model(
                name="model",
                **pyfunc_model(saved, recent, Path(folder)),
                pip_requirements=MODEL_REQUIREMENTS,
                tags=tags,
            )
        # leaving the block ended the run; it is still being worked on
        self.client.update_run(run_id, status=RunStatus.to_string(RunStatus.RUNNING))
        self.runs.log_metrics(run_id, metrics, model_id=info.model_id)
        return info.model_id

    def latest_network(self, ticker: str, before: date) -> LatestNetwork | None:
        """The ticker's most recently logged LSTM trained as of a session before
        `before` (a replay of an earlier day never starts from a later network), or
        None when there is none; one in a format this version cannot read comes
        without its network."""
        models = self.client.search_logged_models(
            [self.experiment.id],
            filter_string=f"tags.ticker = '{ticker}'",
            order_by=[{"field_name": "creation_time", "ascending": False}],
            max_results=LATEST_SEARCHED,
        )
        earlier = (
            m
            for m in models
            if "as_of" in m.tags
            and m.tags["as_of"] < before.isoformat()
            and m.tags.get("training") != Training.GLOBAL  # the universe's, not its own
        )
        model = next(earlier, None)
        if model is None:
            return None
        saved, unreadable = self._read(f"models:/{model.model_id}")
        return LatestNetwork(
            forecaster=saved and saved.lstm.forecaster,
            model_id=model.model_id,
            as_of=date.fromisoformat(model.tags["as_of"]),
            full_as_of=date.fromisoformat(model.tags.get("full_as_of", model.tags["as_of"])),
            unreadable=unreadable,
        )

    def log_global(self, run_id: str, model: GlobalNetwork, metrics: dict[str, float]) -> str:
        """Log the universe's network as a LoggedModel of the run, with its metrics.

        Returns:
            The LoggedModel's id.
        """
        tags = {"kind": GLOBAL_KIND, "as_of": model.as_of.isoformat()}
        logged = self.client.create_logged_model(
            self.experiment.id,
            name="global",
            source_run_id=run_id,
            tags={**tags, "tickers": str(len(model.tickers))},
        )
        with tempfile.TemporaryDirectory() as folder:
            self.client.log_model_artifacts(logged.model_id, str(save_global(model, Path(folder))))
        self.client.finalize_logged_model(logged.model_id, "READY")
        self.runs.log_metrics(run_id, metrics, model_id=logged.model_id)
        return logged.model_id

    def latest_global(self, as_of: date) -> tuple[GlobalNetwork | None, str | None]:
        """The latest global network trained as of `as_of` or earlier (its windows stop
        before the holdout of a run as of that day; a replay never sees a later one),
        and its LoggedModel id; (None, None) when there is none.

        Raises:
            ModelFormatError: its files are in a format this version cannot read.
        """
        models = self.client.search_logged_models(
            [self.experiment.id],
            filter_string=f"tags.kind = '{GLOBAL_KIND}'",
            order_by=[{"field_name": "creation_time", "ascending": False}],
            max_results=LATEST_SEARCHED,
        )
        earlier = (m for m in models if m.tags.get("as_of", "") <= as_of.isoformat())
        model = next(earlier, None)
        if model is None:
            return None, None
        return _global_network(self.experiment.uri, model.model_id), model.model_id

    def _read(self, uri: str) -> tuple[SavedCandidate | None, str | None]:
        """A logged LSTM's files read as data, without running the model's code in this
        process; or None and why, when its format is not one this version reads. A
        `models:/` URI is resolved by the fluent API's registry, whatever registry_uri
        download_artifacts is given: in a fresh process that is not this store."""
        with tempfile.TemporaryDirectory() as folder, fluent_api(self.experiment.uri):
            model = mlflow.artifacts.download_artifacts(uri, dst_path=folder)
            try:
                return load_candidate(Path(model) / "artifacts" / "candidate"), None
            except ModelFormatError as error:
                return None, str(error).replace(str(Path(model)), uri)

    def load_champion(self, ticker: str) -> Champion | None:
        """The current champion of a ticker, or None when none was promoted yet; one
        registered in a format this version cannot read comes without its candidate."""
        name = registered_model_name(ticker)
        version = self.registry.champion_version(name)
        if version is None:
            return None
        # the version the alias named a moment ago, even if the alias moves meanwhile
        saved, unreadable = self._read(f"models:/{name}/{version.version}")
        trained_as_of = self.client.get_run(version.run_id).data.tags.get("as_of")
        return Champion(
            candidate=saved and saved.lstm,
            version=str(version.version),
            as_of=date.fromisoformat(trained_as_of) if trained_as_of else None,
            unreadable=unreadable,
        )


def pyfunc_model(saved: SavedCandidate, recent: pd.DataFrame, folder: Path) -> dict:
    """The registered model, as `mlflow.pyfunc.log_model` (or `save_model`) arguments.

    A model from code: MLflow copies `model_code.py` into the model and runs it to
    load it, over the candidate's files; nothing of ours is pickled.

    Args:
        saved: the LSTM with its scalers and intervals, and the published intervals.
        recent: the latest sessions, at least `recent_sessions(saved)`: the input example.
        folder: an empty folder for the candidate's files, until MLflow has copied them.

    Returns:
        `python_model`, `artifacts`, `signature`, `input_example` and `metadata`.
    """
    example = recent[INPUT_COLUMNS].tail(recent_sessions(saved)).reset_index(drop=True)
    example["session"] = example["session"].dt.strftime("%Y-%m-%d")
    example["volume"] = example["volume"].astype("float64")
    # No code_paths: the model runs on the installed tickercast (served with
    # --env-manager local in this project's environment). A copy of the package in the
    # model would go first on sys.path when it loads: a server would run the copy, not
    # the installed package, and a process that had already imported tickercast would
    # mix modules of both. A registered model depends on its files' format_version and on
    # the two functions model_code.py calls, not on a frozen copy of the code.
    return {
        "python_model": str(MODEL_CODE),
        "artifacts": {"candidate": str(save_candidate(saved, folder / "candidate"))},
        # the output schema is declared: inferred, its integer horizon draws a warning
        "signature": ModelSignature(
            inputs=infer_signature(example).inputs,
            outputs=Schema(
                [
                    ColSpec("string", "as_of"),
                    ColSpec("long", "horizon"),
                    *(ColSpec("double", c) for c in ("last_close", "forecast", *BOUND_COLUMNS)),
                ]
            ),
        ),
        "input_example": example,
        "metadata": {
            "tickercast_format_version": FORMAT_VERSION,
            "interval_model": saved.interval_model,
            "price_units": "the as_of session's own: forecasts and bounds are adjusted "
            "forecasts times the last input row's close / adjusted_close, as in the "
            "published forecast file; last_close is that close",
        },
    }
