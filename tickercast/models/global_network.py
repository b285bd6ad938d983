"""One LSTM for a whole universe: trained on the pooled windows of every ticker, each
ticker's windows normalised by its own scalers, and used in each ticker's daily run
with that ticker's own scalers (`Training.GLOBAL` in `tickercast.models.retraining`).

Why: a per-ticker LSTM learns from one stock's few thousand windows and rarely beats
naive; one network sees every stock's, is trained once per cadence (its own flow,
weekly) instead of once per ticker and evening, and lets the daily run skip training.

Every ticker's split is the daily run's own (`split_origins`): the network learns on
each ticker's fit origins and stops early on their calibration origins, so a daily run
as of a later session scores it on holdout origins it never saw. The saved network is
plain data: `network.keras` and `global.json`, no class of ours pickled.
"""

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from tickercast.data.history import History
from tickercast.data.storage import Store
from tickercast.data.windows import WindowSpec, select_history, split_origins
from tickercast.errors import InputError, InsufficientHistoryError, ModelFormatError
from tickercast.models.network import TrainedModel, train_network
from tickercast.models.network_config import ModelConfig
from tickercast.models.scaling import Preprocessor

FORMAT_VERSION = 1
NETWORK, STATE = "network.keras", "global.json"


@dataclass(frozen=True)
class GlobalConfig:
    """What the global network trains on, beyond the per-ticker model's hyperparameters.

    Attributes:
        windows_per_ticker: the most recent fit windows each ticker contributes (None:
            all): 500 (two years) keeps 480 tickers to ~240,000 windows, about 2.5 min
            an epoch on two cores, and lets no long history outweigh the rest.
    """

    windows_per_ticker: int | None = 500


@dataclass(frozen=True)
class PooledWindows:
    """Every ticker's windows, normalised by its own scalers, pooled.

    Attributes:
        fit: (n, window, F) inputs and (n, H) targets of the tickers' fit origins.
        calibration: the same of their calibration origins (early stopping).
        tickers: the tickers pooled.
        skipped: tickers left out, and why (too little history).
    """

    fit: tuple[np.ndarray, np.ndarray]
    calibration: tuple[np.ndarray, np.ndarray]
    tickers: tuple[str, ...]
    skipped: dict[str, str]


@dataclass(frozen=True)
class GlobalNetwork:
    """The universe's network and what it was trained on.

    Attributes:
        network: maps a ticker's scaled windows (n, window, F) to scaled targets (n, H).
        spec: the windows it takes.
        as_of: the last session any of its training windows saw.
        tickers: the tickers it was trained on.
    """

    network: keras.Model
    spec: WindowSpec
    as_of: date
    tickers: tuple[str, ...]


def pooled_windows(
    histories: Mapping[str, pd.DataFrame], spec: WindowSpec, config: GlobalConfig
) -> PooledWindows:
    """Pool every ticker's fit and calibration windows, each normalised by scalers
    fitted on its own fit origins, as the daily run fits them.

    Args:
        histories: canonical prices per ticker, up to the same as_of.
        spec: windows and split.
        config: how many windows a ticker contributes.

    Returns:
        The pooled windows; tickers with too little history are skipped, named.
    """
    fit, calibration, pooled, skipped = [], [], [], {}
    for ticker, prices in histories.items():
        try:
            split = split_origins(len(prices), spec, ticker)
        except InsufficientHistoryError as error:
            skipped[ticker] = str(error)
            continue
        history = History.of(prices)
        preprocessor = Preprocessor.fit(history, spec, split.fit)
        recent = split.fit[-config.windows_per_ticker :] if config.windows_per_ticker else split.fit
        for block, origins in ((fit, recent), (calibration, split.calibration)):
            block.append(
                (preprocessor.inputs(history, origins), preprocessor.targets(history, origins))
            )
        pooled.append(ticker)
    if not pooled:
        raise InsufficientHistoryError(
            "every ticker", spec.min_sessions, 0, "no ticker has enough history"
        )
    return PooledWindows(
        fit=tuple(np.concatenate(arrays) for arrays in zip(*fit, strict=True)),
        calibration=tuple(np.concatenate(arrays) for arrays in zip(*calibration, strict=True)),
        tickers=tuple(pooled),
        skipped=skipped,
    )


@dataclass(frozen=True)
class UniverseTraining:
    """A global network and how it was made.

    Attributes:
        model: the network.
        trained: its training record (history, best epoch, fit seconds).
        windows: the fit and calibration windows pooled (n of each).
        skipped: tickers left out, and why (nothing stored, too little history).
    """

    model: GlobalNetwork
    trained: TrainedModel
    windows: tuple[int, int]
    skipped: dict[str, str]

    def summary(self) -> str:
        """One line for the flow's log."""
        model, trained = self.model, self.trained
        return (
            f"global network as of {model.as_of}: {len(model.tickers)} tickers, "
            f"{self.windows[0]:,} fit windows, {len(trained.history['loss'])} epochs in "
            f"{trained.fit_seconds:.0f} s, kept epoch {trained.best_epoch}; "
            f"{len(self.skipped)} tickers skipped"
        )


def train_universe(
    store: Store,
    tickers: Sequence[str],
    start: date | None,
    as_of: date | None,
    spec: WindowSpec,
    config: ModelConfig,
    calendar_for: Callable[[str], str],
    global_config: GlobalConfig = GlobalConfig(),  # noqa: B008 - frozen
) -> UniverseTraining:
    """Train one network on the pooled windows of every ticker's stored prices from
    `start` up to `as_of` (the tutorial's network, seeded, stopping early on the
    pooled calibration windows).

    Args:
        store: where the prices are stored (the daily runs ingest them).
        tickers: the universe.
        start: first session of each history; None: all of it.
        as_of: last session; None: each ticker's latest stored.
        spec: windows and split, as the daily run will use them.
        config: the network's hyperparameters.
        calendar_for: each ticker's exchange calendar.
        global_config: how many windows a ticker contributes.

    Returns:
        The network, as of the latest session any history reaches.

    Raises:
        InsufficientHistoryError: no ticker has enough stored history.
    """
    histories, skipped = {}, {}
    for ticker in tickers:
        try:
            stored = store.read_prices(ticker)
            histories[ticker] = select_history(stored, ticker, start, as_of, calendar_for(ticker))
        except InputError as error:
            skipped[ticker] = str(error)
    windows = pooled_windows(histories, spec, global_config)
    trained = train_network(windows.fit, windows.calibration, config)
    last = max(histories[t]["session"].iloc[-1].date() for t in windows.tickers)
    model = GlobalNetwork(trained.network, spec, last, windows.tickers)
    counts = (len(windows.fit[1]), len(windows.calibration[1]))
    return UniverseTraining(model, trained, counts, {**skipped, **windows.skipped})


def save_global(model: GlobalNetwork, folder: Path) -> Path:
    """Write the network and what it was trained on, in format `FORMAT_VERSION`."""
    folder.mkdir(parents=True, exist_ok=True)
    model.network.save(folder / NETWORK)
    state = {
        "format_version": FORMAT_VERSION,
        "spec": asdict(model.spec),
        "as_of": model.as_of.isoformat(),
        "tickers": list(model.tickers),
    }
    (folder / STATE).write_text(json.dumps(state, indent=1))
    return folder


def load_global(folder: Path) -> GlobalNetwork:
    """Read a saved global network.

    Raises:
        ModelFormatError: files this version cannot read, named.
    """
    try:
        state = json.loads((folder / STATE).read_text())
    except (OSError, ValueError) as error:
        raise ModelFormatError(f"{folder}: no readable {STATE}: {error}") from None
    if state.get("format_version") != FORMAT_VERSION:
        raise ModelFormatError(
            f"{folder}: global model format_version {state.get('format_version')!r}, "
            f"this tickercast reads {FORMAT_VERSION}"
        )
    return GlobalNetwork(
        network=keras.saving.load_model(folder / NETWORK, compile=False),
        spec=WindowSpec.from_dict(state["spec"]),
        as_of=date.fromisoformat(state["as_of"]),
        tickers=tuple(state["tickers"]),
    )
