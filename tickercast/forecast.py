"""The published forecast: the close of the next session after as_of."""

from dataclasses import dataclass
from datetime import date

import pandas as pd

from tickercast.calendar import next_session
from tickercast.model import TrainedModel, predict_scaled
from tickercast.storage import FORECAST_SCHEMA
from tickercast.windows import Windows


@dataclass(frozen=True)
class NextSession:
    """A one-session-ahead forecast before it is published."""

    ticker: str
    as_of: date
    target_date: date
    last_close: float
    forecast: float


def forecast_next_session(windows: Windows, trained: TrainedModel, calendar: str) -> NextSession:
    """Forecast the close of the first session after `windows.as_of`.

    The network forecasts the adjusted close; it is reported in the as_of session's
    own price units (close / adjusted close of that day), so that it compares with
    the close a user sees, whatever corporate actions later rescale history.

    Args:
        windows: the ticker's windows; `latest` ends at as_of.
        trained: the fitted network.
        calendar: exchange calendar code, for the target session.

    Returns:
        The forecast.
    """
    adjusted = float(windows.to_prices(predict_scaled(trained.network, windows.latest))[0])
    to_raw = windows.last_close / float(windows.adjusted_close[-1])
    return NextSession(
        ticker=windows.ticker,
        as_of=windows.as_of,
        target_date=next_session(windows.as_of, calendar),
        last_close=windows.last_close,
        forecast=adjusted * to_raw,
    )


def forecast_frame(
    forecast: NextSession, model: str, model_version: str | None, run_id: str, data_sha256: str
) -> pd.DataFrame:
    """The forecast as rows of `FORECAST_SCHEMA` (one row: horizon 1; no interval yet).

    Args:
        forecast: the forecast.
        model: which model produced it (`lstm`).
        model_version: its version in the MLflow registry.
        run_id: the MLflow run that trained and evaluated it.
        data_sha256: hash of the exact training series.

    Returns:
        A frame whose columns are `FORECAST_SCHEMA.names`.
    """
    row = {
        "ticker": forecast.ticker,
        "as_of": forecast.as_of,
        "target_date": forecast.target_date,
        "horizon": 1,
        "last_close": forecast.last_close,
        "forecast": forecast.forecast,
        "lower": None,
        "upper": None,
        "model": model,
        "model_version": model_version,
        "mlflow_run_id": run_id,
        "data_sha256": data_sha256,
    }
    return pd.DataFrame([row], columns=FORECAST_SCHEMA.names)


@dataclass(frozen=True)
class Published:
    """A forecast as published, with where to find it and how good its model was."""

    ticker: str
    as_of: date
    target_date: date
    last_close: float
    forecast: float
    rmse_ratio: float
    model_version: str | None
    mlflow_run_id: str
    mlflow_run_url: str
    path: str


def forecast_markdown(published: Published, metrics: dict[str, float]) -> str:
    """The run report a reviewer reads in Prefect: the forecast, its metrics, its MLflow run.

    Args:
        published: the published forecast.
        metrics: the evaluation metrics (`tickercast.metrics.forecast_metrics`).

    Returns:
        Markdown text.
    """
    verdict = (
        "beats" if metrics["rmse_ratio"] < 1 else "does **not** beat"
    ) + " the naive forecast (next close = last close) on the test sessions"
    rows = "\n".join(f"| `{name}` | {value:.4f} |" for name, value in metrics.items())
    return (
        f"# {published.ticker}: forecast for {published.target_date}\n\n"
        f"Close on {published.as_of}: **{published.last_close:.2f}**; "
        f"forecast for {published.target_date}: **{published.forecast:.2f}** "
        f"(LSTM, registered version {published.model_version}).\n\n"
        f"The model {verdict} (RMSE ratio {metrics['rmse_ratio']:.3f}; below 1 is better).\n\n"
        f"| metric | value |\n|---|---|\n{rows}\n\n"
        f"MLflow run: [{published.mlflow_run_id}]({published.mlflow_run_url})  \n"
        f"Forecast file: `{published.path}`\n"
    )
