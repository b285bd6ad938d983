"""Interval methods walk-forward on 30 S&P 500 members: proper scores against GARCH(1,1)-t.

A seeded sample of the members in ../shared/data/sp500 (`sp500_sample.select`, seed
12), each from 2010-01-01 to the data's end (2021-04-21): the daily run's walk-forward
backtest (`run_backtest`, default windows, 5 folds of 126 sessions: 630 origins, the
LSTM at 10 epochs, the point gates at margin 0.01 and significance 0.1 with a live
record of 60, the interval gate at margin 0.01 and significance 0.01 defending
conformalized GJR: the defaults, chosen on benchmarks/interval_gate_dev.py's data).
Every interval method is scored on every fold's origins, pooled over the folds, one
session ahead (the headline) and averaged over the five horizons:

    static               split-conformal, unscaled
    naive                split-conformal scaled by 20-session realized volatility (today's)
    ewma, garch, gjr     each model's own quantiles (normal; Student-t; Student-t)
    *_conformal          split-conformal scaled by each model's own volatility forecast
    lstm_head(_conformal) the LSTM body's variance head (Gaussian; conformalized)
    published            what the daily run publishes: the point gate's point with the
                         interval gate's intervals, chosen on each fold's own holdout

Per method: the median over tickers of coverage (80/95) and of the interval score
relative to GARCH(1,1)-t's, the count of tickers where it beats GARCH's, and coverage
by tercile of the origin's realized volatility. Also the interval gate's choices and
each volatility model's added fit time per ticker-day (the daily run's calibration,
holdout and latest origins, caches cold).

Resumable (benchmarks/results/intervals_sp500/<ticker>.json); `--jobs` processes
backtest tickers side by side.

    nice -n 10 .venv/bin/python benchmarks/intervals_sp500.py [--epochs 10] [--jobs 2]
"""

import collections
import os
import statistics
import time
from datetime import date
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from results_file import RESULTS, write_result  # noqa: E402
from sp500_sample import arguments as sample_arguments
from sp500_sample import backtest_settings, load, run_tickers, select  # noqa: E402

from tickercast.backtest import run_backtest  # noqa: E402
from tickercast.candidates import INTERVAL_MODELS  # noqa: E402
from tickercast.fitting import fit_candidates  # noqa: E402
from tickercast.lstm_head import LSTMHead  # noqa: E402
from tickercast.metrics import TERCILES  # noqa: E402
from tickercast.model_config import ModelConfig  # noqa: E402
from tickercast.settings import Settings  # noqa: E402
from tickercast.volatility import EWMA, Garch, fit_garch  # noqa: E402
from tickercast.windows import WindowSpec, split_origins  # noqa: E402

NAME = "intervals_sp500"
START, SEED, FOLDS = date(2010, 1, 1), 12, 5
METHODS = (*INTERVAL_MODELS[:1], "naive", *INTERVAL_MODELS[1:], "published")
LEVELS = (80, 95)


def _method_metrics(pooled) -> dict:
    """One method's pooled metrics: h=1, and the interval score averaged over horizons."""
    first = pooled.metrics[0]
    return {
        **{
            key: first[key]
            for level in LEVELS
            for key in (
                f"coverage_{level}",
                f"interval_score_{level}",
                f"kupiec_p_{level}",
                f"christoffersen_p_{level}",
                *(f"coverage_{level}_{tercile}" for tercile in TERCILES),
            )
        },
        **{
            f"interval_score_{level}_all_h": float(
                np.mean([m[f"interval_score_{level}"] for m in pooled.metrics])
            )
            for level in LEVELS
        },
    }


def _fit_seconds(prices, config: ModelConfig) -> dict[str, float]:
    """Each volatility model's seconds for one daily run (calibration, holdout and the
    latest origin; GARCH caches cleared; the head on a 1-epoch LSTM, its cost not
    depending on the epochs)."""
    spec = WindowSpec()
    split = split_origins(len(prices), spec, "timing")
    origins = np.concatenate([split.calibration, split.holdout, [len(prices) - 1]])
    seconds = {}
    for model in (EWMA(), Garch(), Garch(leverage=True)):
        fit_garch.cache_clear()
        started = time.perf_counter()
        model.spread(prices, origins, spec.horizons)
        seconds[model.name] = time.perf_counter() - started
    fitted = fit_candidates(prices, "timing", spec, ModelConfig(epochs=1, seed=config.seed))
    started = time.perf_counter()
    head = LSTMHead.fit(fitted.candidates["lstm"].forecaster, prices, split.fit)
    head.spread(prices, origins, spec.horizons)
    seconds["lstm_head"] = time.perf_counter() - started
    return seconds


def _ticker(ticker: str, settings: dict) -> dict:
    """Backtest one ticker and summarise every interval method; runs in a worker process."""
    started = time.perf_counter()
    prices, findings = load(ticker, START)
    config = ModelConfig(epochs=settings["epochs"])
    backtest = run_backtest(
        prices,
        ticker,
        WindowSpec(),
        config,
        settings["folds"],
        margin=settings["margin"],
        significance=settings["significance"],
        live_required=settings["live_required"],
        interval_significance=settings["interval_significance"],
    )
    pooled = backtest.pooled()
    return {
        "first_session": str(prices["session"].iloc[0].date()),
        "last_session": str(prices["session"].iloc[-1].date()),
        "quality_findings": findings,
        "folds": [[str(fold.first_origin), str(fold.last_origin)] for fold in backtest.folds],
        "origins": len(pooled["published"].current),
        "methods": {name: _method_metrics(pooled[name]) for name in METHODS},
        "interval_gate": [
            {"model": fold.intervals.model, "reason": fold.intervals.reason}
            for fold in backtest.folds
        ],
        "point_gate": [str(fold.decision.published) for fold in backtest.folds],
        "fit_seconds": _fit_seconds(prices, config),
        "seconds": time.perf_counter() - started,
    }


def _ratio(result: dict, method: str, key: str) -> float:
    return result["methods"][method][key] / result["methods"]["garch"][key]


def _line(result: dict) -> None:
    ratios = " ".join(
        f"{_ratio(result, 'published', f'interval_score_{level}'):.3f}" for level in LEVELS
    )
    gate = ",".join(choice["model"] for choice in result["interval_gate"])
    print(f"{result['ticker']:6} published/GARCH IS 80/95 {ratios}  gate {gate}", flush=True)


def _table(results: list[dict]) -> tuple[str, dict]:
    """The markdown table per method, and the same figures as data."""
    rows, figures = [], {}
    for method in METHODS:
        entry = {}
        for level in LEVELS:
            ratios = [_ratio(r, method, f"interval_score_{level}") for r in results]
            ratios_all = [_ratio(r, method, f"interval_score_{level}_all_h") for r in results]
            coverage = [r["methods"][method][f"coverage_{level}"] for r in results]
            entry[level] = {
                "median_coverage": statistics.median(coverage),
                "min_coverage": min(coverage),
                "max_coverage": max(coverage),
                "median_ratio": statistics.median(ratios),
                "beats_garch": sum(ratio < 1 for ratio in ratios),
                "at_most_garch": sum(ratio <= 1 for ratio in ratios),
                "median_ratio_all_h": statistics.median(ratios_all),
                "median_coverage_by_tercile": {
                    t: statistics.median(
                        r["methods"][method][f"coverage_{level}_{t}"] for r in results
                    )
                    for t in TERCILES
                },
            }
        figures[method] = entry
        rows.append(
            f"| {method} | "
            + " | ".join(
                f"{entry[level]['median_coverage']:.3f} | {entry[level]['median_ratio']:.4f} | "
                f"{entry[level]['beats_garch']} | {entry[level]['median_ratio_all_h']:.4f} | "
                + "/".join(f"{v:.2f}" for v in entry[level]["median_coverage_by_tercile"].values())
                for level in LEVELS
            )
            + " |"
        )
    header = (
        f"| method ({len(results)} tickers, h=1) | "
        + " | ".join(
            f"cov {level} | IS {level} / GARCH | beats GARCH | IS {level} / GARCH, h=1..5 | "
            f"cov {level} low/mid/high vol"
            for level in LEVELS
        )
        + " |\n|"
        + "---|" * 11
    )
    return header + "\n" + "\n".join(rows), figures


def main() -> None:
    arguments = sample_arguments(__doc__.splitlines()[0], 30)
    started = time.perf_counter()
    settings = {
        **backtest_settings(arguments.epochs, FOLDS, START),
        "interval_significance": Settings(home=Path(".")).interval_significance,
        "seed": SEED,
    }
    tickers, skipped = select(arguments.sample, SEED, START)
    print(f"tickers ({len(tickers)}): {' '.join(tickers)}")
    for ticker, why in skipped.items():
        print(f"skipped {ticker}: {why}")
    results = run_tickers(_ticker, tickers, settings, RESULTS / NAME, arguments.jobs, _line)
    table, figures = _table(results)
    print()
    print(table)
    published = figures["published"]
    outside = {
        level: [
            r["ticker"]
            for r in results
            if abs(r["methods"]["published"][f"coverage_{level}"] - level / 100)
            > 3 * np.sqrt(level / 100 * (1 - level / 100) / r["origins"])
        ]
        for level in LEVELS
    }
    gate = collections.Counter(c["model"] for r in results for c in r["interval_gate"])
    fit_seconds = {
        model: statistics.median(r["fit_seconds"][model] for r in results)
        for model in results[0]["fit_seconds"]
    }
    print()
    for level in LEVELS:
        p = published[level]
        print(
            f"published {level} %: median coverage {p['median_coverage']:.3f} "
            f"(range {p['min_coverage']:.3f}-{p['max_coverage']:.3f}; outside 3 SE: "
            f"{outside[level] or 'none'}), IS at most GARCH's on {p['at_most_garch']} of "
            f"{len(results)}, median ratio {p['median_ratio']:.4f}"
        )
    print(f"interval gate choices over {FOLDS * len(results)} folds: {dict(gate)}")
    print(
        "median added seconds per ticker-day: "
        + ", ".join(f"{m} {s:.2f}" for m, s in fit_seconds.items())
    )
    wall = time.perf_counter() - started
    print(f"wall {wall:.0f} s")
    path = write_result(
        NAME,
        {
            "settings": settings,
            "tickers": tickers,
            "skipped": skipped,
            "figures": figures,
            "published_outside_3se": outside,
            "interval_gate_choices": dict(gate),
            "median_fit_seconds_per_ticker_day": fit_seconds,
            "wall_seconds": wall,
            "table": table,
        },
    )
    print(f"written {path}")


if __name__ == "__main__":
    main()
