"""The global network, on its own cadence (weekly): one LSTM for the whole universe."""

from datetime import date

from prefect import flow

from tickercast.flows.deadline import time_limit
from tickercast.flows.outcomes import checked_request, flow_run_title
from tickercast.request import DEFAULTS
from tickercast.settings import Settings
from tickercast.tasks.global_model import train_global_model
from tickercast.tasks.home import open_home
from tickercast.tasks.retries import LIMITS


@flow(name="train-global", flow_run_name=flow_run_title)
def train_global(
    tickers: list[str] = list(DEFAULTS.tickers),  # noqa: B006, B008 - shown in the UI
    universe: str | None = DEFAULTS.universe,
    as_of: date | None = DEFAULTS.as_of,
    start: date | None = DEFAULTS.start,
    epochs: int = DEFAULTS.epochs,
    window: int = DEFAULTS.window,
    horizons: int = DEFAULTS.horizons,
    target: str = DEFAULTS.target,
) -> str:
    """Train one LSTM on the pooled windows of the universe's stored prices; say so."""
    request, _ = checked_request(locals())
    settings = Settings.from_env()
    open_home(settings)
    tickers = list(request.tickers)
    with time_limit(LIMITS.flow):  # training stops at its next batch when it strikes
        return train_global_model(
            tickers, request.start, request.as_of, request.spec, request.config, settings
        )
