"""The commands that keep the stores in order: `verify` (and repair) the home's files,
`prune` old MLflow runs and LoggedModels."""

import argparse
from datetime import UTC, datetime, timedelta

from tickercast.cli.exit_codes import EXIT_FAILED, EXIT_OK
from tickercast.data.storage import Store
from tickercast.request import RunRequest
from tickercast.settings import Settings


def verify(arguments: argparse.Namespace, settings: Settings) -> int:
    """`tickercast verify`: check every stored file, repair what is broken if asked;
    exits 1 while something is broken."""
    from tickercast.data.ingest import stored_source
    from tickercast.data.sources import open_source
    from tickercast.data.verification import repair_home, verify_home

    store = Store(settings.home)
    problems = verify_home(store)
    for problem in problems:
        print(f"BROKEN  {problem.path}: {problem.detail} (repair: {problem.repair})")
    if problems and arguments.repair:

        def source_for(ticker: str):
            calendar = settings.calendar_for(ticker)
            # asked, or where its stored prices came from, or the request's default
            source = arguments.source or stored_source(store, ticker) or RunRequest.source
            return open_source(source, calendar), calendar

        for repair in repair_home(store, problems, source_for):
            what = repair.done or f"NOT repaired: {repair.failed}"
            print(f"REPAIR  {repair.problem.path}: {what}")
        problems = verify_home(store)
    print(
        f"{settings.home}: "
        + (f"{len(problems)} broken files" if problems else "every stored file reads as it should")
    )
    return EXIT_FAILED if problems else EXIT_OK


def prune(arguments: argparse.Namespace, settings: Settings) -> int:
    """`tickercast prune`: delete the MLflow runs and LoggedModels older than the
    retention, but what is registered and each ticker's latest network."""
    from tickercast.tracking.experiment import experiment_for
    from tickercast.tracking.housekeeping import prune as prune_store

    days = arguments.keep_days or settings.retention_days
    before = datetime.now(UTC) - timedelta(days=days)
    pruned = prune_store(experiment_for(settings), before)
    print(f"made before {before:%Y-%m-%d %H:%M} UTC: {pruned.summary()}")
    return EXIT_OK
