"""The registered model's code (MLflow models from code): recent sessions in, forecasts out.

`ModelStore.log_model` passes this file's path as `python_model`; MLflow copies it into
the logged model and runs it whenever the model is loaded or served, so no Python
object of ours is pickled. Every registered model keeps the copy made when it was
logged, and that copy calls the installed tickercast only through
`tickercast.model_artifact.load_candidate` and `.forecast_recent`: edit this file
freely, but keep those two (and that module's name).
"""

import mlflow
import pandas as pd

from tickercast.model_artifact import forecast_recent, load_candidate


class ForecastModel(mlflow.pyfunc.PythonModel):
    """Recent sessions in, the next H sessions' forecasts and intervals out, in the
    as_of session's price units."""

    def load_context(self, context) -> None:
        self.candidate = load_candidate(context.artifacts["candidate"])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        return forecast_recent(self.candidate, model_input)


mlflow.models.set_model(ForecastModel())
