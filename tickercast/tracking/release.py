"""Releasing a day's forecast: log today's LSTM as a LoggedModel of the run when it
is a new network, register it and move the `champion` alias only if it earned it,
write the chosen forecast, ledger every candidate's, and record it all on the
ticker's run. The publish stage calls this and only adds Prefect's artifacts."""

from dataclasses import dataclass
from datetime import datetime

from tickercast.data.storage import Store
from tickercast.data.windows import TrainingSet
from tickercast.evaluation.champion import Champion, Choice, Evaluation, alias_moves
from tickercast.ledger.publish import Publication, publication, published_candidates, saved_lstm
from tickercast.models.fitting import Fitted
from tickercast.settings import Settings
from tickercast.tracking import run_record
from tickercast.tracking.model_store import model_store_for
from tickercast.tracking.registry import registry_for
from tickercast.tracking.runs import runs_for


@dataclass(frozen=True)
class Release:
    """What was published, the LoggedModel holding tonight's LSTM (logged tonight, or
    the network it reused), the version registered if it earned one, and whether it
    became champion."""

    publication: Publication
    model_id: str
    version: str | None
    promoted: bool

    def summary(self) -> str:
        """One line for the run's log."""
        if self.version is None:
            return f"{self.publication.summary()}; the LSTM is LoggedModel {self.model_id}"
        promotion = ", now champion" if self.promoted else ""
        return f"{self.publication.summary()}; registered v{self.version}{promotion}"


def release(
    training: TrainingSet,
    fitted: Fitted,
    evaluation: Evaluation,
    champion: Champion | None,
    alarm: str | None,
    run_id: str,
    settings: Settings,
    published_at: datetime,
) -> Release:
    """Register, promote, publish and ledger one ticker's forecast.

    Args:
        training: the history and split the run used.
        fitted: today's candidates.
        evaluation: the holdout scores and the gate's decision.
        champion: the registered champion, if any.
        alarm: the track record's calibration alarm, if one is raised today.
        run_id: the ticker's MLflow run.
        settings: where the home and the MLflow store are.
        published_at: the publication's time in the ledger.

    Returns:
        The release.
    """
    ticker, store = training.ticker, Store(settings.home)
    runs, registry = runs_for(settings), registry_for(settings)
    candidates = published_candidates(training, fitted, evaluation, champion)
    decision = evaluation.decision
    promoted = alias_moves(decision, champion, training.as_of)
    # the registry holds what was promoted or published, not every evening's network
    registered = promoted or decision.published is Choice.LSTM
    model_id = fitted.plan.logged_as
    # a network is logged when it is new; a reused one is logged again only to be
    # registered, as tonight's scalers and intervals make it
    if model_id is None or registered:
        model_id = model_store_for(settings).log_model(
            run_id,
            saved_lstm(training, candidates, evaluation),
            training.prices,
            run_record.lstm_tags(training, fitted),
            run_record.lstm_metrics(evaluation),
        )
    version = None
    if registered:
        version = registry.register(
            run_id,
            ticker,
            model_id,
            run_record.registered_description(training, evaluation, promoted),
            run_record.registered_tags(training, evaluation),
        )
    if promoted:
        registry.set_champion(ticker, version)
    versions = {"lstm": version, "champion": champion and champion.version}
    done = publication(
        training,
        candidates,
        evaluation,
        versions,
        run_id,
        runs.run_url(run_id),
        store.forecast_file(ticker, training.as_of),
        settings.calendar_for(ticker),
        alarm,
    )
    runs.log_file(run_id, store.write_forecast(done.frame), "forecast")
    store.append_ledger(done.ledger, published_at)
    runs.record(run_id, run_record.publication(done, model_id, version, training))
    return Release(done, model_id, version, promoted)
