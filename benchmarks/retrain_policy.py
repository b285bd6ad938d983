"""Retrain policies replayed evening by evening on S&P 500 members: accuracy and cost.

A seeded sample of the members in ../shared/data/sp500 (`sp500_sample.select`), each
from `--start`: every policy in `tickercast.models.retraining.POLICIES` (daily full
retrains; weekly or monthly full retrains with daily fine-tunes; monthly full
retrains reusing the network between; no retrain after the first evening), or those
of `--policies` with daily always among them, is replayed over the `--sessions`
consecutive sessions from `--first`
(`replay_policies`: each evening plans from the previous evening's network, fits
every candidate as of its session with the daily run's default windows and the
LSTM at `--epochs`, and forecasts from the session with the LSTM's intervals
recalibrated as published). The forecasts are scored against the prices that
followed.

Per policy, over tickers: the median rmse_ratio of the LSTM against naive (h=1, and
averaged over h=1..5), the median interval score at 80 and 95 % (over every evening
and horizon) relative to the daily policy's on the same ticker, the mean coverage,
and the LSTM's fit seconds and the whole `fit_candidates` seconds per ticker-day.

Noise: per policy, the per-ticker differences from the daily policy (rmse_ratio h=1
and mean over h; relative interval score 80 and 95 minus 1) are resampled over
tickers (a paired bootstrap, 2,000 resamples, seeded) for a 95 % interval of their
median and of their mean. A policy is within noise of daily when none of those
intervals lies wholly above 0 (worse). That alone passes a policy whenever the sample
is too small to show harm, so the recommended default must also be non-inferior: no
interval may reach above `MARGIN` (1 % of naive's RMSE for rmse_ratio, 1 % of daily's
interval score). The recommendation is the cheapest policy that is both, by
`fit_candidates` seconds per ticker-day. Choose on development data, then report on
another sample and period:

    # development: pick the default
    nice -n 10 .venv/bin/python benchmarks/retrain_policy.py --label dev16 --tickers 16 \\
        --seed 7 --first 2019-03-01 --sessions 21 --start 2014-01-01 --jobs 2 \\
        --policies daily,weekly+reuse,monthly+reuse
    # report: the held-out sample and period, a cheaper default against daily
    nice -n 10 .venv/bin/python benchmarks/retrain_policy.py --label report --tickers 30 \\
        --seed 12 --first 2020-11-02 --sessions 21 --start 2015-01-01 --jobs 2 \\
        --policies daily,monthly+reuse

Resumable: each ticker's replays (with every evening's losses) are written to
benchmarks/results/retrain_policy_<label>/ as they finish, and a rerun with the same
settings skips them; the summary goes to benchmarks/results/retrain_policy_<label>.json.
"""

import argparse
import json
import os
import statistics
import time
from dataclasses import asdict
from datetime import date, timedelta

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from results_file import RESULTS, write_result  # noqa: E402
from sp500_sample import CALENDAR, load, run_tickers, select  # noqa: E402

from tickercast.data.calendar import sessions_between  # noqa: E402
from tickercast.data.history import History  # noqa: E402
from tickercast.data.windows import WindowSpec  # noqa: E402
from tickercast.evaluation.policy_backtest import PolicyReplay, paired_bootstrap, replay_policies  # noqa: E402
from tickercast.models.conformal import LEVELS  # noqa: E402
from tickercast.models.network_config import ModelConfig  # noqa: E402
from tickercast.models.retraining import POLICIES, Cadence, RetrainPolicy, Training  # noqa: E402

NAME = "retrain_policy"
REFERENCE = next(policy for policy in POLICIES if policy.cadence is Cadence.DAILY).name
# the per-ticker differences from the daily policy whose noise is judged
DIFFERENCES = ("rmse_ratio_h1", "rmse_ratio", "interval_score_80", "interval_score_95")
# averaged over tickers (coverage over 21 evenings is lumpy; seconds add up)
MEANS = ("coverage_80", "coverage_95", "coverage_95_h1", "lstm_fit_seconds", "fit_seconds")
STATISTICS = {"median": np.median, "mean": np.mean}
RESAMPLES = 2000
# How much worse than daily a default may be, at most, for every difference above: a
# policy whose intervals reach further could be that much worse for all we know.
MARGIN = 0.01


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, default=8, help="members to sample")
    parser.add_argument("--seed", type=int, default=7, help="the sample's seed")
    parser.add_argument("--first", type=date.fromisoformat, default=date(2019, 3, 1))
    parser.add_argument("--sessions", type=int, default=21, help="evenings replayed")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2014, 1, 1))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2, help="tickers side by side")
    parser.add_argument("--label", help="names the results (default: from the options)")
    parser.add_argument(
        "--policies",
        type=_policies,
        default=[policy.name for policy in POLICIES],
        help=f"comma-separated, compared with {REFERENCE} (default: all of POLICIES)",
    )
    return parser.parse_args()


def _evenings(first: date, sessions: int) -> tuple[date, date]:
    """The first and last of `sessions` consecutive sessions from `first` on."""
    days = sessions_between(first, first + timedelta(days=2 * sessions + 10), CALENDAR)
    return days[0].date(), days[sessions - 1].date()


def _policy_result(replay: PolicyReplay) -> dict:
    """One policy's replay of one ticker, with every evening's losses, for JSON."""
    levels = {round(level * 100): level for level in LEVELS}
    return {
        "trainings": [str(training) for training in replay.trainings],
        "lstm_fit_seconds": [evening.fit.lstm_fit_seconds for evening in replay.evenings],
        "fit_seconds": [evening.fit.fit_seconds for evening in replay.evenings],
        "rmse_ratio": replay.rmse_ratios.tolist(),
        **{f"coverage_{pct}": replay.coverage(level).tolist() for pct, level in levels.items()},
        # (evenings, horizons): the per-day losses, in prices
        "squared_errors": replay.squared_errors.tolist(),
        **{
            f"interval_scores_{pct}": replay.interval_scores(level).tolist()
            for pct, level in levels.items()
        },
    }


def _policies(text: str) -> list[str]:
    """`--policies`: names as the settings spell them, the daily reference first."""
    named = [RetrainPolicy.parse(name).name for name in text.split(",")]
    return [REFERENCE, *(name for name in named if name != REFERENCE)]


def _replay(ticker: str, settings: dict) -> dict:
    """Replay every policy on one ticker (its result file, with "ticker" and "settings",
    is written by `run_tickers`); runs in a worker process."""
    started = time.perf_counter()
    prices, findings = load(ticker, date.fromisoformat(settings["start"]))
    first, last = (date.fromisoformat(day) for day in settings["evenings"])
    replays = replay_policies(
        History.of(prices),
        ticker,
        WindowSpec(),
        ModelConfig(epochs=settings["epochs"]),
        [RetrainPolicy.parse(name) for name in settings["policies"]],
        first,
        last,
    )
    return {
        "first_session": str(prices["session"].iloc[0].date()),
        "quality_findings": findings,
        "evenings": [str(evening.session) for evening in next(iter(replays.values())).evenings],
        "policies": {policy.name: _policy_result(replay) for policy, replay in replays.items()},
        "seconds": time.perf_counter() - started,
    }


def _ticker_figures(result: dict) -> dict[str, dict[str, float]]:
    """Per policy, one ticker's headline figures; interval scores relative to daily's."""
    policies = result["policies"]
    daily = policies[REFERENCE]
    figures = {}
    for name, policy in policies.items():
        figures[name] = {
            "rmse_ratio_h1": policy["rmse_ratio"][0],
            "rmse_ratio": float(np.mean(policy["rmse_ratio"])),
            **{
                f"interval_score_{pct}": float(
                    np.mean(policy[f"interval_scores_{pct}"])
                    / np.mean(daily[f"interval_scores_{pct}"])
                )
                for pct in (80, 95)
            },
            **{f"coverage_{pct}": float(np.mean(policy[f"coverage_{pct}"])) for pct in (80, 95)},
            "coverage_95_h1": policy["coverage_95"][0],
            "lstm_fit_seconds": float(np.mean(policy["lstm_fit_seconds"])),
            "fit_seconds": float(np.mean(policy["fit_seconds"])),
        }
    return figures


def _noise(figures: list[dict[str, dict[str, float]]], name: str, seed: int) -> dict:
    """The paired bootstrap of one policy's per-ticker differences from daily."""
    noise = {}
    for metric in DIFFERENCES:
        differences = np.array([f[name][metric] - f[REFERENCE][metric] for f in figures])
        noise[metric] = {
            label: asdict(paired_bootstrap(differences, statistic, RESAMPLES, seed))
            for label, statistic in STATISTICS.items()
        }
    return noise


def _summary(results: list[dict], seed: int) -> dict:
    """Per policy: the medians over tickers, costs, and the noise of its differences."""
    figures = [_ticker_figures(result) for result in results]
    summary = {}
    for name in results[0]["policies"]:
        rows = [f[name] for f in figures]
        trainings = [t for result in results for t in result["policies"][name]["trainings"]]
        noise = _noise(figures, name, seed)
        summary[name] = {
            **{metric: statistics.median(row[metric] for row in rows) for metric in DIFFERENCES},
            **{metric: float(np.mean([row[metric] for row in rows])) for metric in MEANS},
            "trainings": {str(kind): trainings.count(str(kind)) for kind in Training},
            "noise": noise,
            "within_noise": not any(
                interval["lower"] > 0 for by in noise.values() for interval in by.values()
            ),
            "non_inferior": all(
                interval["upper"] <= MARGIN for by in noise.values() for interval in by.values()
            ),
        }
    return summary


def _recommended(summary: dict) -> str:
    """The cheapest policy within noise of daily and non-inferior (daily always is)."""
    passing = [n for n, row in summary.items() if row["within_noise"] and row["non_inferior"]]
    return min(passing, key=lambda name: summary[name]["fit_seconds"])


def _line(result: dict) -> str:
    figures = _ticker_figures(result)
    cells = [
        f"{name} {row['rmse_ratio']:.4f}/{row['interval_score_95']:.3f}/{row['fit_seconds']:.1f}s"
        for name, row in figures.items()
    ]
    return f"{result['ticker']:6} {result['seconds']:6.0f} s  " + "  ".join(cells)


def _print_tables(summary: dict) -> None:
    print(
        f"\n{'policy':18} {'ratio h1':>8} {'ratio':>7} {'IS80 rel':>8} {'IS95 rel':>8} "
        f"{'cov80':>6} {'cov95':>6} {'lstm s/d':>8} {'fit s/d':>8}  evenings"
    )
    for name, row in summary.items():
        counts = ", ".join(f"{n} {kind}" for kind, n in row["trainings"].items() if n)
        print(
            f"{name:18} {row['rmse_ratio_h1']:8.4f} {row['rmse_ratio']:7.4f} "
            f"{row['interval_score_80']:8.4f} {row['interval_score_95']:8.4f} "
            f"{row['coverage_80']:6.3f} {row['coverage_95']:6.3f} "
            f"{row['lstm_fit_seconds']:8.2f} {row['fit_seconds']:8.2f}  {counts}"
        )
    print(f"\ndifference from {REFERENCE} over tickers, 95 % paired bootstrap ({RESAMPLES})")
    for name, row in summary.items():
        if name == REFERENCE:
            continue
        for label in STATISTICS:
            cells = [
                f"{metric} {b['estimate']:+.4f} [{b['lower']:+.4f}, {b['upper']:+.4f}]"
                for metric, by in row["noise"].items()
                for b in (by[label],)
            ]
            print(f"{name:18} {label:6} " + "  ".join(cells))
        print(
            f"{'':18} within noise of {REFERENCE}: {row['within_noise']}; "
            f"non-inferior (no interval above +{MARGIN}): {row['non_inferior']}"
        )


def main() -> None:
    arguments = _arguments()
    first, last = _evenings(arguments.first, arguments.sessions)
    label = arguments.label or (
        f"{arguments.tickers}_seed{arguments.seed}_{first}_{arguments.sessions}"
    )
    started = time.perf_counter()
    settings = {
        "epochs": arguments.epochs,
        "start": str(arguments.start),
        "evenings": [str(first), str(last)],
        "policies": arguments.policies,
        # as JSON reads it back (a tuple comes back a list): a kept result's must equal it
        "spec": json.loads(json.dumps(asdict(WindowSpec()))),
        "config": ModelConfig(epochs=arguments.epochs).as_params(),
    }
    tickers, skipped = select(arguments.tickers, arguments.seed, arguments.start)
    print(f"evenings {first} to {last}; tickers ({len(tickers)}): {' '.join(tickers)}")
    for ticker, why in skipped.items():
        print(f"skipped {ticker}: {why}")
    print("per ticker and policy: mean-over-h rmse_ratio / IS95 relative to daily / fit s")
    folder = RESULTS / f"{NAME}_{label}"
    finished = run_tickers(
        _replay, tickers, settings, folder, arguments.jobs, lambda r: print(_line(r), flush=True)
    )
    summary = _summary(finished, arguments.seed)
    recommended = _recommended(summary)
    _print_tables(summary)
    print(f"\ncheapest within noise of {REFERENCE} and non-inferior: {recommended}")
    wall = time.perf_counter() - started
    print(f"wall time {wall:.0f} s this run, {arguments.jobs} tickers at a time")
    out = write_result(
        f"{NAME}_{label}",
        {
            "settings": {
                **settings,
                "tickers": arguments.tickers,
                "seed": arguments.seed,
                "jobs": arguments.jobs,
                "resamples": RESAMPLES,
                "margin": MARGIN,
            },
            "tickers": tickers,
            "skipped": skipped,
            "policies": summary,
            "recommended": recommended,
            "rule": "the cheapest policy (fit_candidates seconds per ticker-day) none of "
            "whose 95 % paired-bootstrap intervals of the median and mean difference "
            f"from daily lies wholly above 0 or reaches above {MARGIN}",
            "per_ticker": {r["ticker"]: _ticker_figures(r) for r in finished},
            "wall_seconds_this_run": wall,
        },
    )
    print(f"written to {out} (per ticker, with every evening's losses: {folder})")


if __name__ == "__main__":
    main()
