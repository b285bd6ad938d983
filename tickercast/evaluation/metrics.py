"""Forecast metrics: points always next to the naive forecast "next close = last close",
intervals by proper scores and calibration tests."""

import numpy as np


def rmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean((np.asarray(actual) - np.asarray(predicted)) ** 2)))


def mae(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(actual) - np.asarray(predicted))))


def rmse_ratio(errors: np.ndarray, naive_errors: np.ndarray) -> float:
    """RMSE of `errors` over the naive forecast's on the same targets (below 1 beats
    naive); NaN when there is none or naive made no error."""
    if len(errors) == 0:
        return float("nan")
    naive = rmse(naive_errors, 0.0)
    return rmse(errors, 0.0) / naive if naive > 0 else float("nan")


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
    """One-sided Diebold-Mariano p-value that the model is more accurate than naive,
    on squared errors (`loss_pvalue`).

    Args:
        model_errors: (n,) the model's forecast errors.
        naive_errors: (n,) the naive forecast's errors at the same points.
        horizon: sessions ahead, h.

    Returns:
        The p-value (small: the model beats naive); NaN when the forecasts are identical.
    """
    return loss_pvalue(np.asarray(model_errors) ** 2, np.asarray(naive_errors) ** 2, horizon)


def loss_pvalue(losses: np.ndarray, reference_losses: np.ndarray, horizon: int) -> float:
    """One-sided Diebold-Mariano p-value that `losses` are smaller than the reference's.

    The loss differential's long-run variance sums its autocovariances up to lag h-1
    (h-step forecasts overlap), with Harvey, Leybourne and Newbold's small-sample
    correction and a Student t reference. Any loss works: squared errors, interval scores.

    Args:
        losses: (n,) the model's loss at each point.
        reference_losses: (n,) the reference's loss at the same points.
        horizon: sessions ahead, h (1 when the points do not overlap).

    Returns:
        The p-value (small: the model's losses are smaller); NaN when they are identical
        or there are fewer than two points.
    """
    from scipy.stats import t as student_t

    differential = np.asarray(losses, dtype="float64") - np.asarray(reference_losses)
    n = len(differential)
    if n < 2:
        return float("nan")
    centred = differential - differential.mean()
    variance = np.sum(centred**2) / n
    for lag in range(1, horizon):
        variance += 2 * np.sum(centred[lag:] * centred[:-lag]) / n
    if variance <= 0:
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
    return {
        "rmse": rmse(actual, forecast),
        "mae": mae(actual, forecast),
        "rmse_ratio": rmse_ratio(errors, naive_errors),
        "directional_accuracy": hits / trials if trials else float("nan"),
        "da_pvalue": binomial_pvalue(hits, trials),
        "dm_pvalue": diebold_mariano_pvalue(errors, naive_errors, horizon),
    }


def interval_score(
    actual: np.ndarray, lower: np.ndarray, upper: np.ndarray, level: float
) -> np.ndarray:
    """The interval (Winkler) score of each central interval: its width, plus 2/alpha
    times how far the outcome fell outside it (Gneiting and Raftery 2007). Lower is
    better; unlike coverage, it punishes an interval for being too wide.

    Args:
        actual: (n,) outcomes.
        lower, upper: (n,) the interval's bounds.
        level: its nominal coverage, 1 - alpha.

    Returns:
        (n,) scores, in the outcome's units.
    """
    actual, lower, upper = (np.asarray(a, dtype="float64") for a in (actual, lower, upper))
    alpha = 1 - level
    below = np.clip(lower - actual, 0, None)
    above = np.clip(actual - upper, 0, None)
    return upper - lower + 2 / alpha * (below + above)


def pinball_loss(actual: np.ndarray, quantile: np.ndarray, tau: float) -> np.ndarray:
    """The pinball (quantile) loss of each forecast of the `tau` quantile.

    Args:
        actual: (n,) outcomes.
        quantile: (n,) the forecast quantile, e.g. an 80 % interval's lower bound for tau 0.1.
        tau: the quantile's level.

    Returns:
        (n,) losses, in the outcome's units.
    """
    difference = np.asarray(actual, dtype="float64") - np.asarray(quantile, dtype="float64")
    return np.maximum(tau * difference, (tau - 1) * difference)


def kupiec_pvalue(inside: np.ndarray, level: float) -> float:
    """Kupiec's unconditional-coverage (proportion of failures) likelihood-ratio test.

    Under the null the outcomes fall outside the interval independently with
    probability 1 - level; the statistic is chi-squared with one degree of freedom.

    Args:
        inside: (n,) whether each outcome fell inside its interval.
        level: the intervals' nominal coverage.

    Returns:
        The p-value (small: the coverage is not what chance allows); NaN with no outcome.
    """
    from scipy.stats import chi2

    n = len(inside)
    if n == 0:
        return float("nan")
    misses = int(n - np.sum(inside))
    expected, observed = 1 - level, misses / n

    def log_likelihood(p: float) -> float:
        hits = (n - misses) * np.log1p(-p) if n > misses else 0.0  # 0 * log 0 = 0
        return hits + (misses * np.log(p) if misses else 0.0)

    statistic = -2 * (log_likelihood(expected) - log_likelihood(observed))
    return float(chi2.sf(max(statistic, 0.0), df=1))


def christoffersen_pvalue(inside: np.ndarray) -> float:
    """Christoffersen's independence likelihood-ratio test of an interval's misses.

    Under the null a miss is as likely after a miss as after a hit (misses do not
    cluster, as they do when an interval is slow to widen in a storm); the statistic
    compares a first-order Markov chain of misses with independent ones and is
    chi-squared with one degree of freedom. Only meaningful for forecasts that do not
    overlap (one session ahead): h-step misses cluster by construction.

    Args:
        inside: (n,) whether each outcome fell inside its interval, in time order.

    Returns:
        The p-value (small: misses cluster, or avoid each other); NaN with fewer than
        two outcomes.
    """
    from scipy.special import xlogy
    from scipy.stats import chi2

    missed = ~np.asarray(inside, dtype=bool)
    if len(missed) < 2:
        return float("nan")
    before, after = missed[:-1], missed[1:]
    pairs = [(a, b) for a in (False, True) for b in (False, True)]
    counts = {(a, b): int(np.sum((before == a) & (after == b))) for a, b in pairs}

    def log_likelihood(stays: int, moves: int) -> float:
        total = stays + moves
        return float(xlogy(stays, stays / total) + xlogy(moves, moves / total)) if total else 0.0

    separate = log_likelihood(counts[False, False], counts[False, True]) + log_likelihood(
        counts[True, False], counts[True, True]
    )
    together = log_likelihood(
        counts[False, False] + counts[True, False], counts[False, True] + counts[True, True]
    )
    return float(chi2.sf(max(-2 * (together - separate), 0.0), df=1))


TERCILES = ("low_vol", "mid_vol", "high_vol")


def interval_metrics(
    actual: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    level: float,
    volatility: np.ndarray,
) -> dict[str, float]:
    """Proper scores and calibration tests of one level's intervals, in time order.

    Args:
        actual: (n,) outcomes.
        lower, upper: (n,) the intervals' bounds, in the outcomes' units.
        level: their nominal coverage.
        volatility: (n,) the realized volatility at each forecast's origin, whose
            terciles split the coverage into calm, normal and stormy markets.

    Returns:
        With L the level in percent: `coverage_L`, `interval_score_L` (mean Winkler
        score), `pinball_lower_L` and `pinball_upper_L` (mean pinball loss of each
        bound as a quantile), `kupiec_p_L`, `christoffersen_p_L`, and `coverage_L_low_vol`,
        `coverage_L_mid_vol`, `coverage_L_high_vol` (coverage within each tercile of
        the origin's volatility).
    """
    percent = round(level * 100)
    inside = (actual >= lower) & (actual <= upper)
    alpha = 1 - level
    metrics = {
        f"coverage_{percent}": float(np.mean(inside)),
        f"interval_score_{percent}": float(np.mean(interval_score(actual, lower, upper, level))),
        f"pinball_lower_{percent}": float(np.mean(pinball_loss(actual, lower, alpha / 2))),
        f"pinball_upper_{percent}": float(np.mean(pinball_loss(actual, upper, 1 - alpha / 2))),
        f"kupiec_p_{percent}": kupiec_pvalue(inside, level),
        f"christoffersen_p_{percent}": christoffersen_pvalue(inside),
    }
    for name, coverage in coverage_by_tercile(inside, volatility).items():
        metrics[f"coverage_{percent}_{name}"] = coverage
    return metrics


def coverage_by_tercile(inside: np.ndarray, volatility: np.ndarray) -> dict[str, float]:
    """Coverage within each tercile of the origins' volatility (`TERCILES`).

    Args:
        inside: (n,) whether each outcome fell inside its interval.
        volatility: (n,) the volatility at each forecast's origin.

    Returns:
        `{tercile: coverage}`; NaN for a tercile with no forecast.
    """
    inside, volatility = np.asarray(inside, dtype=bool), np.asarray(volatility, dtype="float64")
    edges = np.quantile(volatility, [1 / 3, 2 / 3]) if len(volatility) else np.zeros(2)
    tercile = np.searchsorted(edges, volatility, side="right")  # 0, 1, 2
    return {
        name: float(np.mean(inside[tercile == index])) if (tercile == index).any() else np.nan
        for index, name in enumerate(TERCILES)
    }
