"""Stage 2: select the history to train on and check it fits the windows and split."""

from datetime import date, timedelta

from prefect import get_run_logger
from prefect.cache_policies import TASK_SOURCE, CacheKeyFnPolicy
from prefect.context import TaskRunContext
from tickercast.tasks.retries import stage

from tickercast import windows
from tickercast.settings import Settings
from tickercast.storage import Store


def windows_cache_key(context: TaskRunContext, parameters: dict) -> str:
    """The same request on the same stored prices: the partition file's size and time
    change with every write, whoever wrote it."""
    ticker, settings = parameters["ticker"], parameters["settings"]
    path = Store(settings.home).prices_file(ticker)
    stored = f"{path.stat().st_size}:{path.stat().st_mtime_ns}" if path.is_file() else "none"
    request = (
        parameters["start"],
        parameters["as_of"],
        parameters["spec"],
        settings.calendar_for(ticker),
    )
    return "|".join([ticker, str(path), stored, repr(request)])


@stage(
    retries=2,
    backoff_seconds=2,
    cache_policy=CacheKeyFnPolicy(cache_key_fn=windows_cache_key) + TASK_SOURCE,
    cache_expiration=timedelta(days=1),
)
def build_windows(
    ticker: str,
    start: date | None,
    as_of: date | None,
    spec: windows.WindowSpec,
    settings: Settings,
) -> windows.TrainingSet:
    """Select a ticker's stored prices up to as_of and split its forecast origins."""
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
