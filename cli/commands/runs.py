"""The commands that run a flow (`run`, `ingest`, `backtest`, `backfill`, `train-global`),
the preflight that refuses tickers before any server starts, and what each prints."""

import sys
from dataclasses import replace

from tickercast.cli.exit_codes import EXIT_FAILED, EXIT_OK
from tickercast.cli.progress import StageProgress
from tickercast.cli.tables import report_table
from tickercast.data.storage import Store
from tickercast.data.tickers import ticker_slug
from tickercast.request import COMMAND_PARAMETERS, RunRequest
from tickercast.settings import Settings


def preflight(request: RunRequest, settings: Settings) -> tuple[RunRequest | None, int]:
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


def run(request: RunRequest, settings: Settings) -> int:
    """`tickercast run`: the daily flow once, now, and a table of what it published."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from tickercast.flows.daily_forecast import STAGES, daily_forecast
    from tickercast.tasks.retries import stage_progress
    from tickercast.tracking.redaction import redacted

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


def _prefect_location() -> str:
    from prefect.settings import get_current_settings

    prefect = get_current_settings()
    if prefect.api.url:
        return f"the Prefect server at {prefect.api.url}"
    return (
        f"Prefect's database under {prefect.home}: `make prefect-server`, then "
        "http://127.0.0.1:4200/artifacts, or `prefect artifact ls`"
    )


def _reported(flow, request: RunRequest, command: str, report) -> int:
    """Run a command's flow, then `report(outcomes)`; the exit code of its final state."""
    state = flow(**_flow_parameters(request, command), return_state=True)
    outcomes = _outcomes(state)
    if outcomes is None:
        return EXIT_FAILED
    report(outcomes)
    return EXIT_OK if state.is_completed() else EXIT_FAILED


def ingest(request: RunRequest, settings: Settings) -> int:
    """`tickercast ingest`: refresh prices only, and say what each ingest stored."""
    from tickercast.flows.ingest import ingest as ingest_flow

    return _reported(ingest_flow, request, "ingest", lambda outcomes: _ingested(outcomes, settings))


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


def backtest(request: RunRequest, settings: Settings) -> int:
    """`tickercast backtest`: score the models walk-forward, and print the pooled report."""
    from tickercast.flows.backtest import backtest as backtest_flow

    return _reported(
        backtest_flow, request, "backtest", lambda outcomes: _backtested(outcomes, settings)
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
        print(report_table(points, POINT_METRICS))
        print()
        print(report_table([r for r in pooled if r["horizon"] == 1], INTERVAL_METRICS))
        choices = ", ".join(fold.intervals.model for fold in result.folds)
        print(f"intervals published by fold: {choices}")
    print()
    report = settings.home / "reports" / "backtest" / "latest.json"
    print(f"Report: {report}: every model, horizon, fold and metric")


def backfill(request: RunRequest, settings: Settings) -> int:
    """`tickercast backfill`: replay as_of over a range, skipping what was published."""
    from tickercast.flows.backfill import backfill as backfill_flow
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
    return _reported(backfill_flow, request, "backfill", _backfilled)


def _backfilled(outcomes: list) -> None:
    for outcome in outcomes:
        if outcome.error is not None:
            print((f"{outcome.as_of}: " if outcome.as_of else "") + _failure(outcome))
        else:
            published = outcome.result
            print(f"{outcome.as_of}: {outcome.ticker} {published.model} {published.forecast:.2f}")


def train_global(request: RunRequest, settings: Settings) -> int:
    """`tickercast train-global`: one network on the universe's stored prices."""
    from tickercast.flows.global_model import train_global as train_global_flow

    state = train_global_flow(**_flow_parameters(request, "train-global"), return_state=True)
    result = state.result(raise_on_failure=False)
    if isinstance(result, BaseException):
        print(f"train-global failed: {result}", file=sys.stderr)
        return EXIT_FAILED
    print(result)
    return EXIT_OK
