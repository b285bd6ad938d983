"""The registered model: an MLflow pyfunc that takes recent prices and returns forecasts.

It carries the network, its scalers and its conformal intervals, so that
`models:/tickercast-AAPL@champion` predicts outside the pipeline: give it a frame
of at least `window + 1` recent sessions (`session`, `adjusted_close`, and
`volume`, `high`, `low`, `close` when the model uses them) and it returns the next
H sessions' forecasts with 80 % and 95 % intervals, in the same units.
"""

import pickle
from pathlib import Path

import keras
import mlflow.pyfunc
import pandas as pd

from tickercast.conformal import Conformal
from tickercast.fitting import Candidate
from tickercast.forecast import forecast_latest
from tickercast.forecasters import LSTMForecaster
from tickercast.windows import Preprocessor

NETWORK, STATE = "network.keras", "state.pkl"


def save_artifacts(candidate: Candidate, folder: Path) -> dict[str, str]:
    """Write an LSTM candidate's network and state; returns pyfunc `artifacts`."""
    forecaster = candidate.forecaster
    forecaster.network.save(folder / NETWORK)
    state = {"preprocessor": forecaster.preprocessor, "conformal": candidate.conformal.as_dict()}
    (folder / STATE).write_bytes(pickle.dumps(state))
    return {"network": str(folder / NETWORK), "state": str(folder / STATE)}


def load_candidate(artifacts: dict[str, str]) -> Candidate:
    """The candidate saved by `save_artifacts`."""
    state = pickle.loads(Path(artifacts["state"]).read_bytes())
    preprocessor: Preprocessor = state["preprocessor"]
    network = keras.saving.load_model(artifacts["network"], compile=False)
    return Candidate(LSTMForecaster(preprocessor, network), Conformal.from_dict(state["conformal"]))


class ForecastModel(mlflow.pyfunc.PythonModel):
    """Recent sessions in, the next H sessions' forecasts and intervals out."""

    def load_context(self, context) -> None:
        self.candidate = load_candidate(context.artifacts)

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        prices = model_input.copy()
        prices["session"] = pd.to_datetime(prices["session"])
        prices = prices.sort_values("session").reset_index(drop=True)
        spec = self.candidate.forecaster.preprocessor.spec
        if len(prices) < spec.window + 1:
            raise ValueError(f"needs at least {spec.window + 1} recent sessions, got {len(prices)}")
        return forecast_latest(self.candidate, prices, spec)
