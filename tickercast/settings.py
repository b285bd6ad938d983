"""One typed settings object, read from the environment once and passed down."""

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tickercast.data.calendar import calendar_for
from tickercast.data.time_limits import TimeLimits
from tickercast.errors import InputError
from tickercast.models.retraining import RetrainPolicy

DEFAULT_HOME = Path("~/.tickercast")
# Measured in benchmarks/retrain_policy.py on 16 development members (seed 7, March
# 2019): reusing a network for a week or a month saves 75-90 % of the fit seconds, but
# neither could be shown to lose less than 1 % against daily full retrains (weekly+reuse
# was worse beyond noise; monthly+reuse's bootstrap interval reached +1.05 % of daily's
# interval score at 95 %), and on a held-out sample monthly+reuse was worse in the mean.
# So the default buys accuracy with fit time; a universe's cheap evening is
# `--model global` (or `monthly+reuse`, knowing what it costs: docs/results.md).
DEFAULT_RETRAIN = "daily"


@dataclass(frozen=True)
class Settings:
    """Where state lives and which services the pipeline talks to.

    Attributes:
        home: `TICKERCAST_HOME`; holds prices, forecasts, reports and the local MLflow store.
        mlflow_tracking_uri: MLflow's own `MLFLOW_TRACKING_URI`; None means the SQLite
            store under `home`.
        experiment: MLflow experiment name (`TICKERCAST_EXPERIMENT`).
        calendar: exchange calendar of tickers without a known listing suffix
            (`TICKERCAST_CALENDAR`, XNYS: US stocks and indexes).
        calendars: calendars per ticker (`TICKERCAST_CALENDARS="7203.T=XTKS,SAP.DE=XFRA"`);
            symbols with a Yahoo suffix (`.T`, `.DE`, `.L`, ...) need none.
        gate_margin: improvement over naive (and over the champion), as a fraction of
            the naive RMSE, that a new model needs to be published and promoted
            (`TICKERCAST_GATE_MARGIN`, 0.01).
        gate_significance: the Diebold-Mariano p-value under which a win over naive
            counts (`TICKERCAST_GATE_SIGNIFICANCE`, 0.1).
        interval_significance: the Diebold-Mariano p-value under which a challenger's
            interval score beats the incumbent's (`TICKERCAST_INTERVAL_SIGNIFICANCE`,
            0.01; the margin is `gate_margin`): on development data a strict interval
            gate published sharper intervals than one switching at 0.1
            (benchmarks/interval_gate_dev.py).
        shadow_forecasts: scored live forecasts one session ahead that the LSTM's
            shadow record needs before a holdout win is published
            (`TICKERCAST_SHADOW_FORECASTS`, 60, about a quarter; 0: the holdout alone).
        tracking_timeout: seconds an MLflow HTTP request may take (MLflow's own
            `MLFLOW_HTTP_REQUEST_TIMEOUT`; 10 here, not MLflow's 120).
        tracking_retries: MLflow's HTTP retries (`MLFLOW_HTTP_REQUEST_MAX_RETRIES`;
            2 here, not MLflow's 7), so an unreachable server fails a run quickly.
        retrain: when each ticker's LSTM is trained from scratch, and what happens to
            its latest network on the evenings between (`TICKERCAST_RETRAIN`:
            `daily`, `weekly+fine_tune`, `weekly+reuse`, `monthly+fine_tune`,
            `monthly+reuse`, `never+reuse`; chosen by benchmarks/retrain_policy.py).
        retention_days: how long `tickercast prune` keeps runs and LoggedModels
            (`TICKERCAST_RETENTION_DAYS`, 90); registered versions and each ticker's
            latest network are always kept.
        yahoo_requests_per_second: pace of requests to Yahoo across every process that
            reports to the same Prefect server (`TICKERCAST_YAHOO_REQUESTS_PER_SECOND`, 1).
        time_limits: how long a source request, a stage attempt and a flow run may take
            (`TICKERCAST_SOURCE_TIMEOUT`, `TICKERCAST_STAGE_TIMEOUTS`,
            `TICKERCAST_FLOW_TIMEOUT`; see `tickercast.data.time_limits`).
    """

    home: Path
    mlflow_tracking_uri: str | None = None
    experiment: str = "tickercast"
    calendar: str = "XNYS"
    calendars: dict[str, str] = field(default_factory=dict)
    gate_margin: float = 0.01
    gate_significance: float = 0.1
    interval_significance: float = 0.01
    shadow_forecasts: int = 60
    tracking_timeout: float = 10.0
    tracking_retries: int = 2
    retrain: RetrainPolicy = RetrainPolicy.parse(DEFAULT_RETRAIN)
    retention_days: int = 90
    yahoo_requests_per_second: float = 1.0
    time_limits: TimeLimits = field(default_factory=TimeLimits)

    def __post_init__(self) -> None:
        if self.shadow_forecasts < 0:
            raise InputError(
                f"TICKERCAST_SHADOW_FORECASTS must be 0 or more, got {self.shadow_forecasts}"
            )
        if self.retention_days < 1:
            raise InputError(
                f"TICKERCAST_RETENTION_DAYS must be 1 or more, got {self.retention_days}"
            )
        if not self.yahoo_requests_per_second > 0:
            raise InputError(
                "TICKERCAST_YAHOO_REQUESTS_PER_SECOND must be above 0, "
                f"got {self.yahoo_requests_per_second}"
            )

    def calendar_for(self, ticker: str) -> str:
        """The exchange calendar of `ticker`."""
        return calendar_for(ticker, self.calendar, self.calendars)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Read settings from `TICKERCAST_*` variables and MLflow's own.

        Args:
            environ: the environment to read; `os.environ` when None.

        Returns:
            The settings, with `home` made absolute.
        """
        env = os.environ if environ is None else environ
        if "TICKERCAST_WARM_START" in env:  # its meaning changed: never read it silently
            raise InputError(
                "TICKERCAST_WARM_START was replaced by TICKERCAST_RETRAIN (e.g. "
                "TICKERCAST_RETRAIN=daily to train from scratch every evening): unset it"
            )
        home = Path(env.get("TICKERCAST_HOME") or DEFAULT_HOME).expanduser().resolve()
        return cls(
            home=home,
            mlflow_tracking_uri=env.get("MLFLOW_TRACKING_URI") or None,
            experiment=env.get("TICKERCAST_EXPERIMENT") or "tickercast",
            calendar=(env.get("TICKERCAST_CALENDAR") or "XNYS").upper(),
            calendars=_pairs(env.get("TICKERCAST_CALENDARS") or ""),
            gate_margin=_number(env, "TICKERCAST_GATE_MARGIN", 0.01),
            gate_significance=_number(env, "TICKERCAST_GATE_SIGNIFICANCE", 0.1),
            interval_significance=_number(env, "TICKERCAST_INTERVAL_SIGNIFICANCE", 0.01),
            shadow_forecasts=int(_number(env, "TICKERCAST_SHADOW_FORECASTS", 60)),
            tracking_timeout=_number(env, "MLFLOW_HTTP_REQUEST_TIMEOUT", 10.0),
            tracking_retries=int(_number(env, "MLFLOW_HTTP_REQUEST_MAX_RETRIES", 2)),
            retrain=RetrainPolicy.parse(env.get("TICKERCAST_RETRAIN") or DEFAULT_RETRAIN),
            retention_days=int(_number(env, "TICKERCAST_RETENTION_DAYS", 90)),
            yahoo_requests_per_second=_number(env, "TICKERCAST_YAHOO_REQUESTS_PER_SECOND", 1.0),
            time_limits=TimeLimits.from_env(env),
        )


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    """A numeric variable, or an error that names it and its value."""
    text = (env.get(name) or "").strip()
    try:
        value = float(text) if text else default
    except ValueError:
        raise InputError(f"{name} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise InputError(f"{name} must be a finite number, got {text!r}")
    return value


def _pairs(text: str) -> dict[str, str]:
    """`"7203.T=XTKS, SAP.DE=XFRA"` -> `{"7203.T": "XTKS", "SAP.DE": "XFRA"}`."""
    pairs = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        ticker, separator, calendar = item.rpartition("=")
        if not separator or not ticker.strip() or not calendar.strip():
            raise InputError(f"TICKERCAST_CALENDARS: expected TICKER=CALENDAR, got {item!r}")
        pairs[ticker.strip().upper()] = calendar.strip().upper()
    return pairs
