"""The name every registered model loads through: the code MLflow copied into models
of every format, and the code logged today, import it, and it is the saved format's."""

from pathlib import Path

from tickercast import model_artifact
from tickercast.models import saved_candidate
from tickercast.tracking.model_store import MODEL_CODE

FIXTURES = Path(__file__).resolve().parent / "fixtures"
IMPORT = "from tickercast.model_artifact import forecast_recent, load_candidate"


def test_models_of_every_format_and_todays_code_load_through_the_same_name():
    for code in (FIXTURES / "model-v1" / "model_code.py", FIXTURES / "model-v2" / "model_code.py"):
        assert IMPORT in code.read_text(), code
    assert IMPORT in MODEL_CODE.read_text()
    assert model_artifact.load_candidate is saved_candidate.load_candidate
    assert model_artifact.forecast_recent is saved_candidate.forecast_recent
