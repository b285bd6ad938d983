"""The daily run's extra time for the ledger, per ticker, with a year of forecasts in it.

Runs the two stages the ledger adds to `daily_forecast`, `score_forecasts` and
`report_track_record`, as Prefect task runs inside a flow on a temporary Prefect
server, against a home that a year's backfill filled (run
`benchmarks/track_record_2022.py` first), and times each call: the first scores
what is new, the repeats find nothing new (the usual evening's cost beyond the one
new session) and every one writes the track record, its metrics and its plot.

    .venv/bin/python benchmarks/scoring_timing.py [--home /tmp/tickercast-track-2022]
"""

import argparse
import os
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from prefect import flow  # noqa: E402
from prefect.testing.utilities import prefect_test_harness  # noqa: E402
from results_file import write_result  # noqa: E402

from tickercast.data.storage import Store  # noqa: E402
from tickercast.settings import Settings  # noqa: E402
from tickercast.tasks.scoring import report_track_record, score_forecasts  # noqa: E402
from tickercast.tracking.runs import runs_for  # noqa: E402

AS_OF = date(2023, 1, 9)  # the first evening every 2022 forecast's session had closed
REPEATS = 4


@flow
def time_stages(tickers: list[str], settings: Settings) -> dict:
    """Each ledger stage's seconds per call, per ticker."""
    run_id = runs_for(settings).start_parent_run("scoring timing", {})
    seconds: dict = {}
    for ticker in tickers:
        calls = {"score_forecasts": [], "report_track_record": []}
        for _ in range(REPEATS):
            started = time.perf_counter()
            track = score_forecasts(ticker, AS_OF, settings)
            scored = time.perf_counter()
            report_track_record(track, run_id, settings)
            calls["score_forecasts"].append(scored - started)
            calls["report_track_record"].append(time.perf_counter() - scored)
        seconds[ticker] = calls
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path("/tmp/tickercast-track-2022"))
    args = parser.parse_args()
    os.environ["TICKERCAST_HOME"] = str(args.home)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    store = Store(args.home)
    tickers = store.scored_tickers()
    if not tickers:
        raise SystemExit(f"nothing scored under {args.home}: run track_record_2022.py first")
    with prefect_test_harness(server_startup_timeout=120):
        seconds = time_stages(tickers, Settings.from_env())
    result = {}
    for ticker, calls in seconds.items():
        ledger_files = len(list(store.ledger_dir(ticker).glob("*.parquet")))
        scores = len(store.read_scores(ticker))
        steady = {stage: min(times[1:]) for stage, times in calls.items()}
        reads = []
        for _ in range(REPEATS):  # the part of scoring that grows with every publication
            started = time.perf_counter()
            store.read_ledger(ticker)
            reads.append(time.perf_counter() - started)
        result[ticker] = {"ledger_files": ledger_files, "scores": scores, "read_ledger": reads}
        result[ticker] |= calls
        print(
            f"{ticker}: {ledger_files} publications, {scores} scores; "
            f"score_forecasts {calls['score_forecasts'][0]:.2f} s first, "
            f"{steady['score_forecasts']:.2f} s after; report_track_record "
            f"{steady['report_track_record']:.2f} s; together "
            f"{sum(steady.values()):.2f} s per ticker; reading the ledger {min(reads):.2f} s"
        )
    print(f"written to {write_result('scoring_timing', result)}")


if __name__ == "__main__":
    main()
