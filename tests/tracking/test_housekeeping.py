from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tickercast.models.saved_candidate import SavedCandidate
from tickercast.tracking.housekeeping import prune
from tickercast.tracking.runs import Record


def test_pruning_keeps_registered_versions_and_each_tickers_latest_network(
    runs, registry, models, experiment, fitted_aapl, settings
):
    history, fitted = fitted_aapl
    candidate = SavedCandidate(fitted.candidates["lstm"])
    client = experiment.client
    ids = {}
    for name, ticker in (
        ("registered", "AAPL"),
        ("old", "AAPL"),
        ("latest", "AAPL"),
        ("msft", "MSFT"),
    ):
        run_id = runs.start_run(ticker, date(2013, 3, 1), Record())
        ids[name] = (
            run_id,
            models.log_model(run_id, candidate, history.prices, {"ticker": ticker}, {}),
        )
        runs.end_run(run_id, succeeded=True)
    run_id, model_id = ids["registered"]
    registry.register(run_id, "AAPL", model_id, "why it was registered", {"as_of": "x"})
    failed = runs.start_run("AAPL", date(2013, 3, 1), Record())  # a run that logged no model
    artifacts = Path(
        client.get_logged_model(ids["old"][1]).artifact_location.removeprefix("file://")
    )
    assert artifacts.exists()
    pruned = prune(experiment, datetime.now(UTC) + timedelta(seconds=1))
    assert (pruned.runs, pruned.models, pruned.permanent) == (2, 1, True)
    assert "2 runs and 1 LoggedModels deleted" in pruned.summary()
    left = {m.model_id for m in client.search_logged_models([experiment.id])}
    assert left == {ids["registered"][1], ids["latest"][1], ids["msft"][1]}
    runs_left = {r.info.run_id for r in client.search_runs([experiment.id])}
    assert runs_left == {ids["registered"][0], ids["latest"][0], ids["msft"][0]}
    assert failed not in runs_left and not artifacts.exists()  # removed for good, files too
    assert models.load_champion("AAPL") is None  # no alias was set; the version stays
    version = client.get_model_version("tickercast-AAPL", "1")
    assert version.source == f"models:/{ids['registered'][1]}"
    # a later prune before the same date has nothing left to remove
    assert prune(experiment, datetime.now(UTC)).runs == 0
