"""The registered model's files: an LSTM candidate saved as plain data, in a versioned format.

A candidate is a folder of two files that name no Python class of ours:

    network.keras    the network, in Keras' own format (JSON config and HDF5 weights)
    candidate.json   {"format_version": 1, "preprocessor": {the WindowSpec and the
                     scalers' fitted statistics}, "conformal": {the interval quantiles}}

so moving or renaming a class never breaks a registered model: only `load_candidate`
has to keep reading every `format_version` ever written. The code file that every
registered model carries (`model_code.py`, run by MLflow when the model is loaded
or served) calls `load_candidate` and `forecast_recent` of the installed package by
name, so these two keep their names and arguments.
"""

import json
from pathlib import Path

import keras
import pandas as pd
from mlflow.models import ModelSignature, infer_signature
from mlflow.types import ColSpec, Schema

from tickercast.conformal import Conformal
from tickercast.fitting import Candidate
from tickercast.forecast import BOUND_COLUMNS, forecast_latest, in_as_of_units
from tickercast.forecasters import LSTMForecaster
from tickercast.volatility import RealizedVolatility
from tickercast.windows import Preprocessor

FORMAT_VERSION = 1
NETWORK, STATE = "network.keras", "candidate.json"
MODEL_CODE = Path(__file__).with_name("model_code.py")
INPUT_COLUMNS = ["session", "adjusted_close", "close", "volume", "high", "low"]


class ModelFormatError(ValueError):
    """Saved model files that this version of tickercast cannot read."""


def save_candidate(candidate: Candidate, folder: Path) -> Path:
    """Write an LSTM candidate's network and state in format `FORMAT_VERSION`.

    Args:
        candidate: the LSTM with its scalers and conformal intervals.
        folder: where to write; created if missing.

    Returns:
        The folder, for `load_candidate`.
    """
    forecaster = candidate.forecaster
    folder.mkdir(parents=True, exist_ok=True)
    forecaster.network.save(folder / NETWORK)
    state = {
        "format_version": FORMAT_VERSION,
        "preprocessor": forecaster.preprocessor.as_dict(),
        # unbounded intervals (too few residuals) are written as Infinity, which
        # Python's json reads back
        "conformal": candidate.intervals.as_dict(),
    }
    (folder / STATE).write_text(json.dumps(state, indent=1) + "\n")
    return folder


def load_candidate(folder: Path | str) -> Candidate:
    """The candidate saved by `save_candidate`, in today's classes.

    Args:
        folder: the saved candidate's folder.

    Returns:
        The LSTM candidate with its scalers and conformal intervals.

    Raises:
        ModelFormatError: the folder has no state file, or one of an unknown format_version.
    """
    path = Path(folder) / STATE
    if not path.is_file():
        raise ModelFormatError(
            f"{path} is missing: {folder} is not a saved tickercast model "
            "(models registered before format_version 1 pickled their state into state.pkl)"
        )
    state = json.loads(path.read_text())
    version = state.get("format_version")
    # a new format adds its reader here; the readers of older ones stay
    if version != FORMAT_VERSION:
        raise ModelFormatError(
            f"{path} has format_version {version!r}; this tickercast reads format_version "
            f"{FORMAT_VERSION} only"
        )
    # safe_mode (the default) refuses a network whose config would run Python code
    network = keras.saving.load_model(Path(folder) / NETWORK, compile=False)
    preprocessor = Preprocessor.from_dict(state["preprocessor"])
    return Candidate(
        LSTMForecaster(preprocessor, network),
        Conformal.from_dict(state["conformal"]),
        # a registered LSTM's intervals are always scaled by the realized volatility
        RealizedVolatility(preprocessor.spec.volatility_lookback),
    )


def forecast_recent(candidate: Candidate, recent: pd.DataFrame) -> pd.DataFrame:
    """What the registered model answers: the H sessions after the last one in `recent`.

    Args:
        candidate: the LSTM with its intervals.
        recent: at least `window + 1` sessions in any order: `session` (dates or
            "YYYY-MM-DD"), `adjusted_close`, `close`, and `volume`, `high`, `low` when
            the model's features use them.

    Returns:
        One row per horizon: `as_of` (the last session, "YYYY-MM-DD"), `horizon`,
        `last_close` (its close), `forecast`, `lower_80`, `upper_80`, `lower_95`,
        `upper_95`, in the as_of session's own price units, as in the published
        forecast file.

    Raises:
        ValueError: fewer than `window + 1` sessions.
    """
    prices = recent.copy()
    prices["session"] = pd.to_datetime(prices["session"])
    prices = prices.sort_values("session").reset_index(drop=True)
    spec = candidate.forecaster.preprocessor.spec
    # the first session has no return: the window needs one session before it
    if len(prices) < spec.window + 1:
        raise ValueError(f"needs at least {spec.window + 1} recent sessions, got {len(prices)}")
    answer = in_as_of_units(forecast_latest(candidate, prices, spec), prices)
    answer.insert(0, "as_of", prices["session"].iloc[-1].strftime("%Y-%m-%d"))
    return answer


def pyfunc_model(candidate: Candidate, recent: pd.DataFrame, folder: Path) -> dict:
    """The registered model, as `mlflow.pyfunc.log_model` (or `save_model`) arguments.

    A model from code: MLflow copies `model_code.py` into the model and runs it to
    load it, over the candidate's files; nothing of ours is pickled.

    Args:
        candidate: the LSTM with its scalers and conformal intervals.
        recent: the latest sessions, at least `window + 1`: the input example.
        folder: an empty folder for the candidate's files, until MLflow has copied them.

    Returns:
        `python_model`, `artifacts`, `signature`, `input_example` and `metadata`.
    """
    spec = candidate.forecaster.preprocessor.spec
    example = recent[INPUT_COLUMNS].tail(spec.window + 1).reset_index(drop=True)
    example["session"] = example["session"].dt.strftime("%Y-%m-%d")
    example["volume"] = example["volume"].astype("float64")
    # No code_paths: the model runs on the installed tickercast (served with
    # --env-manager local in this project's environment). A copy of the package in the
    # model would go first on sys.path when it loads: a server would run the copy, not
    # the installed package, and a process that had already imported tickercast would
    # mix modules of both. A registered model depends on its files' format_version and on
    # the two functions model_code.py calls, not on a frozen copy of the code.
    return {
        "python_model": str(MODEL_CODE),
        "artifacts": {"candidate": str(save_candidate(candidate, folder / "candidate"))},
        # the output schema is declared: inferred, its integer horizon draws a warning
        "signature": ModelSignature(
            inputs=infer_signature(example).inputs,
            outputs=Schema(
                [
                    ColSpec("string", "as_of"),
                    ColSpec("long", "horizon"),
                    *(ColSpec("double", c) for c in ("last_close", "forecast", *BOUND_COLUMNS)),
                ]
            ),
        ),
        "input_example": example,
        "metadata": {
            "tickercast_format_version": FORMAT_VERSION,
            "price_units": "the as_of session's own: forecasts and bounds are adjusted "
            "forecasts times the last input row's close / adjusted_close, as in the "
            "published forecast file; last_close is that close",
        },
    }
