"""Which incumbent the interval gate should defend, chosen on development data only.

The interval gate publishes a challenger's intervals when they beat the incumbent's
on the holdout (`decide_intervals`). Which method should hold when nothing beats it,
and how strict the test should be, is decided here, on data that the reported
benchmark (benchmarks/intervals_sp500.py: seed 12, folds from 2018-10 to 2021-04)
never scores: 10 other seeded S&P 500 members (seed 7) from 2003-01-01 to 2012-12-31,
5 folds of 126 sessions (2010-07 to 2012-12), the LSTM at 10 epochs.

Each gate variant (incumbent, margin, significance) replays its choices on every
fold's own holdout, and the chosen intervals are scored on the fold, pooled; the
figure of merit is the one-session interval score relative to GARCH(1,1)-t's, at
80 % and 95 %: the median over tickers and the count at or below 1. Significance 1.0
with margin 0 is "the holdout's best wins", the loosest gate. Each interval method
alone (no gate) is scored the same way, to see which earns a place (the daily bar's
models of issue 24 among them).

    nice -n 10 .venv/bin/python benchmarks/interval_gate_dev.py [--jobs 2]
"""

import os
import statistics
from datetime import date

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from results_file import RESULTS, write_result  # noqa: E402
from sp500_sample import arguments as sample_arguments
from sp500_sample import load, run_tickers, select  # noqa: E402

from tickercast.data.history import History  # noqa: E402
from tickercast.data.windows import WindowSpec  # noqa: E402
from tickercast.evaluation.backtest import run_backtest  # noqa: E402
from tickercast.evaluation.interval_gate import decide_intervals  # noqa: E402
from tickercast.evaluation.scores import pooled  # noqa: E402
from tickercast.models.candidates import INTERVAL_MODELS  # noqa: E402
from tickercast.models.network_config import ModelConfig  # noqa: E402

NAME = "interval_gate_dev"
START, END, SEED, SAMPLE, FOLDS = date(2003, 1, 1), date(2012, 12, 31), 7, 10, 5
INCUMBENTS = (
    "naive",
    "garch_conformal",
    "gjr_conformal",
    "range_garch_conformal",
    "range_gjr_conformal",
    "har_conformal",
    "blend_conformal",
)
VARIANTS = [
    (incumbent, margin, significance)
    for incumbent in INCUMBENTS
    for margin, significance in ((0.01, 0.1), (0.01, 0.01), (0.0, 1.0))
]
LEVELS = (80, 95)


def _variant_scores(backtest, incumbent: str, margin: float, significance: float) -> dict:
    """The variant's pooled one-session scores, its choices, relative to GARCH-t's."""
    folds = []
    choices = []
    for fold in backtest.folds:
        choice = decide_intervals(fold.holdout, margin, significance, incumbent).model
        choices.append(choice)
        point = fold.scored[fold.decision.published]
        folds.append(
            point if choice == "naive" else point.with_intervals("variant", fold.scored[choice])
        )
    variant = pooled("variant", folds).metrics[0]
    garch = pooled("garch", [fold.scored["garch"] for fold in backtest.folds]).metrics[0]
    return {
        "choices": choices,
        **{f"coverage_{level}": variant[f"coverage_{level}"] for level in LEVELS},
        **{
            f"ratio_{level}": variant[f"interval_score_{level}"] / garch[f"interval_score_{level}"]
            for level in LEVELS
        },
    }


def _method_scores(backtest, method: str) -> dict:
    """One interval method's pooled one-session scores relative to GARCH-t's."""
    folds = backtest.folds
    alone = pooled(method, [fold.scored[method] for fold in folds]).metrics[0]
    garch = pooled("garch", [fold.scored["garch"] for fold in folds]).metrics[0]
    return {
        **{f"coverage_{level}": alone[f"coverage_{level}"] for level in LEVELS},
        **{
            f"ratio_{level}": alone[f"interval_score_{level}"] / garch[f"interval_score_{level}"]
            for level in LEVELS
        },
    }


def _ticker(ticker: str, settings: dict) -> dict:
    prices, _ = load(ticker, START, END)
    backtest = run_backtest(
        History.of(prices), ticker, WindowSpec(), ModelConfig(epochs=settings["epochs"]), FOLDS
    )
    return {
        "methods": {
            method: _method_scores(backtest, method) for method in ("naive", *INTERVAL_MODELS)
        },
        "variants": {
            f"{incumbent} {margin} {significance}": _variant_scores(
                backtest, incumbent, margin, significance
            )
            for incumbent, margin, significance in VARIANTS
        },
    }


def _line(result: dict) -> None:
    print(result["ticker"], flush=True)


def _summary(entries: dict[str, list[dict]], title: str, counted: str) -> tuple[str, dict]:
    """A table row per variant or method: the median ratio to GARCH-t's and coverage
    over tickers, and the tickers `counted` ("at most" or "below") GARCH's."""
    figures, lines = {}, []
    count = f"{counted.replace(' ', '_')}_garch"
    for name, rows in entries.items():
        figures[name] = {
            f"{what}_{level}": statistics.median(e[f"{what}_{level}"] for e in rows)
            for what in ("ratio", "coverage")
            for level in LEVELS
        } | {
            f"{count}_{level}": sum(
                e[f"ratio_{level}"] <= 1 if counted == "at most" else e[f"ratio_{level}"] < 1
                for e in rows
            )
            for level in LEVELS
        }
        f = figures[name]
        lines.append(
            f"| {name} | "
            + " | ".join(
                f"{f[f'ratio_{level}']:.4f} | {f[f'{count}_{level}']} | "
                f"{f[f'coverage_{level}']:.3f}"
                for level in LEVELS
            )
            + " |"
        )
    header = (
        f"| {title} | IS 80 / GARCH | {counted} GARCH | cov 80 | IS 95 / GARCH | "
        f"{counted} GARCH | cov 95 |\n|---|---|---|---|---|---|---|\n"
    )
    return header + "\n".join(lines), figures


def main() -> None:
    arguments = sample_arguments(__doc__.splitlines()[0], SAMPLE)
    settings = {
        "epochs": arguments.epochs,
        "start": str(START),
        "end": str(END),
        "seed": SEED,
        "methods": list(INTERVAL_MODELS),  # a result from before a new method is rerun
    }
    tickers, skipped = select(arguments.sample, SEED, START)
    print(f"tickers ({len(tickers)}): {' '.join(tickers)}; skipped {skipped}")
    results = run_tickers(_ticker, tickers, settings, RESULTS / NAME, arguments.jobs, _line)
    table, figures = _summary(
        {v: [r["variants"][v] for r in results] for v in results[0]["variants"]},
        f"incumbent margin significance ({len(results)} tickers, h=1)",
        "at most",
    )
    method_table, methods = _summary(
        {m: [r["methods"][m] for r in results] for m in results[0]["methods"]},
        f"method alone ({len(results)} tickers, h=1)",
        "below",
    )
    print(table)
    print()
    print(method_table)
    write_result(
        NAME,
        {
            "settings": settings,
            "tickers": tickers,
            "figures": figures,
            "methods": methods,
            "table": table,
            "method_table": method_table,
        },
    )


if __name__ == "__main__":
    main()
