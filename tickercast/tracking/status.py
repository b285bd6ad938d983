"""`tickercast status`: per ticker, what is stored, what happened last, what is published.

A query over the home and the MLflow store; the CLI only prints it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tickercast.data.storage import Store
from tickercast.errors import NoPricesError, StoredFileError, TrackingUnavailableError
from tickercast.settings import Settings
from tickercast.tracking.experiment import Experiment, experiment_for
from tickercast.tracking.registry import ChampionSummary, Registry
from tickercast.tracking.runs import LatestRun, Runs

T = TypeVar("T")


@dataclass(frozen=True)
class TickerStatus:
    """One ticker's state.

    Attributes:
        ticker: the symbol.
        sessions: stored sessions (0: nothing stored), the last one `last_session`.
        last_ingest: when the manifest last recorded an ingest (ISO time), if ever.
        outcome: its outcome in the last flow run that included it (`status`, `at`,
            `detail`), if any.
        last_run: its most recent MLflow run, if the store was reachable and has one.
        champion: its registered champion, if any.
        forecast: the latest published forecast's first row, if any.
        track_record: its live track record (`TrackRecord.as_dict`), if one was written.
        problems: stored files of the ticker that cannot be read as they should (a
            broken price partition, a forecast or track record that is not JSON).
    """

    ticker: str
    sessions: int
    last_session: str | None
    last_ingest: str | None
    outcome: dict | None
    last_run: LatestRun | None
    champion: ChampionSummary | None
    forecast: dict | None
    track_record: dict | None
    problems: tuple[str, ...] = ()

    @property
    def stored(self) -> bool:
        """Whether prices were ever stored for it (a mistyped symbol never was)."""
        return self.sessions > 0 or self.last_ingest is not None or bool(self.problems)

    @property
    def needs_attention(self) -> bool:
        """Whether a file of it is broken, or its last flow run failed a ticker whose
        prices are stored: what `tickercast status` exits 1 for. A symbol that never
        stored prices (an old typo) is shown, not counted."""
        failed = self.outcome is not None and self.outcome["status"] != "published"
        return bool(self.problems) or (failed and self.stored)


def known_tickers(store: Store) -> list[str]:
    """Every ticker with stored prices, a forecast or an outcome, sorted."""
    return sorted(
        set(store.stored_tickers()) | set(store.published_tickers()) | set(store.last_outcomes())
    )


@dataclass(frozen=True)
class StatusReport:
    """Every ticker's state, and why MLflow could not be asked, if it could not."""

    statuses: list[TickerStatus]
    tracking_problem: str | None


def status_report(tickers: list[str], settings: Settings) -> StatusReport:
    """Each ticker's state, with its MLflow runs and champion when the store answers.

    Args:
        tickers: the symbols (validated).
        settings: where the home and the MLflow store are.

    Returns:
        One status per ticker, in the given order. Without a local MLflow store yet,
        runs and champions are left out (a query never creates a store).
    """
    if (
        settings.mlflow_tracking_uri is None
        and not Store(settings.home).local_tracking_db.is_file()
    ):
        return StatusReport(_statuses(tickers, settings, None), None)
    try:
        return StatusReport(_statuses(tickers, settings, experiment_for(settings)), None)
    except TrackingUnavailableError as error:
        return StatusReport(_statuses(tickers, settings, None), str(error))


def _statuses(
    tickers: list[str], settings: Settings, experiment: Experiment | None
) -> list[TickerStatus]:
    store = Store(settings.home)
    outcomes, published = store.last_outcomes(), set(store.published_tickers())
    return [
        _status(ticker, store, outcomes.get(ticker), ticker in published, experiment)
        for ticker in tickers
    ]


def _status(
    ticker: str,
    store: Store,
    outcome: dict | None,
    published: bool,
    experiment: Experiment | None,
) -> TickerStatus:
    problems: list[str] = []

    def readable(read: Callable[[], T]) -> T | None:
        """What `read` returns; None when nothing is stored, and a broken file is
        noted in `problems` (a JSON file that does not parse raises ValueError)."""
        try:
            return read()
        except NoPricesError:
            return None
        except (StoredFileError, ValueError) as error:
            problems.append(str(error))
            return None

    prices = readable(lambda: store.read_prices(ticker))
    ingest = readable(lambda: store.last_ingest(ticker))
    forecast = readable(lambda: store.read_latest_forecast(ticker)[0]) if published else None
    return TickerStatus(
        ticker=ticker,
        sessions=0 if prices is None else len(prices),
        last_session=None if prices is None else str(prices["session"].iloc[-1].date()),
        last_ingest=ingest["at"] if ingest else None,
        outcome=outcome,
        last_run=Runs(experiment).latest_run(ticker) if experiment else None,
        champion=Registry(experiment).champion_summary(ticker) if experiment else None,
        forecast=forecast,
        track_record=readable(lambda: store.read_track_record(ticker)),
        problems=tuple(problems),
    )
