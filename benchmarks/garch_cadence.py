"""How often GARCH must be refitted: interval scores of rolling GARCH and GJR-GARCH
against the refit cadence, on data that the reported backtests do not use.

A seeded sample of 10 members of ../shared/data/sp500 (seed 7; one whose prices start
after 2003's first session, or fail validation, is replaced by the next seeded draw;
none is in shadow_gate_sp500.py's sample or backtest_aapl_msft.py's), prices from
2003-01-01 to 2012-12-31 only. Origins: the last 630 sessions of that period whose 5
targets are known (mid-2010 to 2012); each fit's window is the default 1000 returns.

For refit_every in 1, 5, 21, 63, 126, 252 and both models (`tickercast.models.volatility.Garch`,
leverage off and on): the mean interval (Winkler) score of the model's own Student-t
80 % and 95 % intervals around a zero log return, averaged over h = 1..5, relative to
refitting every session; their coverage; and the seconds of the spread call per
ticker, from a cold fit cache. The table shows medians over tickers.

    nice -n 10 .venv/bin/python benchmarks/garch_cadence.py
"""

import argparse
import statistics
import time
from datetime import date

import numpy as np
import pandas as pd
from results_file import write_result
from sp500_sample import load, select

from tickercast.data.history import History
from tickercast.evaluation.metrics import interval_score
from tickercast.models.volatility import Garch, fit_garch

NAME = "garch_cadence"
START, END, SEED = date(2003, 1, 1), date(2012, 12, 31), 7
ORIGINS, HORIZONS, LEVELS = 630, 5, (0.8, 0.95)
CADENCES = (1, 5, 21, 63, 126, 252)
MODELS = {"garch": False, "gjr": True}  # name -> leverage
# a cadence is as good as daily refits when its median relative score is at most this
TOLERANCE = 1.002


def _score(model: Garch, history: History, origins: np.ndarray) -> dict:
    """One model's intervals at `origins`, fitted from a cold cache."""
    fit_garch.cache_clear()
    started = time.perf_counter()
    spread = model.spread(history, origins, HORIZONS)
    seconds = time.perf_counter() - started
    actual = history.targets(origins, HORIZONS)
    scores, coverage = {}, {}
    for level in LEVELS:
        half = spread.half_width(level)  # (n, H), around a zero log return
        # every horizon has the same origins: the mean over all is the mean over h
        scores[str(level)] = float(
            np.mean(interval_score(actual.ravel(), -half.ravel(), half.ravel(), level))
        )
        coverage[str(level)] = float(np.mean(np.abs(actual) <= half))
    return {
        "interval_score": scores,
        "coverage": coverage,
        "seconds": seconds,
        "fits": fit_garch.cache_info().misses,
    }


def _ticker(prices: pd.DataFrame) -> dict:
    last_known = len(prices) - 1 - HORIZONS
    origins = np.arange(last_known - ORIGINS + 1, last_known + 1)
    result = {
        "origins": [str(prices["session"].iloc[origins[i]].date()) for i in (0, -1)],
        "models": {},
    }
    history = History.of(prices)
    for name, leverage in MODELS.items():
        by_cadence = {
            cadence: _score(Garch(leverage=leverage, refit_every=cadence), history, origins)
            for cadence in CADENCES
        }
        daily = by_cadence[1]["interval_score"]
        for scored in by_cadence.values():
            scored["relative_interval_score"] = {
                level: score / daily[level] for level, score in scored["interval_score"].items()
            }
        result["models"][name] = {str(cadence): scored for cadence, scored in by_cadence.items()}
    return result


def _summary(results: dict[str, dict]) -> dict:
    """Medians over tickers, per model and cadence."""

    def median(model: str, cadence: int, *keys: str) -> float:
        values = []
        for result in results.values():
            value = result["models"][model][str(cadence)]
            for key in keys:
                value = value[key]
            values.append(value)
        return statistics.median(values)

    return {
        model: {
            str(cadence): {
                **{
                    f"relative_interval_score_{level}": median(
                        model, cadence, "relative_interval_score", str(level)
                    )
                    for level in LEVELS
                },
                **{
                    f"coverage_{level}": median(model, cadence, "coverage", str(level))
                    for level in LEVELS
                },
                "seconds": median(model, cadence, "seconds"),
            }
            for cadence in CADENCES
        }
        for model in MODELS
    }


def _recommendation(summary: dict) -> dict[str, int]:
    """Per model, the longest cadence whose median relative scores are within TOLERANCE."""
    return {
        model: max(
            cadence
            for cadence in CADENCES
            if all(
                summary[model][str(cadence)][f"relative_interval_score_{level}"] <= TOLERANCE
                for level in LEVELS
            )
        )
        for model in MODELS
    }


def _table(summary: dict) -> str:
    lines = [
        "| model | refit_every | rel. score 80 % | rel. score 95 % | coverage 80 % "
        "| coverage 95 % | seconds per ticker |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for model, by_cadence in summary.items():
        for cadence, row in by_cadence.items():
            lines.append(
                f"| {model} | {cadence} | {row['relative_interval_score_0.8']:.4f} "
                f"| {row['relative_interval_score_0.95']:.4f} | {row['coverage_0.8']:.3f} "
                f"| {row['coverage_0.95']:.3f} | {row['seconds']:.2f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=10, help="tickers to score")
    arguments = parser.parse_args()
    started = time.perf_counter()
    # each loaded and validated over the period only, as `_ticker` scores it
    chosen, skipped = select(arguments.sample, SEED, START, END)
    print(f"tickers ({len(chosen)}): {' '.join(chosen)}")
    for ticker, why in skipped.items():
        print(f"skipped {ticker}: {why}")
    results = {}
    for ticker in chosen:
        results[ticker] = _ticker(load(ticker, START, END)[0])
        seconds = sum(
            scored["seconds"]
            for model in results[ticker]["models"].values()
            for scored in model.values()
        )
        print(f"{ticker}: origins {' to '.join(results[ticker]['origins'])}, {seconds:.0f} s")
    summary = _summary(results)
    recommendation = _recommendation(summary)
    print()
    print(_table(summary))
    print()
    print(
        f"longest cadence within {TOLERANCE - 1:.1%} of daily refits (median relative "
        f"score, both levels): {recommendation}"
    )
    wall = time.perf_counter() - started
    out = write_result(
        NAME,
        {
            "settings": {
                "seed": SEED,
                "start": str(START),
                "end": str(END),
                "origins": ORIGINS,
                "horizons": HORIZONS,
                "levels": LEVELS,
                "cadences": CADENCES,
                "window": Garch().window,
                "tolerance": TOLERANCE,
            },
            "tickers": list(chosen),
            "skipped": skipped,
            "summary": summary,
            "recommendation": recommendation,
            "wall_seconds": wall,
            "results": results,
        },
    )
    print(f"wall time {wall:.0f} s; written to {out}")


if __name__ == "__main__":
    main()
