"""Issue 13: one global LSTM against per-ticker LSTMs on the same S&P 500 members.

Tickers: the seeded sample of `--tickers` members (`sp500_sample.select`, seed
`--seed`, prices from `--start`'s first session). Universe: those tickers and the
next draws of the same seeded permutation (`sp500_sample._draws`: the sample, then
the rest of the members in seeded order), `--universe` in all, so the scored tickers
are always in it; a draw whose prices cannot be loaded is passed over, one whose
prices start after `--start` is kept (the global network pools whatever history a
ticker has, as `train-global` does; too short a history is skipped by
`pooled_windows`). `select(120, seed)` would not do: Python's `random.sample` draws
a different sequence for another size, so its 120 would not contain the 30.

Folds, one per `--as-of` (the last session on or before each date):

1. the global network, in this process: every universe member's history from
   `--start` up to the fold's session, pooled (`pooled_windows`, `GlobalConfig()`:
   each ticker's latest 500 fit windows and its calibration windows, normalised by
   its own scalers) and trained once (`train_network`, `ModelConfig(epochs=--epochs)`,
   stopping early on the pooled calibration windows); timed, saved (`save_global`);
2. per scored ticker (`--jobs` processes, one TensorFlow thread each when jobs > 1):
   `fit_candidates` as of the fold's session with a per-ticker plan (a fresh LSTM)
   and with the global plan (`plan_global`: the global network, loaded with
   `load_global`, on the ticker's own scalers, no fit), each timed. Each LSTM
   candidate is scored on its own holdout by the point gate (`decide` against naive,
   no champion, the daily run's margin and significance: the holdout gate alone,
   there being no live record), and, recalibrated as published (`recalibrated`),
   out of sample (`score`) on the `--origins` origins from the fold's session on
   whose five targets are in the data (it ends on 2021-04-21: the last default fold
   has fewer).

Reported per fold and pooled over folds (per ticker, the folds' origins together):
the median over tickers of each LSTM's rmse_ratio h=1 and its mean over h=1..5, of
the global LSTM's interval score at 80 and 95 % relative to the per-ticker LSTM's on
the same ticker (h=1, and mean over h), of coverage h=1; how many tickers each beats
naive on (rmse_ratio < 1) and how many folds the gate would publish it. Noise: the
per-ticker differences global - per-ticker of rmse_ratio (h=1 and mean over h)
resampled over tickers (paired bootstrap, 2,000 resamples, seeded with `--seed`):
95 % interval of their median. Cost: the global training seconds (pooling, fit),
that per universe member and per scored ticker; per ticker and fold the per-ticker
LSTM's fit seconds, its whole `fit_candidates`, and the global plan's
`fit_candidates` (and the network's load, apart).

    nice -n 10 .venv/bin/python benchmarks/global_vs_per_ticker.py [--jobs 2] \\
        [--universe 120] [--tickers 30] [--epochs 10] [--as-of 2019-12-31 ...]

Resumable: each fold's global network is kept in
benchmarks/results/global_vs_per_ticker[_<label>]/global/<as_of>/ (reused when its
settings match) and each ticker's result in .../tickers/<ticker>.json; the summary
goes to benchmarks/results/global_vs_per_ticker[_<label>].json, the label naming any
setting off the defaults.
"""

import argparse
import json
import os
import statistics
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from results_file import RESULTS, write_result  # noqa: E402
from sp500_sample import CALENDAR, DATA, _draws, load, run_tickers, select  # noqa: E402

from tickercast.data.history import History  # noqa: E402
from tickercast.data.tickers import read_universe  # noqa: E402
from tickercast.data.windows import WindowSpec, select_history  # noqa: E402
from tickercast.errors import InputError, NoPricesError, PriceDataError  # noqa: E402
from tickercast.evaluation.champion import Choice, decide  # noqa: E402
from tickercast.evaluation.policy_backtest import paired_bootstrap  # noqa: E402
from tickercast.evaluation.scores import Scored, mase_scales, pooled, score  # noqa: E402
from tickercast.models.fitting import Fitted, fit_candidates, recalibrated  # noqa: E402
from tickercast.models.global_network import (  # noqa: E402
    GlobalConfig,
    GlobalNetwork,
    load_global,
    pooled_windows,
    save_global,
)
from tickercast.models.network import train_network  # noqa: E402
from tickercast.models.network_config import ModelConfig  # noqa: E402
from tickercast.models.retraining import plan_global  # noqa: E402
from tickercast.settings import Settings  # noqa: E402

NAME = "global_vs_per_ticker"
MODELS = ("per_ticker", "global")
DEFAULTS = {
    "universe": 120,
    "tickers": 30,
    "seed": 12,
    "start": "2012-01-03",
    "as_of": ["2019-12-31", "2020-06-30", "2020-12-31"],
    "epochs": 10,
    "origins": 126,
}
RESAMPLES = 2000


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--universe", type=int, default=DEFAULTS["universe"])
    parser.add_argument("--tickers", type=int, default=DEFAULTS["tickers"], help="scored")
    parser.add_argument("--seed", type=int, default=DEFAULTS["seed"], help="the sample's seed")
    parser.add_argument("--start", type=date.fromisoformat, default=DEFAULTS["start"])
    parser.add_argument(
        "--as-of", type=date.fromisoformat, nargs="+", default=DEFAULTS["as_of"], dest="as_of"
    )
    parser.add_argument("--epochs", type=int, default=DEFAULTS["epochs"])
    parser.add_argument("--origins", type=int, default=DEFAULTS["origins"], help="per fold")
    parser.add_argument("--jobs", type=int, default=2, help="tickers side by side")
    arguments = parser.parse_args()
    arguments.as_of = sorted(date.fromisoformat(str(day)) for day in arguments.as_of)
    if arguments.universe < arguments.tickers:
        parser.error("--universe must hold the --tickers scored")
    return arguments


def _label(arguments: argparse.Namespace) -> str:
    """'' for the default settings, else those off the defaults, e.g. `u8_t4_e1`."""
    given = {
        "universe": arguments.universe,
        "tickers": arguments.tickers,
        "seed": arguments.seed,
        "start": str(arguments.start),
        "as_of": [str(day) for day in arguments.as_of],
        "epochs": arguments.epochs,
        "origins": arguments.origins,
    }
    short = {"universe": "u", "tickers": "t", "seed": "s", "epochs": "e", "origins": "o"}
    parts = []
    for key, value in given.items():
        if value == DEFAULTS[key]:
            continue
        if key == "as_of":
            parts.append("asof" + "_".join(value))
        elif key == "start":
            parts.append(f"from{value}")
        else:
            parts.append(f"{short[key]}{value}")
    return "_".join(parts)


def _plain(settings: dict) -> dict:
    """The settings as a kept JSON file reads them back (tuples as lists), to compare."""
    return json.loads(json.dumps(settings))


def universe_histories(
    size: int, sample: list[str], seed: int, start: date
) -> tuple[dict, dict[str, str]]:
    """The scored sample and the next loadable draws of its seeded permutation, `size`
    in all: each one's prices from `start`, and the draws passed over, why."""
    histories, passed = {ticker: load(ticker, start)[0] for ticker in sample}, {}
    for ticker in _draws(read_universe(DATA / "universe.txt"), len(sample), seed):
        if len(histories) >= size:
            break
        if ticker in histories:
            continue
        try:
            histories[ticker] = load(ticker, start)[0]
        except (NoPricesError, PriceDataError) as error:
            passed[ticker] = str(error)
    return histories, passed


def train_global(
    histories: dict, as_of: date, spec: WindowSpec, config: ModelConfig, folder: Path, key: dict
) -> dict:
    """The fold's global network, trained on the universe's histories up to `as_of` and
    saved in `folder` (or the one kept there with the same `key`); its training record."""
    record_path = folder / "training.json"
    if record_path.is_file() and (kept := json.loads(record_path.read_text()))["key"] == key:
        print(f"global network as of {as_of}: kept from an earlier run", flush=True)
        return kept
    started = time.perf_counter()
    selected, skipped = {}, {}
    for ticker, prices in histories.items():
        try:
            selected[ticker] = select_history(prices, ticker, None, as_of, CALENDAR)
        except InputError as error:
            skipped[ticker] = str(error)
    windows = pooled_windows(selected, spec, GlobalConfig())
    pool_seconds = time.perf_counter() - started
    trained = train_network(windows.fit, windows.calibration, config)
    last = max(selected[ticker]["session"].iloc[-1].date() for ticker in windows.tickers)
    save_global(GlobalNetwork(trained.network, spec, last, windows.tickers), folder)
    record = {
        "key": key,
        "as_of": str(last),
        "tickers": len(windows.tickers),
        "skipped": {**skipped, **windows.skipped},
        "fit_windows": len(windows.fit[1]),
        "calibration_windows": len(windows.calibration[1]),
        "epochs_run": len(trained.history["loss"]),
        "best_epoch": trained.best_epoch,
        "history": trained.history,
        "pool_seconds": pool_seconds,
        "fit_seconds": trained.fit_seconds,
        "seconds": time.perf_counter() - started,
        "cpu_count": os.cpu_count(),
    }
    record_path.write_text(json.dumps(record, indent=1))
    print(
        f"global network as of {last}: {record['tickers']} tickers, {record['fit_windows']:,} "
        f"fit windows, {record['epochs_run']} epochs (kept {trained.best_epoch}) in "
        f"{trained.fit_seconds:.0f} s + {pool_seconds:.1f} s pooling",
        flush=True,
    )
    return record


def _figures(scored: Scored) -> dict:
    """What the summary reads of one LSTM's scores: rmse_ratio, coverage, interval score."""
    metrics = scored.metrics
    figures = {
        "rmse_ratio": [m["rmse_ratio"] for m in metrics],
        "rmse_ratio_h1": metrics[0]["rmse_ratio"],
        "rmse_ratio_mean": scored.mean_rmse_ratio,
    }
    for level in (80, 95):
        figures[f"coverage_{level}_h1"] = metrics[0][f"coverage_{level}"]
        figures[f"interval_score_{level}_h1"] = metrics[0][f"interval_score_{level}"]
        figures[f"interval_score_{level}_mean"] = float(
            np.mean([m[f"interval_score_{level}"] for m in metrics])
        )
    return figures


def _timed_fit(history, ticker: str, spec: WindowSpec, config: ModelConfig, plan=None):
    started = time.perf_counter()
    fitted = fit_candidates(history, ticker, spec, config, plan)
    return fitted, time.perf_counter() - started


def _ticker(ticker: str, settings: dict) -> dict:
    """Both LSTMs of one ticker in every fold (runs in a worker process; `run_tickers`
    writes the result, with "ticker" and "settings", to its file)."""
    started = time.perf_counter()
    spec, config = WindowSpec(), ModelConfig(epochs=settings["epochs"])
    prices, findings = load(ticker, date.fromisoformat(settings["start"]))
    last_known = len(prices) - 1 - spec.horizons  # the last origin whose targets are known
    sessions = prices["session"].dt.date.to_numpy()
    whole = History.of(prices)
    folds, parts = [], {name: [] for name in MODELS}
    for as_of, folder in zip(settings["as_of"], settings["global_folders"], strict=True):
        history = History.of(
            select_history(prices, ticker, None, date.fromisoformat(as_of), CALENDAR)
        )
        first = len(history) - 1
        origins = np.arange(first, min(first + settings["origins"], last_known + 1))
        if not len(origins):
            raise SystemExit(f"{ticker}: no origin after {as_of} has its targets in the data")
        fitted: dict[str, Fitted] = {}
        fitted["per_ticker"], per_seconds = _timed_fit(history, ticker, spec, config)
        loading = time.perf_counter()
        network = load_global(Path(folder))
        load_seconds = time.perf_counter() - loading
        plan = plan_global(network, f"global as of {network.as_of}", ticker, sessions[first], spec)
        fitted["global"], global_seconds = _timed_fit(history, ticker, spec, config, plan)
        split = fitted["per_ticker"].split  # both fits split the same history alike
        scales = mase_scales(history, split.fit, spec.horizons)
        naive = score(
            "naive", fitted["per_ticker"].candidates["naive"], history, split.holdout, spec, scales
        )
        models = {}
        for name, fit in fitted.items():
            lstm = fit.candidates["lstm"]
            holdout = score(name, lstm, history, fit.split.holdout, spec, scales)
            decision = decide(holdout, naive, None, settings["margin"], settings["significance"])
            scored = score(
                name, recalibrated(lstm, history, fit.split, spec), whole, origins, spec, scales
            )
            parts[name].append(scored)
            models[name] = {
                **_figures(scored),
                "holdout_rmse_ratio_mean": holdout.mean_rmse_ratio,
                "holdout_dm_pvalue_h1": holdout.metrics[0]["dm_pvalue"],
                "published": str(decision.published),
                "reason": decision.reason,
            }
        folds.append(
            {
                "as_of": str(sessions[first]),
                "origins": len(origins),
                "first_origin": str(sessions[origins[0]]),
                "last_origin": str(sessions[origins[-1]]),
                "models": models,
                "seconds": {
                    "per_ticker_lstm_fit": fitted["per_ticker"].trained.fit_seconds,
                    "per_ticker_fit_candidates": per_seconds,
                    "global_load": load_seconds,
                    "global_fit_candidates": global_seconds,
                },
            }
        )
    return {
        "first_session": str(sessions[0]),
        "last_session": str(sessions[-1]),
        "quality_findings": findings,
        "folds": folds,
        "pooled": {name: _figures(pooled(name, parts[name])) for name in MODELS},
        "seconds": time.perf_counter() - started,
    }


def _line(result: dict) -> str:
    """One finished ticker: pooled rmse_ratio h=1 of each LSTM, publications, seconds."""
    cells = []
    for name in MODELS:
        published = sum(f["models"][name]["published"] == Choice.LSTM for f in result["folds"])
        cells.append(f"{name} {result['pooled'][name]['rmse_ratio_h1']:.4f} pub {published}")
    return f"{result['ticker']:6} {result['seconds']:6.0f} s  " + "  ".join(cells)


def _accuracy(rows: list[dict[str, dict]], published: list[int], seed: int) -> dict:
    """Over tickers (one row each: per model its figures): medians, counts, the global
    LSTM relative to the per-ticker one, and the noise of their difference."""
    summary: dict = {}
    for name in MODELS:
        figures = [row[name] for row in rows]
        summary[name] = {
            **{
                key: statistics.median(f[key] for f in figures)
                for key in ("rmse_ratio_h1", "rmse_ratio_mean", "coverage_80_h1", "coverage_95_h1")
            },
            "beats_naive_h1": sum(f["rmse_ratio_h1"] < 1 for f in figures),
            "beats_naive_mean": sum(f["rmse_ratio_mean"] < 1 for f in figures),
        }
    for name, count in zip(MODELS, published, strict=True):
        summary[name]["published"] = count
    summary["global_relative"] = {
        f"interval_score_{level}_{where}": statistics.median(
            row["global"][f"interval_score_{level}_{where}"]
            / row["per_ticker"][f"interval_score_{level}_{where}"]
            for row in rows
        )
        for level in (80, 95)
        for where in ("h1", "mean")
    }
    summary["difference"] = {
        key: asdict(
            paired_bootstrap(
                np.array([row["global"][key] - row["per_ticker"][key] for row in rows]),
                np.median,
                RESAMPLES,
                seed,
            )
        )
        for key in ("rmse_ratio_h1", "rmse_ratio_mean")
    }
    return summary


def _summary(results: list[dict], trainings: list[dict], seed: int) -> dict:
    """Accuracy per fold and pooled; cost per fold and overall."""
    folds = {}
    for index, training in enumerate(trainings):
        fold = [result["folds"][index] for result in results]
        published = [
            sum(f["models"][name]["published"] == Choice.LSTM for f in fold) for name in MODELS
        ]
        seconds = {
            key: float(np.mean([f["seconds"][key] for f in fold])) for key in fold[0]["seconds"]
        }
        folds[training["as_of"]] = {
            "origins": sorted({f["origins"] for f in fold}),
            "origin_span": [fold[0]["first_origin"], fold[0]["last_origin"]],
            **_accuracy([f["models"] for f in fold], published, seed),
            "cost": {
                "global_training_seconds": training["seconds"],
                "global_fit_seconds": training["fit_seconds"],
                "global_pool_seconds": training["pool_seconds"],
                "global_epochs_run": training["epochs_run"],
                "global_fit_windows": training["fit_windows"],
                "universe_trained": training["tickers"],
                "global_seconds_per_universe_ticker": training["seconds"] / training["tickers"],
                "global_seconds_per_scored_ticker": training["seconds"] / len(results),
                **{f"{key}_per_ticker": value for key, value in seconds.items()},
            },
        }
    published = [
        sum(f["models"][name]["published"] == Choice.LSTM for r in results for f in r["folds"])
        for name in MODELS
    ]
    pooled_folds = _accuracy([result["pooled"] for result in results], published, seed)
    costs = [fold["cost"] for fold in folds.values()]
    overall_cost = {key: float(np.mean([c[key] for c in costs])) for key in costs[0]}
    return {"folds": folds, "pooled": pooled_folds, "cost_mean_over_folds": overall_cost}


def _interval(difference: dict) -> str:
    return f"{difference['estimate']:+.4f} [{difference['lower']:+.4f}, {difference['upper']:+.4f}]"


def _print_tables(summary: dict, tickers: int, folds: int) -> None:
    print(
        f"\nLSTM rmse_ratio against naive, median over {tickers} tickers (per-ticker / global), "
        "the median per-ticker difference global - per-ticker [95 % paired bootstrap]"
    )
    print(
        f"{'fold':10} {'origins':>7} | {'h=1':>13} {'difference':>27} | {'mean h=1..5':>13} "
        f"{'difference':>27}"
    )
    rows = [(day, fold) for day, fold in summary["folds"].items()] + [("pooled", summary["pooled"])]
    for day, row in rows:
        origins = "/".join(str(n) for n in row.get("origins", [])) or "all"
        cells = []
        for key in ("rmse_ratio_h1", "rmse_ratio_mean"):
            cells.append(
                f"{row['per_ticker'][key]:.4f}/{row['global'][key]:.4f} "
                f"{_interval(row['difference'][key]):>27}"
            )
        print(f"{day:10} {origins:>7} | " + " | ".join(cells))
    print(
        f"\n{'fold':10} | {'IS global/per-ticker':^27} | {'coverage h=1 (per/global)':^25} | "
        f"{'beat naive h=1':^14} | {'gate publishes':^14}"
    )
    print(
        f"{'':10} | {'80 h1':>6} {'80 mean':>7} {'95 h1':>5} {'95 mean':>7} | {'80':>12} "
        f"{'95':>12} | {'per':>6} {'global':>7} | {'per':>6} {'global':>7}"
    )
    for day, row in rows:
        relative = row["global_relative"]
        per, glob = row["per_ticker"], row["global"]
        out_of = tickers * (folds if day == "pooled" else 1)
        print(
            f"{day:10} | {relative['interval_score_80_h1']:6.3f} "
            f"{relative['interval_score_80_mean']:7.3f} {relative['interval_score_95_h1']:5.3f} "
            f"{relative['interval_score_95_mean']:7.3f} | "
            f"{per['coverage_80_h1']:.3f}/{glob['coverage_80_h1']:.3f} "
            f"{per['coverage_95_h1']:.3f}/{glob['coverage_95_h1']:.3f} | "
            f"{per['beats_naive_h1']:>6} {glob['beats_naive_h1']:>7} | "
            f"{per['published']:>3}/{out_of:<3}{glob['published']:>4}/{out_of:<3}"
        )
    print(
        f"\ncost in seconds | {'global: train':>13} {'(fit)':>6} {'epochs':>6} "
        f"{'/universe tk':>12} {'/scored tk':>10} | per ticker: {'lstm fit':>8} "
        f"{'fit_cand.':>9} | global plan: {'fit_cand.':>9} {'load':>5}"
    )
    for day, fold in summary["folds"].items():
        c = fold["cost"]
        print(
            f"{day:15} | {c['global_training_seconds']:13.0f} {c['global_fit_seconds']:6.0f} "
            f"{c['global_epochs_run']:6} {c['global_seconds_per_universe_ticker']:12.2f} "
            f"{c['global_seconds_per_scored_ticker']:10.2f} | "
            f"{'':12}{c['per_ticker_lstm_fit_per_ticker']:8.1f} "
            f"{c['per_ticker_fit_candidates_per_ticker']:9.1f} | "
            f"{'':13}{c['global_fit_candidates_per_ticker']:9.1f} "
            f"{c['global_load_per_ticker']:5.2f}"
        )


def main() -> None:
    arguments = _arguments()
    label = _label(arguments)
    name = f"{NAME}_{label}" if label else NAME
    folder = RESULTS / name
    started = time.perf_counter()
    defaults = Settings(home=Path("."))
    spec, config = WindowSpec(), ModelConfig(epochs=arguments.epochs)
    tickers, skipped = select(arguments.tickers, arguments.seed, arguments.start)
    histories, passed = universe_histories(
        arguments.universe, tickers, arguments.seed, arguments.start
    )
    universe = list(histories)
    print(f"scored tickers ({len(tickers)}): {' '.join(tickers)}")
    for ticker, why in skipped.items():
        print(f"replaced in the sample: {ticker}: {why}")
    print(
        f"universe ({len(universe)}): the scored tickers and {' '.join(universe[len(tickers) :])}"
    )
    for ticker, why in passed.items():
        print(f"passed over for the universe: {ticker}: {why}")
    common = {
        "start": str(arguments.start),
        "epochs": arguments.epochs,
        "spec": asdict(spec),
        "config": config.as_params(),
        "global_config": asdict(GlobalConfig()),
    }
    trainings = []
    for as_of in arguments.as_of:
        key = _plain({**common, "as_of": str(as_of), "universe": universe})
        trainings.append(
            train_global(histories, as_of, spec, config, folder / "global" / str(as_of), key)
        )
    del histories  # the workers load their own
    settings = _plain(
        {
            **common,
            "as_of": [str(day) for day in arguments.as_of],
            "origins": arguments.origins,
            "margin": defaults.gate_margin,
            "significance": defaults.gate_significance,
            "global_folders": [str(folder / "global" / str(day)) for day in arguments.as_of],
            # a retrained global network makes every ticker's kept result stale
            "global_val_loss": [training["history"]["val_loss"] for training in trainings],
        }
    )
    print("per ticker: pooled rmse_ratio h=1 of each LSTM, folds the gate would publish it")
    finished = run_tickers(
        _ticker,
        tickers,
        settings,
        folder / "tickers",
        arguments.jobs,
        lambda r: print(_line(r), flush=True),
    )
    summary = _summary(finished, trainings, arguments.seed)
    _print_tables(summary, len(tickers), len(arguments.as_of))
    wall = time.perf_counter() - started
    print(f"\nwall time {wall:.0f} s this run, {arguments.jobs} tickers at a time")
    out = write_result(
        name,
        {
            "settings": {
                **{k: v for k, v in settings.items() if k != "global_val_loss"},
                "universe": arguments.universe,
                "tickers": arguments.tickers,
                "seed": arguments.seed,
                "jobs": arguments.jobs,
                "resamples": RESAMPLES,
            },
            "tickers": tickers,
            "replaced_in_sample": skipped,
            "universe": universe,
            "passed_over_for_universe": passed,
            "global_trainings": trainings,
            "summary": summary,
            "per_ticker": {
                r["ticker"]: {k: v for k, v in r.items() if k != "settings"} for r in finished
            },
            "wall_seconds_this_run": wall,
        },
    )
    print(f"written to {out} (global networks and per-ticker results: {folder})")


if __name__ == "__main__":
    main()
