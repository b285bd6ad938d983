"""Stage 2: select the history to train on and check it fits the windows and split."""

from datetime import date, timedelta

from prefect import get_run_logger
from prefect.cache_policies import INPUTS, TASK_SOURCE

from tasks.retries import stage
from tickercast import windows
from tickercast.settings import Settings
from tickercast.storage import Store


@stage(
    retries=2,
    backoff_seconds=2,
    cache_policy=INPUTS + TASK_SOURCE,
    cache_expiration=timedelta(days=1),
)
def build_windows(
    ticker: str,
    start: date | None,
    as_of: date | None,
    spec: windows.WindowSpec,
    data_sha256: str,
    settings: Settings,
) -> windows.TrainingSet:
    """Select a ticker's stored prices up to as_of and split its forecast origins.

    `data_sha256` (of the stored prices) is an input so that a cached result is reused
    only while the stored prices are unchanged.
    """
    history = windows.select_history(
        Store(settings.home).read_prices(ticker),
        ticker,
        start,
        as_of,
        settings.calendar_for(ticker),
    )
    training = windows.training_set(history, ticker, spec)
    get_run_logger().info(
        "%s: as_of %s, %d sessions, %d/%d/%d fit/calibration/holdout origins, data_sha256 %s",
        ticker,
        training.as_of,
        len(history),
        len(training.split.fit),
        len(training.split.calibration),
        len(training.split.holdout),
        training.data_sha256[:12],
    )
    return training
