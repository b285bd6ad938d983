import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np

from tickercast.models.saved_candidate import SavedCandidate
from tickercast.tracking.runs import Record


def _register(registry, run_id: str, ticker: str, model_id: str) -> str:
    return registry.register(run_id, ticker, model_id, "why it was registered", {"as_of": "x"})


def test_models_are_registered_per_ticker_and_the_champion_loads(
    runs, registry, models, experiment, settings, fitted_aapl, small_spec
):
    history, fitted = fitted_aapl
    candidate = fitted.candidates["lstm"]
    client = experiment.client
    assert models.load_champion("BRK.B") is None
    versions = []
    for _ in range(2):
        run_id = runs.start_run("BRK.B", date(2013, 3, 1), Record())
        saved = SavedCandidate(candidate)
        model_id = models.log_model(run_id, saved, history.prices, {"ticker": "BRK.B"}, {})
        assert client.get_run(run_id).info.status == "RUNNING"  # still being worked on
        versions.append(_register(registry, run_id, "BRK.B", model_id))
        runs.end_run(run_id, succeeded=True)
    assert versions == ["1", "2"]
    registered = client.get_model_version("tickercast-BRK.B", "2")
    assert registered.run_id == run_id
    assert (registered.description, registered.tags) == ("why it was registered", {"as_of": "x"})
    registry.set_champion("BRK.B", "1")
    assert [(v.version, v.champion) for v in registry.registered_versions("BRK.B")] == [
        ("1", True),
        ("2", False),
    ]
    assert registry.registered_versions("MSFT") == []
    champion = models.load_champion("BRK.B")
    assert champion.version == "1" and champion.as_of == date(2013, 3, 1)
    origins = fitted.split.holdout
    np.testing.assert_allclose(
        champion.candidate.forecaster.predict(history, origins),
        candidate.forecaster.predict(history, origins),
        rtol=1e-5,
    )
    # a fresh process whose first MLflow call is loading the champion (a scheduled run)
    loaded = subprocess.run(
        [sys.executable, "-c", FRESH_LOAD],
        capture_output=True,
        text=True,
        env={**os.environ, "TICKERCAST_HOME": str(settings.home)},
    )
    assert loaded.stdout.split() == ["1", "True", "2013-03-01"], loaded.stderr[-2000:]
    # files without candidate.json, as an older tickercast registered them: the champion
    # is not comparable but keeps its as_of (a replay must not take the alias)
    source = client.get_model_version("tickercast-BRK.B", "2").source
    model = client.get_logged_model(source.removeprefix("models:/"))
    folder = Path(model.artifact_location.removeprefix("file://")) / "artifacts" / "candidate"
    (folder / "candidate.json").unlink()
    registry.set_champion("BRK.B", "2")
    older = models.load_champion("BRK.B")
    assert (older.version, older.candidate, older.as_of) == ("2", None, date(2013, 3, 1))
    assert "models:/tickercast-BRK.B/2" in older.unreadable


FRESH_LOAD = """
from tickercast.settings import Settings
from tickercast.tracking.model_store import model_store_for
champion = model_store_for(Settings.from_env()).load_champion("BRK.B")
print(champion.version, champion.candidate is not None, champion.as_of)
"""
