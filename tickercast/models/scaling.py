"""Scaling a model's inputs and targets with what its fit origins see, and nothing later.

Apart from `tickercast.data.windows` because scikit-learn takes 0.6 s to import, and the
commands that only read (`status`, `forecast`, ...) need the windows' spec, not scalers.
"""

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from tickercast.data.history import History
from tickercast.data.windows import WindowSpec, origin_windows

# What transform and inverse_transform read, per scaler kind; `n_samples_seen_` is
# left out: only partial_fit reads it, and a fitted preprocessor is never refitted.
_SCALER_STATE = {
    "standard": (StandardScaler, ("mean_", "var_", "scale_")),
    "minmax": (MinMaxScaler, ("min_", "scale_", "data_min_", "data_max_", "data_range_")),
}


@dataclass(frozen=True)
class Preprocessor:
    """Scales inputs and targets with statistics of the fit origins only.

    `returns`: inputs standardized per feature, targets standardized per horizon.
    `price`: inputs and targets min-max scaled by the adjusted closes the fit origins
    see (the tutorial's scaler, without its leak).
    """

    spec: WindowSpec
    input_scaler: StandardScaler | MinMaxScaler
    target_scaler: StandardScaler | None

    @classmethod
    def fit(cls, history: History, spec: WindowSpec, fit_origins: np.ndarray) -> "Preprocessor":
        """Fit the scalers on what the fit origins see: their windows and targets."""
        features = history.inputs(spec.target, spec.features)
        seen = features[fit_origins[0] - spec.window + 1 : fit_origins[-1] + spec.horizons + 1]
        if spec.target == "price":
            return cls(spec, MinMaxScaler().fit(seen), None)
        targets = history.targets(fit_origins, spec.horizons)
        return cls(spec, StandardScaler().fit(seen), StandardScaler().fit(targets))

    def inputs(self, history: History, origins: np.ndarray) -> np.ndarray:
        """(n, window, F) float32 scaled inputs at `origins`."""
        features = history.inputs(self.spec.target, self.spec.features)  # (N, F)
        scaled = self.input_scaler.transform(features)
        return origin_windows(scaled, self.spec.window, origins).astype("float32")

    def targets(self, history: History, origins: np.ndarray) -> np.ndarray:
        """(n, H) float32 scaled targets at `origins` (whose targets must be known)."""
        if self.spec.target == "price":
            ahead = origins[:, None] + np.arange(1, self.spec.horizons + 1)[None, :]
            return (
                self.input_scaler.transform(history.adjusted[ahead].reshape(-1, 1))
                .reshape(ahead.shape)
                .astype("float32")
            )
        log_returns = history.targets(origins, self.spec.horizons)
        return self.target_scaler.transform(log_returns).astype("float32")

    def to_log_returns(
        self, scaled: np.ndarray, history: History, origins: np.ndarray
    ) -> np.ndarray:
        """(n, H) scaled network outputs -> cumulative log returns from each origin's close."""
        if self.spec.target == "price":
            levels = self.input_scaler.inverse_transform(scaled.reshape(-1, 1)).reshape(
                scaled.shape
            )
            current = history.adjusted[origins][:, None]
            return np.log(np.maximum(levels, 1e-12) / current)
        return self.target_scaler.inverse_transform(scaled)

    def as_dict(self) -> dict:
        """The spec and the scalers' fitted statistics as plain data (JSON-ready)."""
        return {
            "spec": asdict(self.spec),
            "input_scaler": _scaler_as_dict(self.input_scaler),
            "target_scaler": _scaler_as_dict(self.target_scaler)
            if self.target_scaler is not None
            else None,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Preprocessor":
        """The preprocessor that `as_dict` described, with fitted scikit-learn scalers."""
        spec = data["spec"]
        target = data["target_scaler"]
        return cls(
            WindowSpec.from_dict(spec),
            _scaler_from_dict(data["input_scaler"]),
            _scaler_from_dict(target) if target is not None else None,
        )


def _scaler_as_dict(scaler: StandardScaler | MinMaxScaler) -> dict:
    kind = next(
        kind for kind, (kind_class, _) in _SCALER_STATE.items() if type(scaler) is kind_class
    )
    return {
        "kind": kind,
        "params": scaler.get_params(),
        "n_features_in": int(scaler.n_features_in_),
        **{name: getattr(scaler, name).tolist() for name in _SCALER_STATE[kind][1]},
    }


def _scaler_from_dict(data: dict) -> StandardScaler | MinMaxScaler:
    scaler_class, fitted = _SCALER_STATE[data["kind"]]
    # JSON turned MinMaxScaler's feature_range tuple into a list
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in data["params"].items()}
    scaler = scaler_class(**params)
    scaler.n_features_in_ = data["n_features_in"]
    for name in fitted:
        setattr(scaler, name, np.asarray(data[name], dtype="float64"))
    return scaler
