"""What the daily bar's interval models add to a ticker's evening, and what keeping fits
across evenings saves.

On seeded S&P 500 members (seed 7, the development sample; cost is not tuned), each
from 2010-01-01 to the data's end, with an LSTM fitted once (1 epoch: the network is
the same in every variant, and not timed): the interval candidates of one daily run
(`interval_candidates`: every volatility model's spread at the calibration origins and
its conformal calibration) and their scores on the holdout (`score`), then the
published one recalibrated and frozen, as `fit_candidates`, `evaluate_candidates` and
`publish` do. Timed in a fresh process state (fit caches cleared) on the evening after
one whose fits were kept in a fit folder (`tickercast.models.fit_store`):

    with the bar    the ticker's prices as stored (open, high, low, close)
    close-only      the same without open, high and low (the bar's models left out)
    no fit folder   close-only, caches cold and nothing kept: the evening before this issue

Median, min and max over `--repeat` evenings per ticker; `added` is with the bar minus
close-only, per ticker.

    .venv/bin/python benchmarks/evening_cost.py [--sample 4] [--repeat 3]
"""

import argparse
import os
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from results_file import write_result  # noqa: E402
from sp500_sample import load, select  # noqa: E402

from tickercast.data.history import History  # noqa: E402
from tickercast.data.windows import WindowSpec, split_origins  # noqa: E402
from tickercast.evaluation.interval_gate import INCUMBENT  # noqa: E402
from tickercast.evaluation.scores import mase_scales, score  # noqa: E402
from tickercast.models.fit_store import kept_in  # noqa: E402
from tickercast.models.fitting import fit_candidates, interval_candidates, recalibrated  # noqa: E402
from tickercast.models.har import fit_har  # noqa: E402
from tickercast.models.network_config import ModelConfig  # noqa: E402
from tickercast.models.volatility import fit_garch, fit_range_garch  # noqa: E402

START, SEED = date(2010, 1, 1), 7


def _clear() -> None:
    for fit in (fit_garch, fit_range_garch, fit_har):
        fit.cache_clear()


def _evening(prices, lstm, spec: WindowSpec) -> float:
    """Seconds of one evening's interval work on `prices` (as of their last session),
    their `History` (made once per ticker and evening) included."""
    _clear()
    started = time.perf_counter()
    history = History.of(prices)
    split = split_origins(len(history), spec, "cost")
    candidates = interval_candidates(history, split, spec, lstm)
    scales = mase_scales(history, split.fit, spec.horizons)
    for name, candidate in candidates.items():
        score(name, candidate, history, split.holdout, spec, scales)
    chosen = candidates.get(INCUMBENT) or candidates["gjr_conformal"]
    published = recalibrated(chosen, history, split, spec)
    published.volatility.frozen(history)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    spec = WindowSpec()
    tickers, _ = select(arguments.sample, SEED, START)
    results = {}
    for ticker in tickers:
        prices, _ = load(ticker, START)
        closes = prices.assign(open=np.nan, high=np.nan, low=np.nan)
        lstm = fit_candidates(History.of(prices.iloc[:-1]), ticker, spec, ModelConfig(epochs=1))
        network = lstm.candidates["lstm"].forecaster
        seconds = {"with the bar": [], "close-only": [], "no fit folder": []}
        for evening in range(arguments.repeat):
            today = len(prices) - arguments.repeat + evening + 1
            with tempfile.TemporaryDirectory() as folder, kept_in(Path(folder)):
                for frame in (prices, closes):  # the evening before keeps its fits
                    _evening(frame.iloc[: today - 1], network, spec)
                seconds["with the bar"].append(_evening(prices.iloc[:today], network, spec))
                seconds["close-only"].append(_evening(closes.iloc[:today], network, spec))
            seconds["no fit folder"].append(_evening(closes.iloc[:today], network, spec))
        results[ticker] = {
            what: {"median": statistics.median(s), "min": min(s), "max": max(s)}
            for what, s in seconds.items()
        }
        results[ticker]["added"] = statistics.median(
            bar - close
            for bar, close in zip(seconds["with the bar"], seconds["close-only"], strict=True)
        )
        print(
            ticker,
            ", ".join(
                f"{what} {r['median']:.2f} s ({r['min']:.2f}-{r['max']:.2f})"
                for what, r in results[ticker].items()
                if what != "added"
            ),
            f"added {results[ticker]['added']:.2f} s",
            flush=True,
        )
    summary = {
        what: statistics.median(r[what]["median"] for r in results.values())
        for what in ("with the bar", "close-only", "no fit folder")
    } | {"added": statistics.median(r["added"] for r in results.values())}
    print("median over tickers: " + ", ".join(f"{k} {v:.2f} s" for k, v in summary.items()))
    write_result("evening_cost", {"tickers": tickers, "per_ticker": results, "median": summary})


if __name__ == "__main__":
    main()
