"""The candidates' names, apart from the models: a command that only reads what was
published (`tickercast track`) names them without loading TensorFlow.

*Point* candidates compete for the point forecast, each with conformal intervals
scaled by the realized volatility; *interval* candidates all forecast naive's zero
return and compete for the published intervals only: each volatility model with its
own distribution's quantiles and conformalized, and unscaled conformal (`static`).
"""

POINT_MODELS = ("lstm", "naive", "drift", "ar")
# naive's zero return with each volatility model's intervals: its own and conformalized
VOLATILITY_MODELS = ("ewma", "garch", "gjr", "lstm_head")
INTERVAL_MODELS = (
    "static",
    *(f"{name}{suffix}" for name in VOLATILITY_MODELS for suffix in ("", "_conformal")),
)
