"""Every flow and deployment imports, and the deployment files agree with the flow."""

import importlib
import runpy
from pathlib import Path

import pytest
import yaml
from prefect.flows import load_flow_from_entrypoint

ROOT = Path(__file__).resolve().parents[1]
PREFECT_YAML = ROOT / "deployments" / "prefect.yaml"


@pytest.mark.parametrize(
    "module",
    [
        "flows.daily_forecast",
        "tasks.ingest",
        "tasks.windows",
        "tasks.train",
        "tasks.evaluate",
        "tasks.publish",
        "tasks.tracking",
        "cli.main",
    ],
)
def test_modules_import(module):
    importlib.import_module(module)


def test_the_domain_package_never_imports_prefect():
    for path in (ROOT / "tickercast").glob("*.py"):
        text = path.read_text()
        assert "import prefect" not in text and "from prefect" not in text, path


def test_every_deployment_entrypoint_loads_and_its_parameters_validate():
    config = yaml.safe_load(PREFECT_YAML.read_text())
    assert config["deployments"], "prefect.yaml has no deployment"
    for deployment in config["deployments"]:
        flow = load_flow_from_entrypoint(str(ROOT / deployment["entrypoint"]))
        assert flow.name == "daily-forecast"
        flow.validate_parameters(deployment["parameters"])


def test_the_daily_deployment_runs_weekdays_after_the_us_close():
    (daily,) = yaml.safe_load(PREFECT_YAML.read_text())["deployments"]
    assert daily["schedules"] == [
        {"cron": "30 18 * * 1-5", "timezone": "America/New_York", "active": True}
    ]
    assert daily["work_pool"]["name"] == "tickercast"


def test_the_serve_script_uses_the_same_schedule_and_parameters():
    serve = runpy.run_path(str(ROOT / "deployments" / "serve.py"), run_name="not_main")
    options = serve["served_deployment_options"]()
    (schedule,) = options["schedules"]
    assert (schedule.cron, schedule.timezone) == ("30 18 * * 1-5", "America/New_York")
    (daily,) = yaml.safe_load(PREFECT_YAML.read_text())["deployments"]
    assert options["parameters"] == daily["parameters"]
