"""`tickercast run` starts a manual flow run, `tickercast ingest` refreshes prices only,
`tickercast backtest` scores the models walk-forward, `tickercast forecast` shows what
was published.

Exit codes: 0 every ticker succeeded, 1 some ticker failed, 2 usage error.
"""

import argparse
import logging
import os
import sys
from datetime import date

from tickercast.errors import InputError, InvalidTickerError
from tickercast.settings import Settings
from tickercast.storage import Store
from tickercast.tickers import normalize_ticker, read_universe, ticker_slug

# The engine names, without importing Prefect before a command needs it.
ENGINES = ("serial", "dask")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from error


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {text!r}")
    return value


def _tickers(text: str) -> list[str]:
    return [symbol.strip() for symbol in text.split(",")]


def _universe(text: str) -> list[str]:
    try:
        return read_universe(text)
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _add_tickers(
    parser: argparse.ArgumentParser, default: list[str] | None, tickers_help: str
) -> None:
    """`--tickers A,B` or `--universe FILE`, both giving `arguments.tickers`."""
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--tickers", type=_tickers, default=default, help=tickers_help)
    choice.add_argument(
        "--universe",
        dest="tickers",
        type=_universe,
        metavar="FILE",
        help="a file of tickers: one per line (# comments), or a CSV with a ticker column",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tickercast",
        description="Daily stock forecasting: ingest, windows, train, evaluate, publish.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the daily_forecast flow once, now")
    _add_tickers(run, ["AAPL"], "comma-separated")
    run.add_argument(
        "--source", default="yfinance", help="yfinance, sample, or a folder of <TICKER>.csv files"
    )
    run.add_argument("--as-of", type=_day, help="last session to use (replays, backfills)")
    run.add_argument("--start", type=_day, help="first session to train on")
    run.add_argument("--epochs", type=_positive, default=10)
    run.add_argument("--window", type=_positive, default=60, help="sessions per input window")
    run.add_argument("--horizons", type=_positive, default=5, help="sessions ahead to forecast")
    run.add_argument("--target", choices=["returns", "price"], default="returns")
    run.add_argument(
        "--task-runner",
        choices=ENGINES,
        default="serial",
        help="serial: one ticker after another here; dask: tickers in parallel on Dask",
    )
    run.add_argument("--dask-address", metavar="tcp://HOST:PORT", help="an existing Dask scheduler")
    run.add_argument(
        "--dask-workers", type=_positive, help="worker processes of the local Dask cluster (2)"
    )
    ingest = commands.add_parser("ingest", help="ingest and validate prices only (no training)")
    _add_tickers(ingest, ["AAPL"], "comma-separated")
    ingest.add_argument(
        "--source", default="yfinance", help="yfinance, sample, or a folder of <TICKER>.csv files"
    )
    ingest.add_argument("--as-of", type=_day, help="last session to fetch")
    backtest = commands.add_parser("backtest", help="walk-forward backtest against baselines")
    _add_tickers(backtest, ["AAPL"], "comma-separated")
    backtest.add_argument(
        "--source", default="yfinance", help="yfinance, sample, or a folder of <TICKER>.csv files"
    )
    backtest.add_argument("--folds", type=_positive, default=5)
    backtest.add_argument("--start", type=_day, help="first session of the history")
    backtest.add_argument("--end", type=_day, help="last session of the history")
    backtest.add_argument("--epochs", type=_positive, default=10)
    backtest.add_argument("--target", choices=["returns", "price"], default="returns")
    backtest.add_argument(
        "--warm-start", action="store_true", help="fine-tune the previous fold's network"
    )
    status = commands.add_parser("status", help="per ticker: data, last run, champion, forecast")
    _add_tickers(status, None, "comma-separated; all known if omitted")
    backfill = commands.add_parser(
        "backfill", help="replay as_of over a range of sessions (resumable)"
    )
    _add_tickers(backfill, ["AAPL"], "comma-separated")
    backfill.add_argument(
        "--source", default="yfinance", help="yfinance, sample, or a folder of <TICKER>.csv files"
    )
    backfill.add_argument("--start", type=_day, required=True, help="first as_of")
    backfill.add_argument("--end", type=_day, required=True, help="last as_of")
    backfill.add_argument("--history-start", type=_day, help="first session to train on")
    backfill.add_argument("--epochs", type=_positive, default=10)
    backfill.add_argument("--window", type=_positive, default=60)
    backfill.add_argument("--horizons", type=_positive, default=5)
    forecast = commands.add_parser("forecast", help="print the latest published forecast")
    forecast.add_argument("ticker", nargs="?", help="one ticker; all published ones if omitted")
    return parser


def _failure(outcome) -> str:
    return f"{outcome.ticker:8} FAILED in {outcome.stage or 'the flow'}: {outcome.error}"


def _outcomes(state) -> list | None:
    """The per-ticker outcomes of a flow run, or None (said on stderr) if it crashed."""
    outcomes = state.result(raise_on_failure=False)
    if isinstance(outcomes, BaseException):
        print(f"flow run failed: {outcomes}", file=sys.stderr)
        return None
    return outcomes


STAGES = ("ingest_prices", "build_windows", "train_model", "evaluate_model", "publish_forecast")


class StageProgress(logging.Handler):
    """Advances one rich progress bar per ticker as Prefect reports its stages done."""

    def __init__(self, progress, tickers: list[str]) -> None:
        super().__init__()
        self.progress = progress
        self.bars = {
            ticker.strip().upper(): progress.add_task(
                f"{ticker.strip().upper():8} waiting", total=len(STAGES)
            )
            for ticker in tickers
        }

    def emit(self, record: logging.LogRecord) -> None:
        # Stage runs are named `stage-TICKER` (tickercast.tasks.retries); stage names have no dash.
        stage, _, ticker = (getattr(record, "task_run_name", None) or "").partition("-")
        bar = self.bars.get(ticker)
        if bar is None:
            return
        message = record.getMessage()
        if stage in STAGES and ("Finished in state Completed" in message or "Cached" in message):
            self.progress.update(bar, advance=1, description=f"{ticker:8} {stage} done")
        elif stage in STAGES and (
            "Finished in state Failed" in message or "Retries are exhausted" in message
        ):
            self.progress.update(bar, description=f"{ticker:8} [red]failed in {stage}")


def _run(arguments: argparse.Namespace, settings: Settings) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from tickercast.flows.daily_forecast import daily_forecast

    from tickercast.tracking import redacted

    if arguments.dask_address and arguments.task_runner != "dask":
        print("error: --dask-address needs --task-runner dask", file=sys.stderr)
        return EXIT_USAGE
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    # On Dask the stages log in the workers: their progress is in the Prefect UI.
    with Progress(*columns, transient=False, disable=arguments.task_runner == "dask") as progress:
        handler = StageProgress(progress, arguments.tickers)
        logging.getLogger("prefect").addHandler(handler)
        try:
            state = daily_forecast(
                tickers=arguments.tickers,
                source=arguments.source,
                as_of=arguments.as_of,
                start=arguments.start,
                epochs=arguments.epochs,
                window=arguments.window,
                horizons=arguments.horizons,
                target=arguments.target,
                task_runner=arguments.task_runner,
                dask_address=arguments.dask_address,
                dask_workers=arguments.dask_workers,
                return_state=True,
            )
        finally:
            logging.getLogger("prefect").removeHandler(handler)
    outcomes = _outcomes(state)
    if outcomes is None:
        return EXIT_FAILED
    print()
    print(
        f"{'ticker':8} {'as_of':10} {'target':10} {'last':>9} {'forecast':>9} "
        f"{'80 % interval':>19}  {'model':10} {'rmse_ratio':>10}  mlflow run / error"
    )
    for outcome in outcomes:
        published = outcome.result
        if published is None:
            print(_failure(outcome))
            continue
        model = published.model + (
            f" v{published.model_version}" if published.model_version else ""
        )
        print(
            f"{published.ticker:8} {published.as_of} {published.target_date} "
            f"{published.last_close:9.2f} {published.forecast:9.2f} "
            f"{published.lower_80:9.2f}-{published.upper_80:<9.2f}  {model:10} "
            f"{published.rmse_ratio:10.3f}  {published.mlflow_run_id}"
        )
        print(f"{'':8} why:      {published.reason}")
        print(f"{'':8} forecast: {published.path}")
    print()
    print("rmse_ratio: the published model's holdout RMSE over the naive forecast's")
    print("('next close = last close'); 1.000 is naive itself, below 1 beats it.")
    print()
    print(f"Forecasts:         {settings.home / 'forecasts'}")
    tracking = settings.mlflow_tracking_uri or Store(settings.home).local_tracking_uri
    print(f"MLflow store:      {redacted(tracking)}")
    if settings.mlflow_tracking_uri is None:
        print("                   review it with `make mlflow-ui`, then http://127.0.0.1:5000")
    keys = [
        f"{kind}-{ticker_slug(o.ticker)}"
        for o in outcomes
        if o.result
        for kind in ("quality", "forecast", "metrics")
    ]
    flow_run_id = state.state_details.flow_run_id
    print(f"Prefect artifacts: {', '.join(keys) or 'none'} (flow run {flow_run_id})")
    print(f"                   in {_prefect_location()}")
    return EXIT_OK if state.is_completed() else EXIT_FAILED


def _ingest(arguments: argparse.Namespace, settings: Settings) -> int:
    from tickercast.flows.ingest import ingest

    state = ingest(
        tickers=arguments.tickers, source=arguments.source, as_of=arguments.as_of, return_state=True
    )
    outcomes = _outcomes(state)
    if outcomes is None:
        return EXIT_FAILED
    print()
    for outcome in outcomes:
        result = outcome.result
        if result is None:
            print(_failure(outcome))
            continue
        findings = ", ".join(f"{kind} {count}" for kind, count in result.findings.items())
        print(
            f"{result.ticker:8} {result.rows_added} added, {result.rows_changed} changed; "
            f"{result.sessions_stored} sessions {result.first_session} to {result.last_session}"
        )
        print(f"{'':8} revision: {result.revision_reason or 'no'}")
        print(f"{'':8} quality:  {findings or 'no findings'} ({result.quality_report})")
        print(f"{'':8} data_sha256 {result.data_sha256}")
    print()
    print(f"Prices:   {settings.home / 'prices'}")
    print(f"Manifest: {Store(settings.home).manifest_file}")
    return EXIT_OK if state.is_completed() else EXIT_FAILED


def _backtest(arguments: argparse.Namespace, settings: Settings) -> int:
    from tickercast.flows.backtest import backtest

    from tickercast.backtest import REPORT_METRICS

    state = backtest(
        tickers=arguments.tickers,
        source=arguments.source,
        start=arguments.start,
        end=arguments.end,
        folds=arguments.folds,
        epochs=arguments.epochs,
        target=arguments.target,
        warm_start=arguments.warm_start,
        return_state=True,
    )
    outcomes = _outcomes(state)
    if outcomes is None:
        return EXIT_FAILED
    columns = REPORT_METRICS
    for outcome in outcomes:
        print()
        if outcome.result is None:
            print(_failure(outcome))
            continue
        result = outcome.result
        print(
            f"{result.ticker}: {len(result.folds)} folds from {result.folds[0].first_origin} "
            f"to {result.folds[-1].last_origin}, pooled"
        )
        print(f"{'model':10} {'h':>2} " + " ".join(f"{c[:12]:>12}" for c in columns))
        for row in (r for r in result.rows() if r["fold"] == "all"):
            values = " ".join(
                f"{row[c]:12.3f}" if row[c] is not None else f"{'-':>12}" for c in columns
            )
            print(f"{row['model']:10} {row['horizon']:>2} {values}")
    print()
    print(f"Report: {settings.home / 'reports' / 'backtest' / 'latest.json'}")
    return EXIT_OK if state.is_completed() else EXIT_FAILED


def _status(arguments: argparse.Namespace, settings: Settings) -> int:
    from tickercast.errors import TrackingUnavailableError
    from tickercast.tracking import Tracker

    store = Store(settings.home)
    outcomes = store.last_outcomes()
    published = set(store.published_tickers())
    known = sorted(set(store.stored_tickers()) | published | set(outcomes))
    tickers = [normalize_ticker(t) for t in arguments.tickers] if arguments.tickers else known
    if not tickers:
        print(f"nothing stored under {settings.home}", file=sys.stderr)
        return EXIT_FAILED
    try:
        tracker = Tracker(settings)
    except TrackingUnavailableError as error:
        print(f"MLflow: {error}", file=sys.stderr)
        tracker = None
    failed = False
    for ticker in tickers:
        print(f"{ticker}")
        prices = store.read_prices(ticker) if store.has_prices(ticker) else None
        ingests = store.read_manifest(ticker)
        print(
            "  data:     "
            + (
                f"{len(prices)} sessions to {prices['session'].iloc[-1].date()}"
                if prices is not None
                else "nothing stored"
            )
            + (f"; last ingest {ingests[-1]['at'][:19]}" if ingests else "")
        )
        outcome = outcomes.get(ticker)
        if outcome:
            failed |= outcome["status"] != "published"
            print(f"  outcome:  {outcome['status']} at {outcome['at'][:19]}: {outcome['detail']}")
        run = tracker.latest_run(ticker) if tracker else None
        if run:
            ratio = run["published_rmse_ratio"]
            print(
                f"  last run: {run['name']} {run['status']}, published {run['published_model']}"
                + (f" (rmse_ratio {ratio:.3f})" if ratio is not None else "")
            )
        champion = tracker.champion_summary(ticker) if tracker else None
        if champion:
            ratio = champion["rmse_ratio"]
            print(
                f"  champion: v{champion['version']} trained as of {champion['as_of']}"
                + (f", holdout rmse_ratio {ratio:.3f}" if ratio is not None else "")
            )
        else:
            print("  champion: none (naive is published until a model beats it)")
        if ticker in published:
            row = store.read_latest_forecast(ticker)[0]
            print(
                f"  forecast: {row['forecast']:.2f} for {row['target_date']} as of {row['as_of']} "
                f"({row['model']}), {row['lower_80']:.2f}-{row['upper_80']:.2f} at 80 %"
            )
    return EXIT_FAILED if failed else EXIT_OK


def _backfill(arguments: argparse.Namespace, settings: Settings) -> int:
    from tickercast.flows.daily_forecast import daily_forecast

    from tickercast.calendar import sessions_between

    tickers = [normalize_ticker(t) for t in arguments.tickers]
    if arguments.start > arguments.end:
        raise InputError(f"--start {arguments.start} is after --end {arguments.end}")
    store = Store(settings.home)
    sessions = sessions_between(arguments.start, arguments.end, settings.calendar_for(tickers[0]))
    failed = 0
    for session in (stamp.date() for stamp in sessions):
        missing = [t for t in tickers if not store.forecast_file(t, session).is_file()]
        if not missing:
            print(f"{session}: already published, skipped")
            continue
        state = daily_forecast(
            tickers=missing,
            source=arguments.source,
            as_of=session,
            start=arguments.history_start,
            epochs=arguments.epochs,
            window=arguments.window,
            horizons=arguments.horizons,
            return_state=True,
        )
        outcomes = _outcomes(state) or []
        for outcome in outcomes:
            if outcome.error is not None:
                failed += 1
                print(f"{session}: " + _failure(outcome))
            else:
                published = outcome.result
                print(f"{session}: {outcome.ticker} {published.model} {published.forecast:.2f}")
        failed += 0 if outcomes else len(missing)
    return EXIT_FAILED if failed else EXIT_OK


def _prefect_location() -> str:
    from prefect.settings import get_current_settings

    prefect = get_current_settings()
    if prefect.api.url:
        return f"the Prefect server at {prefect.api.url}"
    return (
        f"Prefect's database under {prefect.home}: `make prefect-server`, then "
        "http://127.0.0.1:4200/artifacts, or `prefect artifact ls`"
    )


def _forecast(arguments: argparse.Namespace, settings: Settings) -> int:
    store = Store(settings.home)
    tickers = (
        [normalize_ticker(arguments.ticker)] if arguments.ticker else store.published_tickers()
    )
    if not tickers:
        print(f"no forecast published under {settings.home / 'forecasts'}", file=sys.stderr)
        return EXIT_FAILED
    for ticker in tickers:
        for row in store.read_latest_forecast(ticker):
            print(
                f"{row['ticker']:8} as_of {row['as_of']}  target {row['target_date']}  "
                f"h={row['horizon']}  last {row['last_close']:.2f}  forecast {row['forecast']:.2f}"
                f"  model {row['model']} v{row['model_version']}  run {row['mlflow_run_id']}"
            )
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `tickercast` console script."""
    arguments = _parser().parse_args(argv)
    # TensorFlow's C++ start-up chatter hides the pipeline's own log lines.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        settings = Settings.from_env()
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if arguments.command == "run":
        return _run(arguments, settings)
    if arguments.command == "ingest":
        return _ingest(arguments, settings)
    if arguments.command == "backtest":
        return _backtest(arguments, settings)
    commands = {"backfill": _backfill, "status": _status, "forecast": _forecast}
    try:
        return commands[arguments.command](arguments, settings)
    except InvalidTickerError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE if arguments.command == "backfill" else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
