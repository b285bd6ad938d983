"""`tickercast run` starts a manual flow run, `ingest` refreshes prices only, `backtest`
scores the models walk-forward, `backfill` replays a range of sessions, `status` and
`forecast` show what is stored and published, `track` the live track record of what
was published, `serve-model` serves a registered model.

Every command's options are derived from `tickercast.request.RunRequest`, which also
validates them before any server starts.

Exit codes: 0 every ticker succeeded, 1 some ticker failed, 2 usage error.
"""

import argparse
import difflib
import os
import sys
from dataclasses import MISSING, fields, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tickercast.data.home_layout import open_home
from tickercast.data.storage import Store
from tickercast.data.tickers import normalize_ticker, ticker_slug
from tickercast.errors import InputError, StoredFileError
from tickercast.request import (
    COMMAND_PARAMETERS,
    COUNT_FIELDS,
    DATE_FIELDS,
    REQUIRED,
    RunRequest,
    parse_date,
)
from tickercast.settings import Settings
from tickercast.tracking.serving import DEFAULT_PORT

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
ABOUT = {
    "run": "run the daily_forecast flow once, now",
    "ingest": "ingest and validate prices only (no training)",
    "backtest": "walk-forward backtest against baselines",
    "backfill": "replay as_of over a range of sessions (resumable)",
    "status": "per ticker: data, last run, champion, forecast",
    "train-global": "train one LSTM on the whole universe's stored prices (run --model global)",
}
FIELDS = {f.name: f for f in fields(RunRequest)}


def _day(text: str) -> date:
    try:
        return parse_date(text, "date")
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {text!r}")
    return value


def _tickers(text: str) -> tuple[str, ...]:
    return tuple(symbol.strip() for symbol in text.split(","))


def _option(name: str, command: str) -> tuple[str, dict]:
    """The flag and argparse settings of one `RunRequest` field for a command."""
    spec = FIELDS[name]
    meta = dict(spec.metadata)
    flag = meta.pop("flag", "--" + name.replace("_", "-"))
    default = None if command == "status" and name == "tickers" else spec.default
    options = {"dest": name, "default": default, **meta}
    if name == "tickers":
        options["type"] = _tickers
    elif isinstance(spec.default, bool):
        options["action"] = "store_true"
    elif name in DATE_FIELDS:
        options["type"] = _day
    elif name in COUNT_FIELDS:
        options["type"] = _positive
    if name in REQUIRED.get(command, ()):
        options["required"] = True
    elif default not in (None, False, MISSING) and "choices" not in options:
        shown = ",".join(default) if isinstance(default, tuple) else default
        options["help"] += f" (default: {shown})"
    return flag, options


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tickercast",
        description="Daily stock forecasting: ingest, windows, train, evaluate, publish.",
    )
    parser.add_argument("--verbose", action="store_true", help="show library logs and warnings too")
    commands = parser.add_subparsers(dest="command", required=True)
    for command, about in ABOUT.items():
        sub = commands.add_parser(command, help=about)
        choice = sub.add_mutually_exclusive_group()  # --tickers or --universe
        for name in COMMAND_PARAMETERS[command]:
            flag, options = _option(name, command)
            (choice if name in ("tickers", "universe") else sub).add_argument(flag, **options)
    forecast = commands.add_parser("forecast", help="print the latest published forecast")
    forecast.add_argument("ticker", nargs="?", help="one ticker; all published ones if omitted")
    track = commands.add_parser("track", help="the live track record of published forecasts")
    track.add_argument("tickers", nargs="*", help="tickers (default: every scored one)")
    track.add_argument(
        "--last",
        type=_positive,
        help="over the last N scored forecasts (default: the last 20, 60, 250 and all)",
    )
    track.add_argument(
        "--all",
        action="store_true",
        help="every model, horizon and window (default: the published record, and the "
        "shadows one session ahead, once per window that differs)",
    )
    serve = commands.add_parser("serve-model", help="serve a ticker's registered model over HTTP")
    serve.add_argument("ticker", help="the ticker whose model `tickercast-<TICKER>` to serve")
    serve.add_argument("--version", help="a registered version (default: the champion)")
    serve.add_argument(
        "--port", type=_positive, default=DEFAULT_PORT, help=f"port on 127.0.0.1 ({DEFAULT_PORT})"
    )
    drawn = commands.add_parser(
        "plots", help="draw a run's holdout figures (daily runs draw them where reviewed)"
    )
    drawn.add_argument("ticker", help="whose run")
    drawn.add_argument("--run", help="an MLflow run id (default: the ticker's latest run)")
    drawn.add_argument(
        "--out", type=Path, default=Path("."), help="where to write the PNG files (default: here)"
    )
    prune = commands.add_parser(
        "prune",
        help="delete old MLflow runs and LoggedModels; registered versions and each "
        "ticker's latest network are kept",
    )
    prune.add_argument(
        "--keep-days",
        type=_positive,
        help="keep what the last N days made (default: TICKERCAST_RETENTION_DAYS, 90)",
    )
    verify = commands.add_parser(
        "verify",
        help="check every stored file of the home; exits 1 when something is wrong",
    )
    verify.add_argument(
        "--repair",
        action="store_true",
        help="refetch broken price partitions, drop bad manifest lines, set other "
        "broken files aside under quarantine/",
    )
    verify.add_argument(
        "--source",
        help="where to refetch broken prices from (default: the source each ticker's "
        "stored prices came from, as its manifest records)",
    )
    return parser


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line's arguments; an unknown option is refused by its command's
    parser (its usage, not the top level's), with the option it is closest to."""
    parser = _parser()
    arguments, unknown = parser.parse_known_args(argv)
    if unknown:
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        command = commands.choices[arguments.command]
        options = [o for action in command._actions for o in action.option_strings]
        near = difflib.get_close_matches(unknown[0].split("=")[0], options, n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        command.error(f"unrecognized arguments: {' '.join(unknown)}{hint}")
    return arguments


def _request(arguments: argparse.Namespace) -> RunRequest:
    """The validated request of a command's options."""
    values = {name: getattr(arguments, name) for name in COMMAND_PARAMETERS[arguments.command]}
    if values.get("tickers") is None:  # status with neither: every known ticker
        values.pop("tickers")
    return RunRequest(**values)


def _flow_parameters(request: RunRequest, command: str) -> dict:
    """The request as the keyword arguments of the command's flow."""
    values = {name: getattr(request, name) for name in COMMAND_PARAMETERS[command]}
    return values | {"tickers": list(request.tickers)}


def _failure(outcome) -> str:
    return f"{outcome.ticker:8} FAILED in {outcome.stage or 'the flow'}: {outcome.error}"


def _results(outcomes: list):
    """The successful outcomes' results; each failure is printed in its place."""
    for outcome in outcomes:
        if outcome.result is None:
            print(_failure(outcome))
        else:
            yield outcome.result


def _outcomes(state) -> list | None:
    """The per-ticker outcomes of a flow run, or None (said on stderr) if it crashed."""
    outcomes = state.result(raise_on_failure=False)
    if isinstance(outcomes, BaseException):
        print(f"flow run failed: {outcomes}", file=sys.stderr)
        return None
    return outcomes


class StageProgress:
    """One rich progress bar per ticker, advanced as its stage runs end (a listener
    of `tickercast.tasks.retries.stage_progress`)."""

    def __init__(self, progress, tickers: list[str], stages: tuple[str, ...]) -> None:
        self.progress = progress
        self.stages = stages
        self.bars = {
            ticker: progress.add_task(f"{ticker:8} waiting", total=len(stages))
            for ticker in tickers
        }

    def __call__(self, stage: str, ticker: str | None, state) -> None:
        bar = self.bars.get(ticker)
        if bar is None or stage not in self.stages:
            return
        if state.is_completed():
            self.progress.update(bar, advance=1, description=f"{ticker:8} {stage} done")
        elif state.is_failed():
            self.progress.update(bar, description=f"{ticker:8} [red]failed in {stage}")


def _run(request: RunRequest, settings: Settings) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from tickercast.flows.daily_forecast import STAGES, daily_forecast
    from tickercast.tasks.retries import stage_progress
    from tickercast.tracking.tracker import redacted

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    # Bars only on a terminal; on Dask the stages run in the workers (see the Prefect UI).
    shown = Console().is_terminal and request.task_runner == "serial"
    with Progress(*columns, disable=not shown) as progress:
        stages = tuple(stage.name for stage in STAGES)
        bars = StageProgress(progress, list(request.ticker_list), stages)
        with stage_progress(bars):
            state = daily_forecast(**_flow_parameters(request, "run"), return_state=True)
    outcomes = _outcomes(state)
    if outcomes is None:
        return EXIT_FAILED
    print()
    print(
        f"{'ticker':8} {'as_of':10} {'target':10} {'last':>9} {'forecast':>9} "
        f"{'80 % interval':>19}  {'model':10} {'ratio h=1':>10}  mlflow run / error"
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
        print(f"{'':8} interval: {published.interval_model}'s, {published.interval_reason}")
        print(f"{'':8} forecast: {published.path}")
    print()
    if any(outcome.result for outcome in outcomes):
        print("ratio h=1: the published model's holdout RMSE one session ahead over the naive")
        print("forecast's ('next close = last close'); 1.000 is naive itself, below 1 beats it.")
        print("The gate's why-line compares the mean of h=1-H.")
    if any(outcome.error for outcome in outcomes):
        print("Each failure's whole report, with its traceback where it is not about the data,")
        print("is in the flow run's logs (`make prefect-server`), or here with `--verbose`.")
    print()
    print(f"Forecasts:         {settings.home / 'forecasts'}")
    tracking = settings.mlflow_tracking_uri or Store(settings.home).local_tracking_uri
    print(f"MLflow store:      {redacted(tracking)}")
    if settings.mlflow_tracking_uri is None:
        url = "http://127.0.0.1:5000/#/experiments/1?workflowType=machine_learning"
        print(f"                   review it with `make mlflow-ui`, then {url}")
    # the summary, each published forecast's key, and the quality reports and
    # track records only of the tickers with findings or an alarm (not listed here)
    keys = [f"forecast-{ticker_slug(o.ticker)}" for o in outcomes if o.result]
    shown = ", ".join(keys[:4]) + (f", … (+{len(keys) - 4})" if len(keys) > 4 else "")
    flow_run_id = state.state_details.flow_run_id
    print(f"Prefect artifacts: daily-forecast-summary, {shown or 'no forecast'}")
    print(f"                   of flow run {flow_run_id}")
    print(f"                   in {_prefect_location()}")
    return EXIT_OK if state.is_completed() else EXIT_FAILED


def _reported(flow, request: RunRequest, command: str, report) -> int:
    """Run a command's flow, then `report(outcomes)`; the exit code of its final state."""
    state = flow(**_flow_parameters(request, command), return_state=True)
    outcomes = _outcomes(state)
    if outcomes is None:
        return EXIT_FAILED
    report(outcomes)
    return EXIT_OK if state.is_completed() else EXIT_FAILED


def _ingest(request: RunRequest, settings: Settings) -> int:
    from tickercast.flows.ingest import ingest

    return _reported(ingest, request, "ingest", lambda outcomes: _ingested(outcomes, settings))


def _ingested(outcomes: list, settings: Settings) -> None:
    print()
    for result in _results(outcomes):
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
    print(f"Manifests: {Store(settings.home).home / 'manifest'}")


def _backtest(request: RunRequest, settings: Settings) -> int:
    from tickercast.flows.backtest import backtest

    return _reported(
        backtest, request, "backtest", lambda outcomes: _backtested(outcomes, settings)
    )


def _backtested(outcomes: list, settings: Settings) -> None:
    from tickercast.evaluation.backtest import INTERVAL_METRICS, POINT_METRICS, PUBLISHED
    from tickercast.models.candidates import POINT_MODELS

    for result in _results(outcomes):
        print()
        print(
            f"{result.ticker}: {len(result.folds)} folds from {result.folds[0].first_origin} "
            f"to {result.folds[-1].last_origin}, pooled"
        )
        pooled = [r for r in result.rows() if r["fold"] == "all"]
        points = [r for r in pooled if r["model"] in (*POINT_MODELS, *PUBLISHED)]
        print(_report_table(points, POINT_METRICS))
        print()
        print(_report_table([r for r in pooled if r["horizon"] == 1], INTERVAL_METRICS))
        choices = ", ".join(fold.intervals.model for fold in result.folds)
        print(f"intervals published by fold: {choices}")
    print()
    report = settings.home / "reports" / "backtest" / "latest.json"
    print(f"Report: {report}: every model, horizon, fold and metric")


def _backfill(request: RunRequest, settings: Settings) -> int:
    from tickercast.flows.backfill import backfill
    from tickercast.ledger.backfill import plan_backfill

    plan = plan_backfill(
        list(request.ticker_list),
        request.first_as_of,
        request.last_as_of,
        Store(settings.home),
        settings.calendar_for,
    )
    for session, tickers in plan.published.items():
        print(f"{session}: already published, skipped ({', '.join(tickers)})")
    return _reported(backfill, request, "backfill", _backfilled)


def _backfilled(outcomes: list) -> None:
    for outcome in outcomes:
        if outcome.error is not None:
            print((f"{outcome.as_of}: " if outcome.as_of else "") + _failure(outcome))
        else:
            published = outcome.result
            print(f"{outcome.as_of}: {outcome.ticker} {published.model} {published.forecast:.2f}")


def _status(request: RunRequest, settings: Settings, all_known: bool) -> int:
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
                    f"rmse_ratio {_number(r['rmse_ratio'], '.3f')}, coverage 80/95 "
                    f"{r['coverage_80']:.2f}/{r['coverage_95']:.2f} (Kupiec p "
                    f"{_number(r['kupiec_p_80'], '.2g')}/{_number(r['kupiec_p_95'], '.2g')})"
                )
            if record["alarm"]:
                print(f"  ALARM:    {record['alarm']}")
        if row := status.forecast:
            print(
                f"  forecast: {row['forecast']:.2f} for {row['target_date']} as of {row['as_of']} "
                f"({row['model']}), {row['lower_80']:.2f}-{row['upper_80']:.2f} at 80 %"
            )
    return EXIT_FAILED if any(status.needs_attention for status in statuses) else EXIT_OK


def _report_table(rows: list[dict], columns: tuple[str, ...]) -> str:
    """Backtest report rows as a text table: model, horizon and as many of `columns`, by
    their full names, as the terminal's width holds; it says which others the report has."""
    import shutil

    width = shutil.get_terminal_size((100, 24)).columns
    cells = {column: max(len(column), 7) for column in columns}
    used = 19 + 1 + 2
    shown: list[str] = []
    for column in columns:
        used += 1 + cells[column]
        if used > width and shown:
            break
        shown.append(column)
    lines = [f"{'model':19} {'h':>2} " + " ".join(f"{c:>{cells[c]}}" for c in shown)]
    for row in rows:
        values = " ".join(
            f"{row[c]:{cells[c]}.3f}" if row[c] is not None else f"{'–':>{cells[c]}}" for c in shown
        )
        lines.append(f"{row['model']:19} {row['horizon']:>2} {values}")
    if hidden := columns[len(shown) :]:
        lines.append(f"(not shown, for the width: {', '.join(hidden)}; the report has them)")
    return "\n".join(lines)


def _number(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _track(arguments: argparse.Namespace, settings: Settings) -> int:
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
            print(_track_table(published + others, TRACK_COLUMNS, notes))
        else:
            print(_track_table(published, TRACK_COLUMNS, notes))
            shadows = [r for r in rows if r.model != PUBLISHED and r.horizon == 1]
            points = [r for r in shadows if r.model not in (*INTERVAL_MODELS, "naive")]
            intervals = [r for r in shadows if r.model in (*INTERVAL_MODELS, "naive")]
            print("shadow point forecasts, one session ahead (what the shadow gate weighs):")
            print(_track_table(points, SHADOW_POINT_COLUMNS, notes))
            print("shadow intervals, one session ahead, around naive's point:")
            print(_track_table(intervals, SHADOW_INTERVAL_COLUMNS, notes))
            print(f"  (`tickercast track {ticker} --all`: every model, horizon and window)")
        for column, why in notes.items():
            print(f"  – {column}: {why}")
        if record.alarm:
            print(f"ALARM: {record.alarm.message()}")
    return EXIT_FAILED if failed else EXIT_OK


# `TrackRow` fields as `tickercast track` shows them: (header, format)
TRACK_COLUMNS = {
    "model": ("model", "{}"),
    "horizon": ("h", "{}"),
    "window": ("last", "{}"),
    "forecasts": ("n", "{}"),
    "rmse_ratio": ("rmse_ratio", "{:.3f}"),
    "dm_pvalue": ("DM p", "{:.2g}"),
    "coverage_80": ("cov80", "{:.2f}"),
    "kupiec_p_80": ("Kupiec p", "{:.2g}"),
    "coverage_95": ("cov95", "{:.2f}"),
    "kupiec_p_95": ("Kupiec p", "{:.2g}"),
    "interval_score_80": ("IS80", "{:.2f}"),
    "interval_score_95": ("IS95", "{:.2f}"),
}
_SHOWN = ("model", "window", "forecasts")
SHADOW_POINT_COLUMNS = {k: TRACK_COLUMNS[k] for k in (*_SHOWN, "rmse_ratio", "dm_pvalue")}
SHADOW_INTERVAL_COLUMNS = {
    k: TRACK_COLUMNS[k]
    for k in (*_SHOWN, "coverage_80", "kupiec_p_80", "coverage_95", "kupiec_p_95")
    + ("interval_score_80", "interval_score_95")
}


def _track_table(rows: list, columns: dict[str, tuple[str, str]], notes: dict[str, str]) -> str:
    """`TrackRow`s as aligned text columns under a header; a statistic that is not a
    number is shown as `–`, and why is added to `notes` (once per column)."""
    from tickercast.evaluation.track_record import undefined_because

    def cell(row, name: str, spec: str) -> str:
        value = getattr(row, name)
        if isinstance(value, float) and value != value:  # NaN
            notes.setdefault(columns[name][0], undefined_because(row, name))
            return "–"
        return spec.format(value)

    cells = [[header for header, _ in columns.values()]]
    cells += [[cell(row, name, spec) for name, (_, spec) in columns.items()] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = (
        "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells
    )
    return "\n".join(line.rstrip() for line in lines)


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
    for index, ticker in enumerate(tickers):
        try:
            rows = store.read_latest_forecast(ticker)
        except InputError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_FAILED
        if index:
            print()
        print(_forecast_text(rows))
    return EXIT_OK


def _forecast_text(rows: list[dict]) -> str:
    """A published forecast (its `latest.json` rows) as the console shows it: what was
    published, each horizon with both intervals, and why that model and those intervals."""
    first = rows[0]
    version = f" v{first['model_version']}" if first["model_version"] else ""
    # forecasts published before the intervals were chosen apart name none: the model's own
    intervals = first.get("interval_model") or first["model"]
    lines = [
        f"{first['ticker']} as of {first['as_of']} (close {first['last_close']:.2f}): "
        f"{first['model']}{version}, intervals of {intervals}",
        f"  {'h':>2}  {'session':10}  {'forecast':>9}  {'80 % interval':^19}  "
        f"{'95 % interval':^19}".rstrip(),
    ]
    for row in rows:
        lines.append(
            f"  {row['horizon']:>2}  {row['target_date']:10}  {row['forecast']:9.2f}  "
            f"{row['lower_80']:8.2f} – {row['upper_80']:<8.2f}  "
            f"{row['lower_95']:8.2f} – {row['upper_95']:<8.2f}".rstrip()
        )
    lines.append(f"  why:       {first['reason']}")
    if first.get("interval_reason"):
        lines.append(f"  intervals: {first['interval_reason']}")
    lines.append(f"  MLflow run {first['mlflow_run_id']}")
    return "\n".join(lines)


def _serve_model(arguments: argparse.Namespace, settings: Settings) -> int:
    from tickercast.cli.console import run_server
    from tickercast.errors import TrackingUnavailableError
    from tickercast.tracking.serving import UnknownVersionError, serve_model_command, served_version
    from tickercast.tracking.tracker import tracker_for

    ticker = normalize_ticker(arguments.ticker)
    try:
        served = served_version(
            tracker_for(settings), Store(settings.home), ticker, arguments.version
        )
    except UnknownVersionError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (InputError, TrackingUnavailableError) as error:
        print(error, file=sys.stderr)
        return EXIT_FAILED
    argv, environment = serve_model_command(settings, ticker, served.version, arguments.port)
    what = "the champion" if served.champion else "not the champion"
    print(
        f"serving tickercast-{ticker} v{served.version} ({what}, trained as of "
        f"{served.tags.get('as_of', '?')}, intervals of "
        f"{served.tags.get('interval_model', 'its own')}) on http://127.0.0.1:{arguments.port}"
    )
    print("POST /invocations the last sessions, as its input example shows; Ctrl-C stops it")
    sys.stdout.flush()
    return run_server(argv, environment)


def _train_global(request: RunRequest, settings: Settings) -> int:
    from tickercast.flows.global_model import train_global

    state = train_global(**_flow_parameters(request, "train-global"), return_state=True)
    result = state.result(raise_on_failure=False)
    if isinstance(result, BaseException):
        print(f"train-global failed: {result}", file=sys.stderr)
        return EXIT_FAILED
    print(result)
    return EXIT_OK


def _plots(arguments: argparse.Namespace, settings: Settings) -> int:
    from tickercast.tracking.run_record import HOLDOUT_PLOTS, HoldoutPlots, holdout_figures
    from tickercast.tracking.tracker import tracker_for

    ticker, tracker = normalize_ticker(arguments.ticker), tracker_for(settings)
    latest = None if arguments.run else tracker.latest_run(ticker)
    run_id = arguments.run or (latest and latest.run_id)
    if run_id is None:
        print(f"error: {ticker}: no MLflow run to draw", file=sys.stderr)
        return EXIT_FAILED
    folder = arguments.out / f"{ticker_slug(ticker)}-{run_id}"
    folder.mkdir(parents=True, exist_ok=True)
    holdout = tracker.read_artifact(run_id, HOLDOUT_PLOTS, HoldoutPlots.load)
    for path, figure in holdout_figures(holdout).items():
        figure.savefig(folder / Path(path).name)
    print(f"{ticker}: the holdout figures of run {run_id} are in {folder}")
    return EXIT_OK


def _prune(arguments: argparse.Namespace, settings: Settings) -> int:
    from tickercast.tracking.tracker import tracker_for

    days = arguments.keep_days or settings.retention_days
    before = datetime.now(UTC) - timedelta(days=days)
    pruned = tracker_for(settings).prune(before)
    print(f"made before {before:%Y-%m-%d %H:%M} UTC: {pruned.summary()}")
    return 0


def _verify(arguments: argparse.Namespace, settings: Settings) -> int:
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
            source = arguments.source or stored_source(store, ticker) or FIELDS["source"].default
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


def _preflight(request: RunRequest, settings: Settings) -> tuple[RunRequest | None, int]:
    """The request without the tickers that cannot run (each printed once, before any
    server starts), or None when none can; and the exit code their refusal sets."""
    from tickercast.data.preflight import refusals

    refused = refusals(
        request.ticker_list,
        request.source,
        Store(settings.home),
        settings.calendar_for,
        request.replace_source,
    )
    for refusal in refused:
        print(refusal.line())
    if not refused:
        return request, EXIT_OK
    kept = [t for t in request.ticker_list if t not in {r.ticker for r in refused}]
    left = replace(request, tickers=tuple(kept), universe=None) if kept else None
    return left, EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `tickercast` console script."""
    try:
        return _main(argv)
    except BrokenPipeError:  # `tickercast track | head`: the reader left, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _main(argv: list[str] | None) -> int:
    arguments = _parse(argv)
    from tickercast.cli import console

    console.configure(arguments.verbose)
    try:
        settings = Settings.from_env()
        try:
            for line in open_home(settings.home):  # every command: an older layout migrated
                print(line, file=sys.stderr)
        except OSError as error:  # e.g. a full disk: the layout is as it was
            print(f"error: cannot open the home {settings.home}: {error}", file=sys.stderr)
            return EXIT_FAILED
        if arguments.command == "forecast":
            return _forecast(arguments, settings)
        if arguments.command == "serve-model":
            return _serve_model(arguments, settings)
        if arguments.command == "track":
            return _track(arguments, settings)
        if arguments.command == "prune":
            return _prune(arguments, settings)
        if arguments.command == "plots":
            return _plots(arguments, settings)
        if arguments.command == "verify":
            return _verify(arguments, settings)
        request = _request(arguments)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if arguments.command == "status":
        all_known = arguments.tickers is None and not arguments.universe
        return _status(request, settings, all_known)
    commands = {
        "run": _run,
        "ingest": _ingest,
        "backtest": _backtest,
        "backfill": _backfill,
        "train-global": _train_global,
    }
    refused = EXIT_OK
    if arguments.command != "train-global":  # it reads stored prices, fetches nothing
        request, refused = _preflight(request, settings)
        if request is None:
            return refused
    return max(commands[arguments.command](request, settings), refused)


if __name__ == "__main__":
    sys.exit(main())
