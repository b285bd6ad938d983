"""Walk-forward backtest on real AAPL and MSFT, 2010-01-01 to 2022-12-30 (issue 4's targets).

For each ticker: 5 folds of 126 sessions; the returns model (default) and the
tutorial's setting (`--target price`: scaled price levels, MinMax scaler fitted on
the fit origins) side by side; the returns model run twice with one seed (the
metrics must be identical); and warm start (each fold fine-tunes the previous
fold's network for 3 epochs) against full retraining: accuracy and fit time.

    .venv/bin/python benchmarks/backtest_aapl_msft.py [--epochs 10] [--folds 5]
"""

import argparse
import os
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from results_file import write_result  # noqa: E402

from tickercast.data.history import History  # noqa: E402
from tickercast.data.sources import FolderSource  # noqa: E402
from tickercast.data.windows import WindowSpec  # noqa: E402
from tickercast.evaluation.backtest import run_backtest  # noqa: E402
from tickercast.models.network_config import ModelConfig  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "yahoo"
START, END = date(2010, 1, 1), date(2022, 12, 30)


def _summary(backtest, seconds: float) -> dict:
    pooled = backtest.pooled()
    return {
        "published_rmse_ratio_h1": pooled["published"].metrics[0]["rmse_ratio"],
        "lstm_rmse_ratio_h1": pooled["lstm"].metrics[0]["rmse_ratio"],
        "ar_rmse_ratio_h1": pooled["ar"].metrics[0]["rmse_ratio"],
        "drift_rmse_ratio_h1": pooled["drift"].metrics[0]["rmse_ratio"],
        "published_by_fold": [str(fold.decision.published) for fold in backtest.folds],
        "coverage_80": [m["coverage_80"] for m in pooled["published"].metrics],
        "coverage_95": [m["coverage_95"] for m in pooled["published"].metrics],
        "lstm_dm_pvalue_h1": pooled["lstm"].metrics[0]["dm_pvalue"],
        "lstm_directional_accuracy_h1": pooled["lstm"].metrics[0]["directional_accuracy"],
        "fit_seconds": sum(fold.fit_seconds for fold in backtest.folds),
        "seconds": seconds,
        "rows": backtest.rows(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--tickers", nargs="+", default=["AAPL", "MSFT"])
    arguments = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"needs {DATA} (../shared/data beside the project)")
    config = ModelConfig(epochs=arguments.epochs)
    settings = {
        "returns": (WindowSpec(), False),
        "returns_again": (WindowSpec(), False),
        "price": (WindowSpec(target="price"), False),
        "returns_warm_start": (WindowSpec(), True),
    }
    results: dict[str, dict] = {}
    for ticker in arguments.tickers:
        history = History.of(FolderSource(DATA).fetch(ticker, START, END).reset_index(drop=True))
        for name, (spec, warm) in settings.items():
            started = time.perf_counter()
            backtest = run_backtest(history, ticker, spec, config, arguments.folds, warm_start=warm)
            results[f"{ticker} {name}"] = _summary(backtest, time.perf_counter() - started)
            summary = results[f"{ticker} {name}"]
            print(
                f"{ticker} {name:20} published h1 {summary['published_rmse_ratio_h1']:.4f}  "
                f"lstm {summary['lstm_rmse_ratio_h1']:.4f}  ar {summary['ar_rmse_ratio_h1']:.4f}  "
                f"drift {summary['drift_rmse_ratio_h1']:.4f}  "
                f"cov80 {' '.join(f'{c:.3f}' for c in summary['coverage_80'])}  "
                f"cov95 {' '.join(f'{c:.3f}' for c in summary['coverage_95'])}  "
                f"published {summary['published_by_fold']}  fit {summary['fit_seconds']:.0f} s",
                flush=True,
            )
        same = results[f"{ticker} returns"]["rows"] == results[f"{ticker} returns_again"]["rows"]
        print(f"{ticker}: two runs with one seed give identical metrics: {same}", flush=True)
        results[f"{ticker} repeatable"] = {"identical": same}
    out = write_result(
        "backtest_aapl_msft",
        {"start": str(START), "end": str(END), "epochs": arguments.epochs, "results": results},
    )
    print(f"written to {out}")


if __name__ == "__main__":
    main()
