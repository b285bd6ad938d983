"""The commands that show what is stored and published: `status`, `forecast`, `track`,
and `plots` (a run's holdout figures, drawn from MLflow)."""

import argparse
import sys
from pathlib import Path

from tickercast.cli.exit_codes import EXIT_FAILED, EXIT_OK
from tickercast.cli.tables import (
    SHADOW_INTERVAL_COLUMNS,
    SHADOW_POINT_COLUMNS,
    TRACK_COLUMNS,
    forecast_text,
    number,
    track_table,
)
from tickercast.data.storage import Store
from tickercast.data.tickers import normalize_ticker, ticker_slug
from tickercast.errors import InputError, StoredFileError
from tickercast.request import RunRequest
from tickercast.settings import Settings


def status(request: RunRequest, settings: Settings, all_known: bool) -> int:
    """`tickercast status`: per ticker, its data, last run, champion, track record and
    forecast; exits 1 when one needs attention."""
    from tickercast.tracking.status import known_tickers, status_report

    tickers = known_tickers(Store(settings.home)) if all_known else list(request.ticker_list)
    if not tickers:
        print(f"nothing stored under {settings.home}", file=sys.stderr)
        return EXIT_FAILED
    report = status_report(tickers, settings)
    if report.tracking_problem:
        print(f"MLflow: {report.tracking_problem}", file=sys.stderr)
    statuses = report.statuses
    for status in statuses:
        print(status.ticker)
        data = f"{status.sessions} sessions to {status.last_session}"
        ingest = f"; last ingest {status.last_ingest[:19]}" if status.last_ingest else ""
        stored = "unreadable" if status.problems else "nothing stored"
        if not status.stored:
            print("  data:     never stored prices (a symbol no source had?)")
        else:
            print(f"  data:     {data if status.sessions else stored}{ingest}")
        for problem in status.problems:
            print(f"  BROKEN:   {problem}")
        if status.outcome:
            outcome = status.outcome
            print(f"  outcome:  {outcome['status']} at {outcome['at'][:19]}: {outcome['detail']}")
        if run := status.last_run:
            ratio = run.published_rmse_ratio
            print(
                f"  last run: {run.name} {run.status}, published {run.published_model}"
                + (f" (rmse_ratio {ratio:.3f})" if ratio is not None else "")
            )
        if champion := status.champion:
            ratio = champion.rmse_ratio
            print(
                f"  champion: v{champion.version} trained as of {champion.as_of}"
                + (f", holdout rmse_ratio {ratio:.3f}" if ratio is not None else "")
            )
        else:
            print("  champion: none (naive is published until a model beats it)")
        if record := status.track_record:
            live = [
                r
                for r in record["rows"]
                if (r["model"], r["horizon"], r["window"]) == ("published", 1, "60")
            ]
            for r in live:
                print(
                    f"  live:     h=1, last {r['forecasts']} scored as of {record['as_of']}: "
                    f"rmse_ratio {number(r['rmse_ratio'], '.3f')}, coverage 80/95 "
                    f"{r['coverage_80']:.2f}/{r['coverage_95']:.2f} (Kupiec p "
                    f"{number(r['kupiec_p_80'], '.2g')}/{number(r['kupiec_p_95'], '.2g')})"
                )
            if record["alarm"]:
                print(f"  ALARM:    {record['alarm']}")
        if row := status.forecast:
            print(
                f"  forecast: {row['forecast']:.2f} for {row['target_date']} as of {row['as_of']} "
                f"({row['model']}), {row['lower_80']:.2f}-{row['upper_80']:.2f} at 80 %"
            )
    return EXIT_FAILED if any(status.needs_attention for status in statuses) else EXIT_OK


def forecast(arguments: argparse.Namespace, settings: Settings) -> int:
    """`tickercast forecast`: the latest published forecast of one ticker, or of each."""
    store = Store(settings.home)
    tickers = (
        [normalize_ticker(arguments.ticker)] if arguments.ticker else store.published_tickers()
    )
    if not tickers:
        print(f"no forecast published under {settings.home / 'forecasts'}", file=sys.stderr)
        return EXIT_FAILED
    for index, ticker in enumerate(tickers):
        try:
            rows = store.read_latest_forecast(ticker)
        except InputError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_FAILED
        if index:
            print()
        print(forecast_text(rows))
    return EXIT_OK


def track(arguments: argparse.Namespace, settings: Settings) -> int:
    """`tickercast track`: the live track record of each scored ticker; exits 1 when one
    cannot be shown."""
    from tickercast.evaluation.track_record import (
        PUBLISHED,
        WINDOWS,
        distinct_windows,
        stored_track_record,
    )
    from tickercast.models.candidates import INTERVAL_MODELS

    store = Store(settings.home)
    tickers = [normalize_ticker(t) for t in arguments.tickers] or store.scored_tickers()
    if not tickers:
        print(f"no forecast scored yet under {settings.home / 'scores'}", file=sys.stderr)
        return EXIT_FAILED
    windows = (arguments.last,) if arguments.last else WINDOWS
    failed = 0
    for ticker in tickers:
        try:
            record = stored_track_record(store, ticker, windows)
        except StoredFileError as error:  # one broken scores file never hides the others
            print(f"error: {error}", file=sys.stderr)
            failed += 1
            continue
        if not record.rows:
            print(f"{ticker}: no forecast scored yet", file=sys.stderr)
            failed += 1
            continue
        rows = list(record.rows) if arguments.all else distinct_windows(list(record.rows))
        published = [r for r in rows if r.model == PUBLISHED]
        print(f"{ticker}: published forecasts, scored to {record.as_of}")
        notes: dict[str, str] = {}
        if arguments.all:
            others = [r for r in rows if r.model != PUBLISHED]
            print(track_table(published + others, TRACK_COLUMNS, notes))
        else:
            print(track_table(published, TRACK_COLUMNS, notes))
            shadows = [r for r in rows if r.model != PUBLISHED and r.horizon == 1]
            points = [r for r in shadows if r.model not in (*INTERVAL_MODELS, "naive")]
            intervals = [r for r in shadows if r.model in (*INTERVAL_MODELS, "naive")]
            print("shadow point forecasts, one session ahead (what the shadow gate weighs):")
            print(track_table(points, SHADOW_POINT_COLUMNS, notes))
            print("shadow intervals, one session ahead, around naive's point:")
            print(track_table(intervals, SHADOW_INTERVAL_COLUMNS, notes))
            print(f"  (`tickercast track {ticker} --all`: every model, horizon and window)")
        for column, why in notes.items():
            print(f"  – {column}: {why}")
        if record.alarm:
            print(f"ALARM: {record.alarm.message()}")
    return EXIT_FAILED if failed else EXIT_OK


def plots(arguments: argparse.Namespace, settings: Settings) -> int:
    """`tickercast plots`: draw a run's holdout figures into a folder."""
    from tickercast.tracking.run_record import HOLDOUT_PLOTS, HoldoutPlots, holdout_figures
    from tickercast.tracking.runs import runs_for

    ticker, runs = normalize_ticker(arguments.ticker), runs_for(settings)
    latest = None if arguments.run else runs.latest_run(ticker)
    run_id = arguments.run or (latest and latest.run_id)
    if run_id is None:
        print(f"error: {ticker}: no MLflow run to draw", file=sys.stderr)
        return EXIT_FAILED
    folder = arguments.out / f"{ticker_slug(ticker)}-{run_id}"
    folder.mkdir(parents=True, exist_ok=True)
    holdout = runs.read_artifact(run_id, HOLDOUT_PLOTS, HoldoutPlots.load)
    for path, figure in holdout_figures(holdout).items():
        figure.savefig(folder / Path(path).name)
    print(f"{ticker}: the holdout figures of run {run_id} are in {folder}")
    return EXIT_OK
