"""The candidates' names, apart from the models: a command that only reads what was
published (`tickercast track`) names them without loading TensorFlow.

*Point* candidates compete for the point forecast, each with conformal intervals
scaled by the realized volatility; *interval* candidates all forecast naive's zero
return and compete for the published intervals only: each volatility model with its
own distribution's quantiles and conformalized, and unscaled conformal (`static`).
"""

POINT_MODELS = ("lstm", "naive", "drift", "ar")
# naive's zero return with each volatility model's intervals: its own and conformalized
VOLATILITY_MODELS = (
    *("ewma", "garch", "gjr", "lstm_head"),
    *("range_garch", "range_gjr", "har", "blend"),
)
# the models that read the daily bar's open, high and low: a close-only source's
# tickers go without them
BAR_MODELS = ("range_garch", "range_gjr", "har", "blend")
INTERVAL_MODELS = (
    "static",
    *(f"{name}{suffix}" for name in VOLATILITY_MODELS for suffix in ("", "_conformal")),
)


def uses_bar(candidate: str) -> bool:
    """Whether an interval candidate needs the open, high and low."""
    return candidate.removesuffix("_conformal") in BAR_MODELS
