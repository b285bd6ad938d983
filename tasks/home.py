"""Stage 0: open the home, its layout checked (an older one migrated) before any stage
reads it."""

from prefect import get_run_logger

from tickercast.data import home_layout
from tickercast.settings import Settings
from tickercast.tasks.retries import stage


@stage(retries=1, backoff_seconds=2)
def open_home(settings: Settings) -> None:
    """Check the home's layout; migrate an older one in place, with a backup."""
    for line in home_layout.open_home(settings.home):
        get_run_logger().warning(line)  # on the console too: it changed their files
