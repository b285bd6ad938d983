"""The MLflow model registry: each ticker's registered model `tickercast-<TICKER>`, its
versions, and the `champion` alias that names the one published."""

from dataclasses import dataclass

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS, ErrorCode

from tickercast.data.tickers import CHAMPION_ALIAS, registered_model_name
from tickercast.errors import TrackingUnavailableError
from tickercast.settings import Settings
from tickercast.tracking.experiment import Experiment, experiment_for, fluent_api, pages


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


def registry_for(settings: Settings) -> "Registry":
    """The registry of this process's experiment for the settings' store."""
    return Registry(experiment_for(settings))


@dataclass(frozen=True)
class Registry:
    """The registered models of one MLflow store (found through its experiment)."""

    experiment: Experiment

    def register(
        self, run_id: str, ticker: str, model_id: str, description: str, tags: dict[str, str]
    ) -> str:
        """Register a logged LSTM as a version of `tickercast-<ticker>`, with why it was
        registered (`description`) and what a reviewer filters on (`tags`).

        Returns:
            The new registered model version, as a string.
        """
        client = self.experiment.client
        # registered through the client: `registered_model_name=` prints to stderr
        name = registered_model_name(ticker)
        try:
            client.create_registered_model(name)
        except MlflowException as error:
            if error.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
                raise
        # the registry finds the LoggedModel through the fluent API's tracking store
        with fluent_api(self.experiment.uri):
            version = client.create_model_version(
                name,
                source=f"models:/{model_id}",
                run_id=run_id,
                model_id=model_id,
                description=description,
                tags=tags,
            )
        return str(version.version)

    def champion_version(self, name: str):
        """The model version behind the alias, None when there is none; any other
        MLflow failure is not taken for "no champion"."""
        try:
            return self.experiment.client.get_model_version_by_alias(name, CHAMPION_ALIAS)
        except MlflowException as error:
            if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                return None
            raise TrackingUnavailableError(
                f"MLflow could not say which {name} is the champion: {error}"
            ) from error

    def set_champion(self, ticker: str, version: str) -> None:
        """Point the `champion` alias of `tickercast-<ticker>` at `version`."""
        self.experiment.client.set_registered_model_alias(
            registered_model_name(ticker), CHAMPION_ALIAS, version
        )

    def registered_versions(self, ticker: str) -> list[RegisteredVersion]:
        """Every registered version of `tickercast-<ticker>`, oldest first (none when
        nothing was ever registered)."""
        name = registered_model_name(ticker)
        search = self.experiment.client.search_model_versions
        found = [version for page in pages(search, f"name = '{name}'") for version in page]
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

    def champion_summary(self, ticker: str) -> ChampionSummary | None:
        """The champion's version, as_of and holdout RMSE ratio, without loading it."""
        version = self.champion_version(registered_model_name(ticker))
        if version is None:
            return None
        run = self.experiment.client.get_run(version.run_id)
        return ChampionSummary(
            version=str(version.version),
            as_of=run.data.tags.get("as_of"),
            rmse_ratio=run.data.metrics.get("rmse_ratio"),
        )
