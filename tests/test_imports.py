"""Every flow and deployment imports, and the deployment files agree with the flows."""

import importlib
import runpy
from pathlib import Path

import pytest
import yaml
from prefect.flows import load_flow_from_entrypoint

ROOT = Path(__file__).resolve().parents[1]
PREFECT_YAML = ROOT / "deployments" / "prefect.yaml"
FLOW_NAMES = {
    "daily": "daily-forecast",
    "global": "train-global",
    "ingest": "ingest",
    "backfill": "backfill",
}
# what a run of a deployment must be given: the backfill's range
PER_RUN = {"backfill": {"first_as_of": "2022-01-03", "last_as_of": "2022-01-07"}}


def _deployments() -> list[dict]:
    return yaml.safe_load(PREFECT_YAML.read_text())["deployments"]


@pytest.mark.parametrize(
    "module",
    [
        "tickercast.flows.daily_forecast",
        "tickercast.flows.ingest",
        "tickercast.flows.backfill",
        "tickercast.flows.backtest",
        "tickercast.tasks.backtest",
        "tickercast.flows.outcomes",
        "tickercast.tasks.ingest",
        "tickercast.tasks.windows",
        "tickercast.tasks.train",
        "tickercast.tasks.evaluate",
        "tickercast.tasks.publish",
        "tickercast.tasks.tracking",
        "tickercast.cli.main",
    ],
)
def test_modules_import(module):
    importlib.import_module(module)


def test_the_domain_package_never_imports_prefect():
    for path in (ROOT / "tickercast").glob("*.py"):
        text = path.read_text()
        assert "import prefect" not in text and "from prefect" not in text, path


def test_every_deployment_entrypoint_loads_and_its_parameters_validate():
    assert {d["name"] for d in _deployments()} == set(FLOW_NAMES)
    for deployment in _deployments():
        flow = load_flow_from_entrypoint(str(ROOT / deployment["entrypoint"]))
        assert flow.name == FLOW_NAMES[deployment["name"]]
        flow.validate_parameters(deployment["parameters"] | PER_RUN.get(deployment["name"], {}))
        assert deployment["work_pool"]["name"] == "tickercast"


def test_the_daily_deployment_runs_weekdays_after_the_us_close():
    daily = next(d for d in _deployments() if d["name"] == "daily")
    assert daily["schedules"] == [
        {"cron": "30 18 * * 1-5", "timezone": "America/New_York", "active": True}
    ]


def test_the_serve_script_serves_the_same_deployments():
    serve = runpy.run_path(str(ROOT / "deployments" / "serve.py"), run_name="not_main")
    served = {d.name: d for d in serve["served_deployments"]()}
    assert set(served) == {f"{name}-served" for name in FLOW_NAMES}
    daily = served["daily-served"]
    (schedule,) = daily.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == (
        "30 18 * * 1-5",
        "America/New_York",
    )
    assert daily.parameters == next(d for d in _deployments() if d["name"] == "daily")["parameters"]
    assert (
        served["backfill-served"].schedules == []
        and served["backfill-served"].flow_name == "backfill"
        and served["ingest-served"].flow_name == "ingest"
    )
    weekly = served["global-served"]
    assert weekly.flow_name == "train-global" and not weekly.schedules[0].active


def test_the_failure_automation_is_a_valid_prefect_automation():
    from prefect.events.schemas.automations import AutomationCore

    (automation,) = yaml.safe_load((ROOT / "deployments" / "notify-failed.yaml").read_text())[
        "automations"
    ]
    parsed = AutomationCore.model_validate(automation)
    assert parsed.trigger.expect == {"prefect.flow-run.Failed"}
    assert parsed.actions[0].type == "send-notification"
