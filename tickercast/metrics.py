"""Point-forecast metrics, always next to the naive forecast "next close = last close"."""

import numpy as np


def rmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean((np.asarray(actual) - np.asarray(predicted)) ** 2)))


def mae(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(actual) - np.asarray(predicted))))


def binomial_pvalue(hits: int, trials: int) -> float:
    """One-sided p-value of `hits` right calls in `trials` against a coin flip (50 %)."""
    from scipy.stats import binomtest

    return (
        float(binomtest(hits, trials, 0.5, alternative="greater").pvalue)
        if trials
        else float("nan")
    )


def diebold_mariano_pvalue(
    model_errors: np.ndarray, naive_errors: np.ndarray, horizon: int
) -> float:
    """One-sided Diebold-Mariano p-value that the model is more accurate than naive.

    Squared-error loss; the loss differential's long-run variance sums its
    autocovariances up to lag h-1 (h-step forecasts overlap), with Harvey,
    Leybourne and Newbold's small-sample correction and a Student t reference.

    Args:
        model_errors: (n,) the model's forecast errors.
        naive_errors: (n,) the naive forecast's errors at the same points.
        horizon: sessions ahead, h.

    Returns:
        The p-value (small: the model beats naive); NaN when the forecasts are identical.
    """
    from scipy.stats import t as student_t

    differential = np.asarray(model_errors) ** 2 - np.asarray(naive_errors) ** 2
    n = len(differential)
    centred = differential - differential.mean()
    variance = np.sum(centred**2) / n
    for lag in range(1, horizon):
        variance += 2 * np.sum(centred[lag:] * centred[:-lag]) / n
    if n < 2 or variance <= 0:
        return float("nan")
    statistic = differential.mean() / np.sqrt(variance / n)
    correction = np.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    return float(student_t.cdf(statistic * correction, df=n - 1))


def horizon_metrics(
    actual: np.ndarray, forecast: np.ndarray, origin: np.ndarray, horizon: int
) -> dict[str, float]:
    """Metrics of one model at one horizon, in prices, against the naive forecast.

    Args:
        actual: (n,) realised closes h sessions after each origin.
        forecast: (n,) the model's forecasts of them.
        origin: (n,) the close at each origin: the naive forecast.
        horizon: h.

    Returns:
        `rmse`, `mae`, `rmse_ratio`, `directional_accuracy`, `da_pvalue` (one-sided
        binomial against 50 %; overlapping h-step calls are not independent, so for
        h > 1 it overstates significance), `dm_pvalue` (one-sided Diebold-Mariano:
        small when the model beats naive).
    """
    errors, naive_errors = actual - forecast, actual - origin
    moved = np.sign(actual - origin) != 0
    called = np.sign(forecast - origin)
    hits = int(np.sum((np.sign(actual - origin) == called) & moved & (called != 0)))
    trials = int(np.sum(moved & (called != 0)))
    naive_rmse = rmse(actual, origin)
    return {
        "rmse": rmse(actual, forecast),
        "mae": mae(actual, forecast),
        "rmse_ratio": rmse(actual, forecast) / naive_rmse if naive_rmse > 0 else float("nan"),
        "directional_accuracy": hits / trials if trials else float("nan"),
        "da_pvalue": binomial_pvalue(hits, trials),
        "dm_pvalue": diebold_mariano_pvalue(errors, naive_errors, horizon),
    }
