"""Stage 2: rebuild the training windows from the stored prices."""

from datetime import date

from prefect import get_run_logger

from tasks.retries import stage
from tickercast import windows
from tickercast.settings import Settings
from tickercast.storage import Store


@stage(retries=2, backoff_seconds=2)
def build_windows(
    ticker: str, start: date | None, as_of: date | None, window: int, settings: Settings
) -> windows.Windows:
    """Cut a ticker's stored prices into scaled train, validation and test windows."""
    history = windows.select_history(
        Store(settings.home).read_prices(ticker),
        ticker,
        start,
        as_of,
        settings.calendar_for(ticker),
    )
    built = windows.build_windows(history, ticker, windows.WindowSpec(window=window))
    get_run_logger().info(
        "%s: as_of %s, %d/%d/%d train/validation/test windows, data_sha256 %s",
        ticker,
        built.as_of,
        len(built.y_train),
        len(built.y_val),
        len(built.y_test),
        built.data_sha256[:12],
    )
    return built
