"""The registered model's files: an LSTM candidate saved as plain data, in a versioned format.

A candidate is a folder of two files that name no Python class of ours:

    network.keras    the network, in Keras' own format (JSON config and HDF5 weights)
    candidate.json   {"format_version": 3, "preprocessor": {the WindowSpec and the
                     scalers' fitted statistics}, "conformal": {the LSTM's own interval
                     quantiles}, "published_intervals": {the intervals published with
                     it, or null}}

so moving or renaming a class never breaks a registered model: only `load_candidate`
has to keep reading every `format_version` ever written:

    1  the LSTM and its own conformal intervals
    2  also the intervals the interval gate published with it (`PublishedIntervals`:
       e.g. conformalized GJR-GARCH, its parameters and variance frozen at the as_of),
       so that the served model answers with the published forecast's bounds
    3  published intervals may read the daily bar: GARCH-X (a variance recursion with
       `delta` and `kappa`), the log-HAR on the range measure (`har`) and the blend of
       GJR and HAR (`blend`); the served model's input carries `open` beside `high`
       and `low`. Versions 1 and 2 read as before (no range term).

The code file that every registered model carries (`model_code.py`, run by MLflow
when the model is loaded or served) calls `load_candidate` and `forecast_recent` of
the installed package by name, so these two keep their names and arguments.
"""

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import keras
import pandas as pd

from tickercast.data.history import History
from tickercast.errors import ModelFormatError
from tickercast.models.conformal import Conformal
from tickercast.models.fitting import Candidate
from tickercast.models.forecasters import LSTMForecaster, NaiveForecaster
from tickercast.models.har import saved_volatility, sessions_needed
from tickercast.models.intervals import Intervals, ModelQuantiles
from tickercast.models.prediction import (
    forecast_latest,
    in_as_of_units,
    with_intervals,
)
from tickercast.models.scaling import Preprocessor
from tickercast.models.variance_head import LSTMHead
from tickercast.models.volatility import RealizedVolatility, VolatilityModel

FORMAT_VERSION = 3
READABLE = (1, 2, FORMAT_VERSION)
NETWORK, STATE = "network.keras", "candidate.json"
INPUT_COLUMNS = ["session", "adjusted_close", "close", "volume", "open", "high", "low"]


@dataclass(frozen=True)
class PublishedIntervals:
    """The intervals published with a model: an interval candidate around naive's zero
    return, its volatility model frozen at `as_of` (`VolatilityModel.frozen`).

    Attributes:
        model: the interval candidate's name (`gjr_conformal`, `ewma`, ...).
        as_of: the session it was frozen at: the model's own as_of.
        candidate: naive's zero, the frozen volatility model, its quantiles.
    """

    model: str
    as_of: date
    candidate: Candidate


@dataclass(frozen=True)
class SavedCandidate:
    """What a logged model holds: the LSTM with its own intervals (what the gates score
    and a warm start continues), and the intervals it was published with.

    Attributes:
        lstm: the LSTM candidate: network, scalers, its own conformal intervals.
        published_intervals: the interval gate's choice as of the model's as_of; None
            when the LSTM kept its own, or in a model saved in format 1.
    """

    lstm: Candidate
    published_intervals: PublishedIntervals | None = None

    @property
    def interval_model(self) -> str:
        """Whose intervals it answers with: the interval candidate, or `lstm`'s own."""
        return self.published_intervals.model if self.published_intervals else "lstm"


def save_candidate(saved: SavedCandidate, folder: Path) -> Path:
    """Write a saved candidate's network and state in format `FORMAT_VERSION`.

    Args:
        saved: the LSTM with its scalers and intervals, and the published intervals.
        folder: where to write; created if missing.

    Returns:
        The folder, for `load_candidate`.
    """
    forecaster = saved.lstm.forecaster
    folder.mkdir(parents=True, exist_ok=True)
    forecaster.network.save(folder / NETWORK)
    published = saved.published_intervals
    state = {
        "format_version": FORMAT_VERSION,
        "preprocessor": forecaster.preprocessor.as_dict(),
        # unbounded intervals (too few residuals) are written as Infinity, which
        # Python's json reads back
        "conformal": saved.lstm.intervals.as_dict(),
        "published_intervals": None
        if published is None
        else {
            "model": published.model,
            "as_of": published.as_of.isoformat(),
            "volatility": published.candidate.volatility.as_dict(),
            "intervals": _intervals_as_dict(published.candidate.intervals),
        },
    }
    (folder / STATE).write_text(json.dumps(state, indent=1) + "\n")
    return folder


def load_candidate(folder: Path | str) -> SavedCandidate:
    """The candidate saved by `save_candidate`, in today's classes.

    Args:
        folder: the saved candidate's folder.

    Returns:
        The LSTM with its scalers and conformal intervals, and the intervals published
        with it (none in format 1: it answers with its own).

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
    if version not in READABLE:
        raise ModelFormatError(
            f"{path} has format_version {version!r}; this tickercast reads format_version "
            f"{', '.join(map(str, READABLE))}"
        )
    # safe_mode (the default) refuses a network whose config would run Python code
    network = keras.saving.load_model(Path(folder) / NETWORK, compile=False)
    preprocessor = Preprocessor.from_dict(state["preprocessor"])
    lstm = LSTMForecaster(preprocessor, network)
    candidate = Candidate(
        lstm,
        Conformal.from_dict(state["conformal"]),
        # a registered LSTM's own intervals are always scaled by the realized volatility
        RealizedVolatility(preprocessor.spec.volatility_lookback),
    )
    published = state.get("published_intervals")  # format 2 on
    if published is None:
        return SavedCandidate(candidate)
    intervals = Candidate(
        NaiveForecaster(preprocessor.spec.horizons),
        _intervals_from_dict(published["intervals"]),
        _volatility_from_dict(published["volatility"], lstm),
    )
    return SavedCandidate(
        candidate,
        PublishedIntervals(published["model"], date.fromisoformat(published["as_of"]), intervals),
    )


def _intervals_as_dict(intervals: Intervals) -> dict:
    if isinstance(intervals, Conformal):
        return {"kind": "conformal", **intervals.as_dict()}
    return {"kind": "model_quantiles", "levels": list(intervals.levels)}


def _intervals_from_dict(data: dict) -> Intervals:
    if data["kind"] == "conformal":
        return Conformal.from_dict(data)
    return ModelQuantiles(tuple(data["levels"]))


def _volatility_from_dict(data: dict, lstm: LSTMForecaster) -> VolatilityModel:
    """A saved volatility model; the LSTM head reads the saved network's state."""
    if data["kind"] == LSTMHead.name:
        return LSTMHead.from_dict(data, lstm)
    return saved_volatility(data)


def recent_sessions(saved: SavedCandidate) -> int:
    """The fewest recent sessions a served model answers from: its window, or the returns
    its own intervals scale by (the realized volatility's lookback), and the session
    before them (the first has no return); or its published intervals' need (a frozen
    log-HAR's month of ranges), whichever is more."""
    spec = saved.lstm.forecaster.preprocessor.spec
    own = max(spec.window, spec.volatility_lookback) + 1
    if saved.published_intervals is None:
        return own
    return max(own, sessions_needed(saved.published_intervals.candidate.volatility))


def forecast_recent(saved: SavedCandidate, recent: pd.DataFrame) -> pd.DataFrame:
    """What the registered model answers: the H sessions after the last one in `recent`.

    Args:
        saved: the LSTM with its intervals, and the intervals published with it.
        recent: at least `recent_sessions(saved)` in any order: `session` (dates or
            "YYYY-MM-DD"), `adjusted_close`, `close`, and `volume`, `open`, `high`,
            `low` when the model's features or its intervals' range measure use
            them. With published intervals frozen at a session, `recent` must hold
            that session and the one before it (a frozen log-HAR: the 22 up to it).

    Returns:
        One row per horizon: `as_of` (the last session, "YYYY-MM-DD"), `horizon`,
        `last_close` (its close), `forecast`, `lower_80`, `upper_80`, `lower_95`,
        `upper_95`, in the as_of session's own price units: for the model's own as_of,
        the rows of the forecast file published with it.

    Raises:
        ValueError: fewer than `recent_sessions(saved)` sessions, or none at the published
            intervals' session.
    """
    prices = recent.copy()
    prices["session"] = pd.to_datetime(prices["session"])
    prices = prices.sort_values("session").reset_index(drop=True)
    spec = saved.lstm.forecaster.preprocessor.spec
    needed = recent_sessions(saved)
    if len(prices) < needed:
        raise ValueError(f"needs at least {needed} recent sessions, got {len(prices)}")
    history = History.of(prices)
    answer = in_as_of_units(forecast_latest(saved.lstm, history, spec), prices)
    if saved.published_intervals is not None:
        bands = forecast_latest(saved.published_intervals.candidate, history, spec)
        answer = with_intervals(answer, in_as_of_units(bands, prices))
    answer.insert(0, "as_of", prices["session"].iloc[-1].strftime("%Y-%m-%d"))
    return answer
