"""The name every registered model loads through: keep it.

MLflow copies `tickercast/tracking/model_code.py` into each model it logs and runs that
copy whenever the model is loaded or served; the copy imports `load_candidate` and
`forecast_recent` from this module, by this name, from the installed package. Models
registered months ago carry copies that say `tickercast.model_artifact`, so this
module stays where it is, whatever moves behind it (`tests/fixtures/model-v1`, `-v2`
are such models). The format itself lives in `tickercast.models.saved_candidate`.
"""

from tickercast.models.saved_candidate import forecast_recent, load_candidate

__all__ = ["forecast_recent", "load_candidate"]
