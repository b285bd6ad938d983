"""rmse_ratio of the default model on real AAPL, 2010-01-01 to 2022-12-30, three seeds.

Our pipeline's setting with the tutorial's target (`target="price"`, one horizon):
adjusted closes, the most recent 642 origins (20 %) held out, 15 % of the rest for
early stopping, the scaler fitted on the training origins only, 10 epochs at most.
For reference, the tutorial's own setting on the same data: scaler fitted on all
sessions (the leak), 80/20 split, 10 epochs, no validation; same network and metrics.

    .venv/bin/python benchmarks/rmse_ratio_aapl.py [--seeds 1 2 3] [--epochs 10]
"""

import argparse
import json
import os
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402
from results_file import write_result  # noqa: E402
from sklearn.preprocessing import MinMaxScaler  # noqa: E402

from tickercast.data.history import History  # noqa: E402
from tickercast.data.sources import FolderSource  # noqa: E402
from tickercast.data.windows import WindowSpec  # noqa: E402
from tickercast.evaluation.metrics import horizon_metrics  # noqa: E402
from tickercast.evaluation.scores import mase_scales, score  # noqa: E402
from tickercast.models.fitting import fit_candidates  # noqa: E402
from tickercast.models.network import build_network, predict_scaled  # noqa: E402
from tickercast.models.network_config import ModelConfig

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "yahoo"
START, END = date(2010, 1, 1), date(2022, 12, 30)


def tutorial_rmse_ratio(close: np.ndarray, config: ModelConfig, window: int) -> dict:
    """The tutorial as it was: MinMaxScaler on all closes, 80/20 split, fixed epochs."""
    import keras

    keras.utils.clear_session()
    keras.utils.set_random_seed(config.seed)
    scaler = MinMaxScaler().fit(close.reshape(-1, 1))  # the leak: test prices shape the scale
    scaled = scaler.transform(close.reshape(-1, 1)).ravel().astype("float32")
    framed = sliding_window_view(scaled, window + 1)  # (M, window + 1)
    inputs, targets = framed[:, :window, None], framed[:, window:]
    split = int(len(framed) * 0.8)
    network = build_network(config, window, features=1, horizons=1)
    network.fit(
        inputs[:split],
        targets[:split],
        epochs=config.epochs,
        batch_size=config.batch_size,
        verbose=0,
    )
    predicted = scaler.inverse_transform(
        predict_scaled(network, inputs[split:]).reshape(-1, 1)
    ).ravel()
    actual = close[window + split :]
    previous = close[window + split - 1 : -1]
    return horizon_metrics(actual, predicted, previous, horizon=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--epochs", type=int, default=10)
    arguments = parser.parse_args()
    if not (DATA / "AAPL.csv").is_file():
        raise SystemExit(f"needs {DATA / 'AAPL.csv'} (../shared/data beside the project)")

    prices = FolderSource(DATA).fetch("AAPL", START, END).reset_index(drop=True)
    history = History.of(prices)
    spec = WindowSpec(window=60, horizons=1, target="price", holdout=642)
    rows = []
    for seed in arguments.seeds:
        config = ModelConfig(epochs=arguments.epochs, seed=seed)
        started = time.perf_counter()
        fitted = fit_candidates(history, "AAPL", spec, config)
        scales = mase_scales(history, fitted.split.fit, spec.horizons)
        holdout = fitted.split.holdout
        ours = score("lstm", fitted.candidates["lstm"], history, holdout, spec, scales).metrics[0]
        tutorial = tutorial_rmse_ratio(prices["close"].to_numpy("float64"), config, spec.window)
        trained = fitted.trained
        rows.append(
            {
                "seed": seed,
                "rmse_ratio": ours["rmse_ratio"],
                "directional_accuracy": ours["directional_accuracy"],
                "rmse": ours["rmse"],
                "epochs_run": len(trained.history["loss"]),
                "best_epoch": trained.best_epoch,
                "fit_seconds": trained.fit_seconds,
                "tutorial_rmse_ratio": tutorial["rmse_ratio"],
                "seconds": time.perf_counter() - started,
            }
        )
        print(json.dumps(rows[-1]))

    sessions = prices["session"].dt.date
    print(
        f"\nAAPL {START}..{END}: {len(prices)} sessions; held out "
        f"{sessions[holdout[0] + 1]}..{sessions[holdout[-1] + 1]} ({len(holdout)} sessions)"
    )
    print(
        f"{'seed':>4} {'rmse_ratio':>10} {'dir_acc':>8} {'epochs':>6} {'best':>4} "
        f"{'fit_s':>6} {'tutorial_ratio':>14}"
    )
    for row in rows:
        print(
            f"{row['seed']:>4} {row['rmse_ratio']:>10.3f} {row['directional_accuracy']:>8.3f} "
            f"{row['epochs_run']:>6} {row['best_epoch']:>4} {row['fit_seconds']:>6.1f} "
            f"{row['tutorial_rmse_ratio']:>14.3f}"
        )
    out = write_result("rmse_ratio_aapl", {"start": str(START), "end": str(END), "rows": rows})
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
