"""Stage 2: select the history to train on and check it fits the windows and split."""

from datetime import date, timedelta

from prefect import get_run_logger
from prefect.cache_policies import TASK_SOURCE, CacheKeyFnPolicy

from tickercast.data import windows
from tickercast.data.storage import Store
from tickercast.settings import Settings
from tickercast.tasks.caching import windows_cache_key
from tickercast.tasks.retries import stage


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
    stored = Store(settings.home).read_prices(ticker)
    history = windows.select_history(stored, ticker, start, as_of, settings.calendar_for(ticker))
    training = windows.training_set(history, ticker, spec)
    get_run_logger().info(training.summary())
    return training
