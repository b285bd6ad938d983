"""How tests/data/model-v1 was made, once: a registered model of format_version 1 that
every later tickercast must still load and serve (tests/test_packaged.py).

It runs the pipeline's own path on real AAPL prices (2011-06-01 to 2013-03-01): fit
the candidates with a tiny network (window 20, horizons 3, 8 units, 2 epochs),
recalibrate the LSTM's intervals as the publish stage does, and save it with the
arguments `Tracker.log_model` logs it with (`pyfunc_model`, `_MODEL_REQUIREMENTS`).
Beside it, model-v1-forecast.json holds the forecast the publish stage writes as of
2013-03-01 (`forecast_frame`, the as_of session's units), which the model must answer
for its input example (the last 21 of those sessions).

Never re-run it to "fix" a failing test: the point of the files is that they were
written by an earlier tickercast. To add a format, write a new script and folder
(make_model_v2.py). It ran on the tickercast of commit 97800c6; the functions it calls
have changed since (format 2 saves a `SavedCandidate`), so it is the record of how the
files were made, not a script to run again.

    .venv/bin/python tests/data/make_model_v1.py
"""

import json
import tempfile
from datetime import date
from pathlib import Path

import mlflow

from tickercast.fitting import fit_candidates, recalibrated
from tickercast.forecast import BOUND_COLUMNS, forecast_frame, forecast_latest
from tickercast.model_artifact import pyfunc_model
from tickercast.model_config import ModelConfig
from tickercast.sources import SampleSource
from tickercast.tracking import _MODEL_REQUIREMENTS
from tickercast.windows import WindowSpec, select_history

HERE = Path(__file__).resolve().parent
MODEL, FORECAST = HERE / "model-v1", HERE / "model-v1-forecast.json"


def main() -> None:
    spec = WindowSpec(window=20, horizons=3, holdout=40, min_fit_origins=50)
    prices = SampleSource().fetch("AAPL", None, None)
    history = select_history(prices, "AAPL", date(2011, 6, 1), date(2013, 3, 1), "XNYS")
    fitted = fit_candidates(history, "AAPL", spec, ModelConfig(epochs=2, units=8))
    lstm = recalibrated(fitted.candidates["lstm"], history, fitted.split, spec)

    # save_model refuses a folder that is not empty: the files are made once
    with tempfile.TemporaryDirectory() as folder:
        mlflow.pyfunc.save_model(
            str(MODEL),
            **pyfunc_model(lstm, history, Path(folder)),
            pip_requirements=_MODEL_REQUIREMENTS,
        )

    # what the publish stage writes as of the input example's last session, 2013-03-01
    latest = forecast_latest(lstm, history, spec)
    frame = forecast_frame("AAPL", history, latest, "XNYS", "lstm", "1", "", "", "")
    columns = ["as_of", "horizon", "last_close", "forecast", *BOUND_COLUMNS]
    rows = frame[columns].astype({"as_of": str}).to_dict("records")
    FORECAST.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
