"""Interval methods walk-forward on 30 S&P 500 members: proper scores against GARCH(1,1)-t.

A seeded sample of the members in ../shared/data/sp500 (`sp500_sample.select`, seed
12), each from 2010-01-01 to the data's end (2021-04-21): the daily run's walk-forward
backtest (`run_backtest`, default windows, 5 folds of 126 sessions from 2018-10 to
2021-04, the Covid crash in the fourth; the LSTM at 10 epochs, the point gates at
margin 0.01 and significance 0.1 with a live record of 60, the interval gate at margin
0.01 and significance 0.01 defending the conformalized GJR/HAR blend: the defaults,
chosen on benchmarks/interval_gate_dev.py's data). The same sample and folds as issue
12's report, so the two compare. `--source yahoo`: AAPL and MSFT from
../shared/data/yahoo (yfinance's auto-adjusted bars), every 126-session fold from
2021 to 2025-10.

Every interval method is scored on every fold's origins, pooled over the folds:

    static               split-conformal, unscaled
    naive                split-conformal scaled by 20-session realized volatility
    ewma, garch, gjr     each model's own quantiles (normal; Student-t; Student-t)
    lstm_head            the LSTM body's variance head (Gaussian)
    range_garch, range_gjr   GARCH-X on the daily bar's range measure (Student-t)
    har                  the log-HAR on the range measure (Student-t)
    blend                the geometric mean of GJR's and the HAR's spreads
    *_conformal          split-conformal scaled by each model's volatility forecast,
                         calibrated on out-of-sample standardized errors
    published            what the daily run publishes: the point gate's point with the
                         interval gate's intervals, chosen on each fold's own holdout

Per method: the median over tickers of coverage (80/95), of the interval score relative
to GARCH(1,1)-t's one session ahead and at each horizon, the count of tickers where it
beats GARCH's, coverage by tercile of the origin's realized volatility, and the tickers
whose Kupiec and Christoffersen tests reject at 5 %; per fold, the same ratio for the
published intervals and the leading methods. Also the interval gate's choices and each
volatility model's seconds per ticker-evening (`evening_seconds`).

Resumable (benchmarks/results/intervals_sp500[_yahoo]/<ticker>.json); `--jobs`
processes backtest tickers side by side.

    nice -n 10 .venv/bin/python benchmarks/intervals_sp500.py [--jobs 2] [--source yahoo]
"""

import collections
import os
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from results_file import RESULTS, write_result  # noqa: E402
from sp500_sample import DATA, backtest_settings, load, run_tickers, select  # noqa: E402
from sp500_sample import arguments as sample_arguments

from tickercast.data.history import History  # noqa: E402
from tickercast.data.windows import WindowSpec, split_origins  # noqa: E402
from tickercast.evaluation.backtest import run_backtest  # noqa: E402
from tickercast.evaluation.metrics import TERCILES  # noqa: E402
from tickercast.models.candidates import BAR_MODELS, INTERVAL_MODELS  # noqa: E402
from tickercast.models.fit_store import kept_in  # noqa: E402
from tickercast.models.har import Blend, LogHar, fit_har  # noqa: E402
from tickercast.models.network_config import ModelConfig  # noqa: E402
from tickercast.models.volatility import EWMA, Garch, fit_garch, fit_range_garch  # noqa: E402
from tickercast.settings import Settings  # noqa: E402

NAME = "intervals_sp500"
START, SEED, FOLDS = date(2010, 1, 1), 12, 5
# --source yahoo: AAPL and MSFT from their first session, scored in folds from 2021 on
YAHOO = DATA.parent / "yahoo"
YAHOO_START, YAHOO_FOLDS_FROM = date(2005, 10, 10), date(2021, 1, 1)
METHODS = (*INTERVAL_MODELS[:1], "naive", *INTERVAL_MODELS[1:], "published")
LEVELS = (80, 95)


def _method_metrics(pooled) -> dict:
    """One method's pooled metrics: h=1, and the interval score at every horizon."""
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
            f"interval_score_{level}_by_h": [m[f"interval_score_{level}"] for m in pooled.metrics]
            for level in LEVELS
        },
        **{
            f"interval_score_{level}_all_h": float(
                np.mean([m[f"interval_score_{level}"] for m in pooled.metrics])
            )
            for level in LEVELS
        },
    }


def _fold_metrics(fold) -> dict:
    """Each method's one-session interval scores and coverage on one fold."""
    return {
        "first_origin": str(fold.first_origin),
        "last_origin": str(fold.last_origin),
        "interval_model": fold.intervals.model,
        "methods": {
            name: {
                key: fold.scored[name].metrics[0][key]
                for level in LEVELS
                for key in (f"interval_score_{level}", f"coverage_{level}")
            }
            for name in METHODS
            if name in fold.scored
        },
    }


def evening_seconds(prices) -> dict[str, dict[str, float]]:
    """Each volatility model's seconds in one daily run: its spread at the calibration,
    holdout and latest origins, as `fit_candidates` and the publish stage ask for it.

    `first`: a first evening, nothing fitted before (caches cold, no fit folder).
    `next`: the evening after, one session later, with the first evening's fits kept
    in a fit folder (`tickercast.models.fit_store`) and the process fresh (caches cold): what
    a scheduled run costs on most evenings. The blend reuses GJR's and the HAR's fits
    of the same evening, so its seconds are what it adds to them.
    """
    spec = WindowSpec()
    gjr, har = Garch(leverage=True), LogHar()
    models = (
        EWMA(),
        Garch(),
        gjr,
        Garch(range_term=True),
        Garch(leverage=True, range_term=True),
        har,
        Blend(gjr, har),
    )
    seconds = {"first": {}, "next": {}}
    with tempfile.TemporaryDirectory() as folder, kept_in(Path(folder)):
        for evening, frame in (("first", prices.iloc[:-1]), ("next", prices)):
            history = History.of(frame)  # each evening's, as its run makes it
            split = split_origins(len(history), spec, "timing")
            origins = np.concatenate([split.calibration, split.holdout, [len(history) - 1]])
            for fit in (fit_garch, fit_range_garch, fit_har):
                fit.cache_clear()  # a fresh process each evening
            for model in models:
                started = time.perf_counter()
                model.spread(history, origins, spec.horizons)
                model.frozen(history)
                seconds[evening][model.name] = time.perf_counter() - started
    return seconds


def _ticker(ticker: str, settings: dict) -> dict:
    """Backtest one ticker and summarise every interval method; runs in a worker process."""
    started = time.perf_counter()
    prices, findings = _load(ticker, settings)
    config = ModelConfig(epochs=settings["epochs"])
    backtest = run_backtest(
        History.of(prices),
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
        "folds": [_fold_metrics(fold) for fold in backtest.folds],
        "origins": len(pooled["published"].current),
        "methods": {name: _method_metrics(pooled[name]) for name in METHODS},
        "interval_gate": [
            {"model": fold.intervals.model, "reason": fold.intervals.reason}
            for fold in backtest.folds
        ],
        "point_gate": [str(fold.decision.published) for fold in backtest.folds],
        "evening_seconds": evening_seconds(prices),
        "seconds": time.perf_counter() - started,
    }


def _load(ticker: str, settings: dict):
    """The ticker's prices: an S&P 500 member's from ../shared/data/sp500, or AAPL's and
    MSFT's from ../shared/data/yahoo (yfinance's auto-adjusted bars)."""
    folder = DATA if settings["source"] == "sp500" else YAHOO
    return load(ticker, date.fromisoformat(settings["start"]), folder=folder)


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
                "median_ratio_by_h": [
                    statistics.median(
                        r["methods"][method][f"interval_score_{level}_by_h"][h]
                        / r["methods"]["garch"][f"interval_score_{level}_by_h"][h]
                        for r in results
                    )
                    for h in range(
                        len(results[0]["methods"][method][f"interval_score_{level}_by_h"])
                    )
                ],
                "kupiec_rejects": sum(
                    r["methods"][method][f"kupiec_p_{level}"] < 0.05 for r in results
                ),
                "christoffersen_rejects": sum(
                    r["methods"][method][f"christoffersen_p_{level}"] < 0.05 for r in results
                ),
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


def _folds_table(results: list[dict]) -> tuple[str, list[dict]]:
    """Per fold: the median over tickers of the published intervals' and the best
    methods' one-session interval score relative to GARCH-t's, and published coverage."""
    shown = ("published", "gjr_conformal", "range_gjr", "har_conformal", "blend_conformal")
    rows, figures = [], []
    for number, fold in enumerate(results[0]["folds"]):
        entry = {"origins": f"{fold['first_origin']} to {fold['last_origin']}"}
        for method in shown:
            for level in LEVELS:
                key = f"interval_score_{level}"
                entry[f"{method}_{level}"] = statistics.median(
                    r["folds"][number]["methods"][method][key]
                    / r["folds"][number]["methods"]["garch"][key]
                    for r in results
                )
        for level in LEVELS:
            entry[f"published_coverage_{level}"] = statistics.median(
                r["folds"][number]["methods"]["published"][f"coverage_{level}"] for r in results
            )
        figures.append(entry)
        rows.append(
            f"| {number + 1}: {entry['origins']} | "
            + " | ".join(
                f"{entry[f'{method}_80']:.4f} / {entry[f'{method}_95']:.4f}" for method in shown
            )
            + f" | {entry['published_coverage_80']:.3f} / {entry['published_coverage_95']:.3f} |"
        )
    header = (
        "| fold (median over tickers, h=1, IS / GARCH at 80 / 95) | "
        + " | ".join(shown)
        + " | published coverage 80 / 95 |\n|"
        + "---|" * (len(shown) + 2)
    )
    return header + "\n" + "\n".join(rows), figures


def _settings(arguments) -> tuple[dict, str]:
    """The run's settings and its results' name: the S&P 500 sample, or AAPL and MSFT."""
    defaults = Settings(home=Path("."))
    if arguments.source == "sp500":
        settings = backtest_settings(arguments.epochs, FOLDS, START)
        settings |= {"seed": SEED, "source": "sp500"}
        name = NAME
    else:  # every 126-session fold from 2021 to the files' end
        folds = (
            len(_load("AAPL", {"source": "yahoo", "start": str(YAHOO_FOLDS_FROM)})[0]) - 5
        ) // 126
        settings = backtest_settings(arguments.epochs, folds, YAHOO_START) | {"source": "yahoo"}
        name = f"{NAME}_yahoo"
    settings["interval_significance"] = defaults.interval_significance
    settings["interval_models"] = list(INTERVAL_MODELS)  # a result before a new model reruns
    return settings, name


def main() -> None:
    arguments = sample_arguments(
        __doc__.splitlines()[0],
        30,
        {"--source": {"choices": ("sp500", "yahoo"), "default": "sp500"}},
    )
    started = time.perf_counter()
    settings, name = _settings(arguments)
    if arguments.source == "sp500":
        tickers, skipped = select(arguments.sample, SEED, START)
    else:
        tickers, skipped = ["AAPL", "MSFT"], {}
    print(f"tickers ({len(tickers)}): {' '.join(tickers)}; {settings['folds']} folds")
    for ticker, why in skipped.items():
        print(f"skipped {ticker}: {why}")
    results = run_tickers(_ticker, tickers, settings, RESULTS / name, arguments.jobs, _line)
    table, figures = _table(results)
    folds_table, fold_figures = _folds_table(results)
    print()
    print(table)
    print()
    print(folds_table)
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
    evening = {
        when: {
            model: statistics.median(r["evening_seconds"][when][model] for r in results)
            for model in results[0]["evening_seconds"][when]
        }
        for when in ("first", "next")
    }
    added = {
        when: statistics.median(
            sum(r["evening_seconds"][when][m] for m in BAR_MODELS) for r in results
        )
        for when in ("first", "next")
    }
    print()
    for level in LEVELS:
        p = published[level]
        print(
            f"published {level} %: median coverage {p['median_coverage']:.3f} "
            f"(range {p['min_coverage']:.3f}-{p['max_coverage']:.3f}; outside 3 SE: "
            f"{outside[level] or 'none'}), IS below GARCH's on {p['beats_garch']} of "
            f"{len(results)}, median ratio {p['median_ratio']:.4f}; by horizon "
            + " ".join(f"{v:.4f}" for v in p["median_ratio_by_h"])
            + f"; Kupiec p < 0.05 on {p['kupiec_rejects']}, Christoffersen on "
            f"{p['christoffersen_rejects']}"
        )
    print(f"interval gate choices over {settings['folds'] * len(results)} folds: {dict(gate)}")
    for when in ("first", "next"):
        print(
            f"median seconds per ticker-evening ({when} evening): "
            + ", ".join(f"{m} {s:.2f}" for m, s in evening[when].items())
            + f"; the daily bar's models together {added[when]:.2f}"
        )
    wall = time.perf_counter() - started
    print(f"wall {wall:.0f} s")
    path = write_result(
        name,
        {
            "settings": settings,
            "tickers": tickers,
            "skipped": skipped,
            "figures": figures,
            "folds": fold_figures,
            "published_outside_3se": outside,
            "interval_gate_choices": dict(gate),
            "median_evening_seconds": evening,
            "median_bar_models_seconds": added,
            "wall_seconds": wall,
            "table": table,
            "folds_table": folds_table,
        },
    )
    print(f"written {path}")


if __name__ == "__main__":
    main()
