"""The S&P 500 members in ../shared/data/sp500 as the benchmarks sample them, and a
resumable, parallel loop over tickers.

A sample is seeded: `size` members drawn with `random.Random(seed)`; one whose prices
start after `start`'s first session, or fail validation, is replaced by the next
seeded draw. Prices are loaded as the daily run stores them (normalized, then
validated and sorted: Alpha Vantage files may be newest first).
"""

import argparse
import json
import multiprocessing
import os
import random
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from tickercast.data.calendar import sessions_between
from tickercast.data.quality import clean_prices
from tickercast.data.sources import FolderSource
from tickercast.data.tickers import read_universe
from tickercast.errors import NoPricesError, PriceDataError
from tickercast.settings import Settings

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "sp500"
CALENDAR = "XNYS"


def load(
    ticker: str, start: date, end: date | None = None, folder: Path = DATA
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The ticker's prices from `start` (to `end`) in `folder` (the S&P 500 members'),
    and its data-quality findings."""
    source = FolderSource(folder)
    prices, report = clean_prices(source.fetch(ticker, start, end), ticker, source.name, CALENDAR)
    return prices, report.counts()


def _draws(universe: list[str], size: int, seed: int) -> Iterator[str]:
    """The seeded sample, then the rest of the universe in a seeded order (replacements)."""
    rng = random.Random(seed)
    pool = sorted(universe)
    sample = rng.sample(pool, size)
    rest = [ticker for ticker in pool if ticker not in sample]
    yield from sample
    yield from rng.sample(rest, len(rest))


def select(
    size: int, seed: int, start: date, end: date | None = None
) -> tuple[list[str], dict[str, str]]:
    """`size` tickers with prices from `start`'s first session, and those skipped, why;
    each is loaded (and validated) from `start` to `end`, the data's end if None."""
    if not DATA.is_dir():
        raise SystemExit(f"needs {DATA} (../shared/data beside the project)")
    first_session = sessions_between(start, start + timedelta(days=10), CALENDAR)[0].date()
    chosen, skipped = [], {}
    for ticker in _draws(read_universe(DATA / "universe.txt"), size, seed):
        if len(chosen) == size:
            break
        try:
            starts = load(ticker, start, end)[0]["session"].iloc[0].date()
        except (NoPricesError, PriceDataError) as error:
            skipped[ticker] = str(error)
            continue
        if starts > first_session:
            skipped[ticker] = f"prices start on {starts}, after {first_session}"
        else:
            chosen.append(ticker)
    return chosen, skipped


def _limit_threads(threads: int) -> None:
    from tickercast.models.network import limit_threads

    limit_threads(threads)


def _run_one(work: Callable[[str, dict], dict], ticker: str, settings: dict, folder: Path) -> dict:
    result = {"ticker": ticker, "settings": settings, **work(ticker, settings)}
    # written whole, then renamed: an interrupted write is not taken for a finished ticker
    partial = folder / f"{ticker}.json.partial"
    partial.write_text(json.dumps(result, indent=2))
    partial.replace(folder / f"{ticker}.json")
    return result


def run_tickers(
    work: Callable[[str, dict], dict],
    tickers: list[str],
    settings: dict,
    folder: Path,
    jobs: int,
    on_result: Callable[[dict], None],
) -> list[dict]:
    """`work(ticker, settings)` for each ticker, `jobs` processes side by side, each with
    its share of the cores; each result is kept in `folder/<ticker>.json`, and a rerun
    with the same settings reuses it.

    Returns:
        The results, in the tickers' order.
    """
    folder.mkdir(parents=True, exist_ok=True)
    results = {}
    for ticker in tickers:
        path = folder / f"{ticker}.json"
        if path.is_file() and (kept := json.loads(path.read_text()))["settings"] == settings:
            results[ticker] = kept
    todo = [ticker for ticker in tickers if ticker not in results]
    print(f"{len(results)} finished before, {len(todo)} to run", flush=True)
    threads = max(1, (os.cpu_count() or 1) // jobs)
    with ProcessPoolExecutor(
        jobs,
        # TensorFlow does not survive a fork; each worker caps its threads before any op
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_limit_threads,
        initargs=(threads,),
    ) as pool:
        running = {pool.submit(_run_one, work, t, settings, folder): t for t in todo}
        for future in as_completed(running):
            results[running[future]] = future.result()
            on_result(results[running[future]])
    return [results[ticker] for ticker in tickers]


def arguments(description: str, sample: int, extra: dict | None = None) -> argparse.Namespace:
    """The options of a benchmark over a sample: `--epochs` (the LSTM's, 10), `--jobs`
    (tickers side by side, 2) and `--sample` (how many tickers, `sample`), and the
    script's own `extra` ones (option -> `add_argument` keywords)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sample", type=int, default=sample, help="tickers to backtest")
    for option, keywords in (extra or {}).items():
        parser.add_argument(option, **keywords)
    return parser.parse_args()


def backtest_settings(epochs: int, folds: int, start: date) -> dict:
    """A backtest's settings, the gates' as the daily run's defaults set them: what a
    ticker's kept result must match to be reused."""
    defaults = Settings(home=Path("."))
    return {
        "epochs": epochs,
        "folds": folds,
        "margin": defaults.gate_margin,
        "significance": defaults.gate_significance,
        "live_required": defaults.shadow_forecasts,
        "start": str(start),
    }
