"""What the daily bar adds when the network sees it: the LSTM and its variance head with
the overnight gap and the range volatility beside the returns, against returns alone.

Development data only (the reported sample never enters): the 10 seeded S&P 500
members of benchmarks/interval_gate_dev.py (seed 7), 2003-01-01 to 2012-12-31, 5
walk-forward folds of 126 sessions, the LSTM at 10 epochs. For each input set
(`WindowSpec.features`), pooled over the folds, one session ahead: the LSTM's RMSE
ratio to naive, and the interval score of its variance head (own Gaussian quantiles
and conformalized) relative to GARCH(1,1)-t's; the median over tickers and the count
below 1.

    nice -n 10 .venv/bin/python benchmarks/network_bar_features.py [--jobs 2]
"""

import os
import statistics
from datetime import date

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from results_file import RESULTS, write_result  # noqa: E402
from sp500_sample import arguments as sample_arguments  # noqa: E402
from sp500_sample import load, run_tickers, select  # noqa: E402

from tickercast.data.history import History  # noqa: E402
from tickercast.data.windows import WindowSpec  # noqa: E402
from tickercast.evaluation.backtest import run_backtest  # noqa: E402
from tickercast.models.network_config import ModelConfig  # noqa: E402

NAME = "network_bar_features"
START, END, SEED, SAMPLE, FOLDS = date(2003, 1, 1), date(2012, 12, 31), 7, 10, 5
INPUTS = {"returns": ("return",), "returns+bar": ("return", "gap", "range_volatility")}
HEADS = ("lstm_head", "lstm_head_conformal")


def _ticker(ticker: str, settings: dict) -> dict:
    prices, _ = load(ticker, START, END)
    history = History.of(prices)
    results = {}
    for label, features in INPUTS.items():
        backtest = run_backtest(
            history,
            ticker,
            WindowSpec(features=features),
            ModelConfig(epochs=settings["epochs"]),
            FOLDS,
        )
        pooled = {name: scored.metrics[0] for name, scored in backtest.pooled().items()}
        results[label] = {
            "lstm_rmse_ratio": pooled["lstm"]["rmse_ratio"],
            **{
                f"{head}_{level}": pooled[head][f"interval_score_{level}"]
                / pooled["garch"][f"interval_score_{level}"]
                for head in HEADS
                for level in (80, 95)
            },
            **{f"{head}_coverage_80": pooled[head]["coverage_80"] for head in HEADS},
        }
    return {"inputs": results}


def main() -> None:
    arguments = sample_arguments(__doc__.splitlines()[0], SAMPLE)
    settings = {"epochs": arguments.epochs, "start": str(START), "end": str(END), "seed": SEED}
    tickers, _ = select(arguments.sample, SEED, START)
    results = run_tickers(
        _ticker, tickers, settings, RESULTS / NAME, arguments.jobs, lambda r: print(r["ticker"])
    )
    keys = list(results[0]["inputs"]["returns"])
    figures = {
        label: {
            key: {
                "median": statistics.median(r["inputs"][label][key] for r in results),
                "below_1": sum(r["inputs"][label][key] < 1 for r in results),
            }
            for key in keys
        }
        for label in INPUTS
    }
    lines = [
        f"| {label} | "
        + " | ".join(
            f"{figures[label][key]['median']:.4f} ({figures[label][key]['below_1']})"
            for key in keys
        )
        + " |"
        for label in INPUTS
    ]
    table = (
        f"| inputs ({len(results)} tickers, h=1; median (tickers below 1)) | "
        + " | ".join(keys)
        + " |\n|"
        + "---|" * (len(keys) + 1)
        + "\n"
        + "\n".join(lines)
    )
    print(table)
    write_result(
        NAME, {"settings": settings, "tickers": tickers, "figures": figures, "table": table}
    )


if __name__ == "__main__":
    main()
