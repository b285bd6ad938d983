"""Ingest wall time for AAPL from local files, and validation throughput.

Scenarios, each timed on a fresh store and repeated (median reported), with
`../shared/data/yahoo/AAPL.csv` (5031 sessions, 2005-10-10 to 2025-10-08):

- first: a full-history first ingest (all sessions but the last);
- increment: the next ingest, when the file has gained one session;
- no-op: the same ingest again, nothing new;
- revision: the file's past adjusted closes rescaled (as a dividend does), so the
  overlap differs and the whole history is fetched and replaced.

Validation throughput: `clean_prices` (pandera schema and soft checks) on the clean
Yahoo file and on `../shared/data/dirty/AAPL.csv`, in rows per second.

    .venv/bin/python benchmarks/ingest_timing.py [--repeats 5]
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from results_file import write_result

from tickercast.data.ingest import ingest_prices
from tickercast.data.quality import clean_prices
from tickercast.data.sources import FolderSource
from tickercast.data.storage import Store

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _timed(function) -> tuple[float, object]:
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value


def _one_round(full) -> dict[str, float]:
    """The four scenarios once, on a fresh store."""
    scratch = Path(tempfile.mkdtemp(prefix="tickercast-ingest-"))
    store, folder = Store(scratch / "home"), scratch / "files"
    folder.mkdir()

    def write(prices) -> None:
        prices.rename(columns={"session": "Date"}).to_csv(folder / "AAPL.csv", index=False)

    def ingest():
        return ingest_prices("AAPL", FolderSource(folder), store, None, "XNYS")[0]

    seconds = {}
    write(full.iloc[:-1])
    seconds["first"], result = _timed(ingest)
    assert result.rows_added == len(full) - 1
    write(full)
    seconds["increment"], result = _timed(ingest)
    assert (result.rows_added, result.revision) == (1, False)
    seconds["no-op"], result = _timed(ingest)
    assert not result.wrote
    write(full.assign(adjusted_close=full["adjusted_close"] * 0.995))
    seconds["revision"], result = _timed(ingest)
    assert result.revision and result.rows_changed == len(full)
    return seconds


def _throughput(frame, name: str, repeats: int) -> dict:
    seconds = statistics.median(
        _timed(lambda: clean_prices(frame, "AAPL", name, "XNYS"))[0] for _ in range(repeats)
    )
    return {
        "file": name,
        "rows": len(frame),
        "seconds": seconds,
        "rows_per_second": len(frame) / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()
    if not (SHARED / "yahoo" / "AAPL.csv").is_file():
        raise SystemExit(f"needs {SHARED} (../shared/data beside the project)")

    full = FolderSource(SHARED / "yahoo").fetch("AAPL", None, None)
    clean_prices(full, "AAPL", "warm-up", "XNYS")  # builds the calendar once
    rounds = [_one_round(full) for _ in range(arguments.repeats)]
    times = {name: [round_[name] for round_ in rounds] for name in rounds[0]}
    medians = {name: statistics.median(values) for name, values in times.items()}
    throughput = [
        _throughput(full, "yahoo/AAPL.csv", arguments.repeats),
        _throughput(
            FolderSource(SHARED / "dirty").fetch("AAPL", None, None),
            "dirty/AAPL.csv",
            arguments.repeats,
        ),
    ]
    print(f"AAPL ingest from local CSV, {len(full)} sessions, median of {arguments.repeats}:")
    for name, seconds in medians.items():
        print(
            f"  {name:10} {seconds * 1000:8.1f} ms   (runs: "
            + ", ".join(f"{s * 1000:.0f}" for s in times[name])
            + ")"
        )
    print("validation (clean_prices: pandera schema + soft checks):")
    for row in throughput:
        print(
            f"  {row['file']:16} {row['rows']:6} rows in {row['seconds'] * 1000:6.1f} ms: "
            f"{row['rows_per_second']:,.0f} rows/s"
        )
    out = write_result(
        "ingest_timing", {"median_seconds": medians, "runs": times, "validation": throughput}
    )
    print(f"written to {out}")


if __name__ == "__main__":
    main()
