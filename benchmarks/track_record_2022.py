"""A year of live track record from one command (issue 11's figures).

Backfills AAPL and MSFT from `../shared/data/yahoo` over every session of 2022
(history from 2010-01-01) with `tickercast backfill`, in a home of its own, and
times it; then scores what the first evening of 2023 would score (the forecasts of
late December, whose sessions close in January) and prints `tickercast track`.
Reported per ticker and horizon: the published forecasts' live rmse_ratio against
naive, coverage of the 80 % and 95 % intervals with Kupiec p-values, mean interval
score; the seconds per backfilled session; and the extra time the daily run's
scoring takes per ticker with the year's forecasts in the ledger.

The backfill resumes where it stopped when run again (published sessions are
skipped). `--epochs` sets the LSTM's epochs (the daily default is 10); `--to` ends
the backfill earlier, e.g. to time a few sessions at the default epochs.

    .venv/bin/python benchmarks/track_record_2022.py [--epochs 1] [--home DIR] [--to 2022-12-30]
"""

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from results_file import write_result  # noqa: E402

from tickercast.data.storage import Store  # noqa: E402
from tickercast.evaluation.track_record import track_record  # noqa: E402
from tickercast.ledger.scoring import score_ticker  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "yahoo"
TICKERS = ("AAPL", "MSFT")
FIRST, LAST = date(2022, 1, 3), date(2022, 12, 30)
# the first evening of 2023 after every 2022 forecast's session (h <= 5) has closed
SCORED_AS_OF = date(2023, 1, 9)


def _cli(home: Path, *arguments: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TICKERCAST_HOME": str(home)}
    env.pop("MLFLOW_TRACKING_URI", None)
    env.pop("PREFECT_API_URL", None)
    command = [str(Path(sys.executable).parent / "tickercast"), *arguments]
    return subprocess.run(command, env=env, text=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--home", type=Path, default=Path("/tmp/tickercast-track-2022"))
    parser.add_argument("--to", type=date.fromisoformat, default=LAST)
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"{DATA} is absent: this benchmark needs ../shared/data/yahoo")
    store = Store(args.home)
    published_before = sum(len(list(store.forecast_dir(t).glob("2022-*.parquet"))) for t in TICKERS)
    started = time.perf_counter()
    backfill = _cli(
        args.home,
        "backfill",
        "--tickers",
        ",".join(TICKERS),
        "--source",
        str(DATA),
        "--start",
        "2010-01-01",
        "--from",
        FIRST.isoformat(),
        "--to",
        args.to.isoformat(),
        "--epochs",
        str(args.epochs),
    )
    seconds = time.perf_counter() - started
    print(backfill.stdout[-2000:], backfill.stderr[-3000:], sep="\n")
    published = sum(len(list(store.forecast_dir(t).glob("2022-*.parquet"))) for t in TICKERS)
    backfilled = published - published_before
    sessions = published // len(TICKERS)
    print(f"backfill: {backfilled} ticker-sessions in {seconds:.0f} s (exit {backfill.returncode})")

    result: dict = {
        "epochs": args.epochs,
        "last_as_of": args.to.isoformat(),
        "backfill_seconds": seconds,
        "ticker_sessions_backfilled": backfilled,
        "seconds_per_session": seconds / (backfilled / len(TICKERS)) if backfilled else None,
        "seconds_per_ticker_session": seconds / backfilled if backfilled else None,
        "sessions_published": sessions,
        "tickers": {},
    }
    for ticker in TICKERS:
        timings = []
        for _ in range(3):  # the daily run's scoring: nothing new, every score re-checked
            begun = time.perf_counter()
            scoring = score_ticker(store, ticker, SCORED_AS_OF, datetime.now(UTC))
            record = track_record(ticker, scoring.scores, SCORED_AS_OF, 60)
            timings.append(time.perf_counter() - begun)
        year = record.table()
        year = year[year["window"] == "all"]
        result["tickers"][ticker] = {
            "scoring_seconds": min(timings),
            "ledger_files": len(list(store.ledger_dir(ticker).glob("*.parquet"))),
            "scores": len(scoring.scores),
            "missing": len(scoring.missing),
            "published": {
                int(row.horizon): {
                    "forecasts": int(row.forecasts),
                    "rmse_ratio": row.rmse_ratio,
                    "dm_pvalue": row.dm_pvalue,
                    "coverage_80": row.coverage_80,
                    "kupiec_p_80": row.kupiec_p_80,
                    "coverage_95": row.coverage_95,
                    "kupiec_p_95": row.kupiec_p_95,
                    "interval_score_80": row.interval_score_80,
                    "interval_score_95": row.interval_score_95,
                }
                for row in year.itertuples()
            },
            "lstm_live_h1_all": record.row("lstm", 1, None).__dict__
            if record.row("lstm", 1, None)
            else None,
        }
        print(
            f"{ticker}: scoring {min(timings):.3f} s with "
            f"{result['tickers'][ticker]['ledger_files']} publications in the ledger"
        )
    track = _cli(args.home, "track", *TICKERS)
    print(track.stdout, track.stderr[-2000:], sep="\n")
    name = "track_record_2022" if args.to == LAST else f"track_record_2022_to_{args.to}"
    print(f"written to {write_result(f'{name}_epochs{args.epochs}', result)}")


if __name__ == "__main__":
    main()
