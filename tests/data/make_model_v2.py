"""How tests/data/model-v2 was made, once: a registered model of format_version 2, the
LSTM with the intervals the interval gate published with it, frozen as of its as_of,
that every later tickercast must still load and serve (tests/test_packaged.py).

It runs the pipeline's own path on real AAPL prices (2011-06-01 to 2013-03-01): fit
the candidates with a tiny network (window 20, horizons 3, 8 units, 2 epochs), take
every candidate as the publish stage does (`published_candidates`), and save the LSTM
with conformalized GJR-GARCH's intervals (the interval gate's incumbent) frozen as of
2013-03-01, with the arguments `ModelStore.log_model` logs it with (`pyfunc_model`,
`MODEL_REQUIREMENTS`). Beside it, model-v2-forecast.json holds the forecast the publish
stage writes as of 2013-03-01 with those intervals (`forecast_frame`, `with_intervals`),
which the model must answer for its input example (the last 21 of those sessions).

Never re-run it to "fix" a failing test: the point of the files is that they were
written by an earlier tickercast. To add a format, write a new script and folder.

    .venv/bin/python tests/data/make_model_v2.py
"""

import json
import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path

import mlflow

from tickercast.fitting import fit_candidates, recalibrated
from tickercast.forecast import BOUND_COLUMNS, forecast_frame, forecast_latest, with_intervals
from tickercast.model_artifact import PublishedIntervals, SavedCandidate, pyfunc_model
from tickercast.model_config import ModelConfig
from tickercast.model_store import MODEL_REQUIREMENTS
from tickercast.sources import SampleSource
from tickercast.windows import WindowSpec, select_history

HERE = Path(__file__).resolve().parent
MODEL, FORECAST = HERE / "model-v2", HERE / "model-v2-forecast.json"


def main() -> None:
    spec = WindowSpec(window=20, horizons=3, holdout=40, min_fit_origins=50)
    prices = SampleSource().fetch("AAPL", None, None)
    history = select_history(prices, "AAPL", date(2011, 6, 1), date(2013, 3, 1), "XNYS")
    fitted = fit_candidates(history, "AAPL", spec, ModelConfig(epochs=2, units=8))
    lstm, gjr = (
        recalibrated(fitted.candidates[name], history, fitted.split, spec)
        for name in ("lstm", "gjr_conformal")
    )
    frozen = replace(gjr, volatility=gjr.volatility.frozen(history))
    saved = SavedCandidate(lstm, PublishedIntervals("gjr_conformal", date(2013, 3, 1), frozen))

    # save_model refuses a folder that is not empty: the files are made once
    with tempfile.TemporaryDirectory() as folder:
        mlflow.pyfunc.save_model(
            str(MODEL),
            **pyfunc_model(saved, history, Path(folder)),
            pip_requirements=MODEL_REQUIREMENTS,
        )

    # what the publish stage writes as of the input example's last session, 2013-03-01
    frames = [
        forecast_frame(
            "AAPL", history, forecast_latest(c, history, spec), "XNYS", n, None, "", "", ""
        )
        for n, c in (("lstm", lstm), ("gjr_conformal", gjr))
    ]
    frame = with_intervals(*frames)
    columns = ["as_of", "horizon", "last_close", "forecast", *BOUND_COLUMNS]
    rows = frame[columns].astype({"as_of": str}).to_dict("records")
    FORECAST.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
