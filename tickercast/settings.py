"""One typed settings object, read from the environment once and passed down."""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = Path("~/.tickercast")


@dataclass(frozen=True)
class Settings:
    """Where state lives and which services the pipeline talks to.

    Attributes:
        home: `TICKERCAST_HOME`; holds prices, forecasts, reports and the local MLflow store.
        mlflow_tracking_uri: MLflow's own `MLFLOW_TRACKING_URI`; None means the SQLite
            store under `home`.
        experiment: MLflow experiment name (`TICKERCAST_EXPERIMENT`).
        calendar: exchange calendar code for sessions (`TICKERCAST_CALENDAR`, XNYS).
    """

    home: Path
    mlflow_tracking_uri: str | None = None
    experiment: str = "tickercast"
    calendar: str = "XNYS"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Read settings from `TICKERCAST_*` variables and MLflow's own.

        Args:
            environ: the environment to read; `os.environ` when None.

        Returns:
            The settings, with `home` made absolute.
        """
        env = os.environ if environ is None else environ
        home = Path(env.get("TICKERCAST_HOME") or DEFAULT_HOME).expanduser().resolve()
        return cls(
            home=home,
            mlflow_tracking_uri=env.get("MLFLOW_TRACKING_URI") or None,
            experiment=env.get("TICKERCAST_EXPERIMENT") or "tickercast",
            calendar=env.get("TICKERCAST_CALENDAR") or "XNYS",
        )
