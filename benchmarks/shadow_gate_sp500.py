"""The shadow gate against the holdout gate alone, walk-forward on 30 S&P 500 members.

A seeded sample of the members in ../shared/data/sp500 (seed 11; one whose prices
start after 2010-01-01's first session, or fail validation, is replaced by the next
seeded draw), each from 2010-01-01 to the data's end (2021-04-21): 4 folds of 126
sessions (the default spec's holdout), margin 0.01, significance 0.1, a live record
of 60 forecasts. One backtest per ticker gives both gates' choices in each fold
(`published_holdout`: the holdout gate alone; `published`: then the shadow gate).
Per ticker and gate: the folds publishing the LSTM, how many of them it then lost
to naive (its h=1 rmse_ratio on the fold at least 1), and the pooled h=1
rmse_ratio of what was published over all folds.

Resumable: each ticker's result is written to benchmarks/results/shadow_gate_sp500/
as it finishes, and a rerun with the same settings skips it. `--jobs` processes
backtest tickers side by side, each with its share of the cores.

    nice -n 10 .venv/bin/python benchmarks/shadow_gate_sp500.py [--epochs 10] [--jobs 2]
"""

import os
import statistics
import time
from datetime import date

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from results_file import RESULTS, write_result  # noqa: E402
from sp500_sample import arguments as sample_arguments
from sp500_sample import backtest_settings, load, run_tickers, select  # noqa: E402

from tickercast.data.history import History  # noqa: E402
from tickercast.data.windows import WindowSpec  # noqa: E402
from tickercast.evaluation.backtest import Backtest, run_backtest  # noqa: E402
from tickercast.evaluation.champion import Choice  # noqa: E402
from tickercast.models.network_config import ModelConfig  # noqa: E402

NAME = "shadow_gate_sp500"
TICKERS = RESULTS / NAME  # one file per finished ticker
START, SEED = date(2010, 1, 1), 11
FOLDS = 4
# gate name -> (its published series, the Fold attribute holding its decision)
GATES = {"holdout": ("published_holdout", "holdout_decision"), "shadow": ("published", "decision")}


def _gate_summary(backtest: Backtest, series: str, attribute: str) -> dict:
    decisions = [getattr(fold, attribute) for fold in backtest.folds]
    published = [
        fold
        for fold, decision in zip(backtest.folds, decisions, strict=True)
        if decision.published != Choice.NAIVE
    ]
    return {
        "publications": len(published),
        # the published model did worse than naive one session ahead on its own fold
        "lost": sum(fold.scored[series].metrics[0]["rmse_ratio"] >= 1 for fold in published),
        "rmse_ratio_h1": backtest.pooled()[series].metrics[0]["rmse_ratio"],
        "published_by_fold": [str(decision.published) for decision in decisions],
        "reasons": [decision.reason for decision in decisions],
    }


def _summary(backtest: Backtest, findings: dict[str, int], seconds: float) -> dict:
    folds = backtest.folds
    return {
        "gates": {gate: _gate_summary(backtest, *where) for gate, where in GATES.items()},
        "lstm_rmse_ratio_h1": backtest.pooled()["lstm"].metrics[0]["rmse_ratio"],
        "lstm_rmse_ratio_h1_by_fold": [
            fold.scored["lstm"].metrics[0]["rmse_ratio"] for fold in folds
        ],
        "live_by_fold": [
            {
                "forecasts": fold.live.forecasts,
                "last_target": str(fold.live_targets[-1]) if fold.live.forecasts else None,
                "rmse_ratio": fold.live.rmse_ratio if fold.live.forecasts else None,
                "dm_pvalue": fold.live.dm_pvalue if fold.live.forecasts > 1 else None,
            }
            for fold in folds
        ],
        "folds": [[str(fold.first_origin), str(fold.last_origin)] for fold in folds],
        "quality_findings": findings,
        "fit_seconds": sum(fold.fit_seconds for fold in folds),
        "seconds": seconds,
        "rows": backtest.rows(),
    }


def _backtest(ticker: str, settings: dict) -> dict:
    """Backtest one ticker (its result file, with "ticker" and "settings", is written by
    `run_tickers`); runs in a worker process."""
    started = time.perf_counter()
    prices, findings = load(ticker, START)
    backtest = run_backtest(
        History.of(prices),
        ticker,
        WindowSpec(),
        ModelConfig(epochs=settings["epochs"]),
        settings["folds"],
        margin=settings["margin"],
        significance=settings["significance"],
        live_required=settings["live_required"],
    )
    return {
        "first_session": str(prices["session"].iloc[0].date()),
        "last_session": str(prices["session"].iloc[-1].date()),
        **_summary(backtest, findings, time.perf_counter() - started),
    }


def _line(result: dict) -> str:
    cells = [f"{result['ticker']:6}"]
    for gate in GATES:
        summary = result["gates"][gate]
        cells.append(
            f"{summary['publications']:>4} {summary['lost']:>4} {summary['rmse_ratio_h1']:>8.4f}"
        )
    cells.append(f"{result['lstm_rmse_ratio_h1']:>8.4f} {result['seconds']:>7.0f}")
    return "  |  ".join(cells)


HEADER = (
    f"{'':6}  |  {'holdout gate alone':^18}  |  {'holdout + shadow gate':^18}  |\n"
    f"{'ticker':6}  |  {'pub':>4} {'lost':>4} {'ratio':>8}  |  {'pub':>4} {'lost':>4} "
    f"{'ratio':>8}  |  {'lstm':>8} {'seconds':>7}"
)


def _overall(results: list[dict]) -> dict:
    overall = {}
    for gate in GATES:
        ratios = [result["gates"][gate]["rmse_ratio_h1"] for result in results]
        overall[gate] = {
            "publications": sum(result["gates"][gate]["publications"] for result in results),
            "lost": sum(result["gates"][gate]["lost"] for result in results),
            "tickers_at_most_1": sum(ratio <= 1.0 for ratio in ratios),
            "max_rmse_ratio_h1": max(ratios),
            "median_rmse_ratio_h1": statistics.median(ratios),
        }
    overall["lstm_median_rmse_ratio_h1"] = statistics.median(
        result["lstm_rmse_ratio_h1"] for result in results
    )
    overall["ticker_seconds"] = sum(result["seconds"] for result in results)
    return overall


def main() -> None:
    arguments = sample_arguments(__doc__.splitlines()[0], 30)
    started = time.perf_counter()
    settings = backtest_settings(arguments.epochs, FOLDS, START)
    tickers, skipped = select(arguments.sample, SEED, START)
    print(f"tickers ({len(tickers)}): {' '.join(tickers)}")
    for ticker, why in skipped.items():
        print(f"skipped {ticker}: {why}")
    print(HEADER, flush=True)
    finished = run_tickers(
        _backtest, tickers, settings, TICKERS, arguments.jobs, lambda r: print(_line(r), flush=True)
    )
    overall = _overall(finished)
    wall = time.perf_counter() - started
    print()
    print("in sample order:")
    print(HEADER)
    for result in finished:
        print(_line(result))
    for gate in GATES:
        total = overall[gate]
        print(
            f"{gate:8} gate: {total['publications']} publications, {total['lost']} then lost "
            f"to naive; pooled published ratio <= 1.000 for {total['tickers_at_most_1']} of "
            f"{len(finished)} tickers; max {total['max_rmse_ratio_h1']:.4f}, median "
            f"{total['median_rmse_ratio_h1']:.4f}"
        )
    print(f"lstm median pooled h=1 ratio {overall['lstm_median_rmse_ratio_h1']:.4f}")
    print(
        f"wall time {wall:.0f} s this run; {overall['ticker_seconds']:.0f} s of ticker "
        f"backtests in all, {arguments.jobs} at a time"
    )
    out = write_result(
        NAME,
        {
            "settings": {**settings, "end": "the data's end", "jobs": arguments.jobs},
            "tickers": tickers,
            "skipped": skipped,
            "overall": overall,
            "wall_seconds_this_run": wall,
            # each ticker's rows are in its own file under TICKERS
            "results": {
                result["ticker"]: {k: v for k, v in result.items() if k != "rows"}
                for result in finished
            },
        },
    )
    print(f"written to {out} (per ticker: {TICKERS})")


if __name__ == "__main__":
    main()
