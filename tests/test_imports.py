"""Every flow and deployment imports, the deployment files agree with the flows, and
the domain package's imports run one way: down its rooms, never into Prefect."""

import ast
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


# The domain's rooms, lowest first: a module may import its own room and the rooms
# below it, never one above (tickercast/__init__.py's docstring says what each holds).
# `settings` and `request` are the run's parameters: they read data and models, and the
# tracking room reads them. `model_artifact` is the name saved models load through: a
# door into models.
ROOMS = {
    "errors": 0,
    "data": 1,
    "models": 2,
    "model_artifact": 2,
    "evaluation": 3,
    "ledger": 4,
    "settings": 5,
    "request": 5,
    "tracking": 6,
}


def _domain_imports() -> dict[str, set[str]]:
    """Every tickercast module (subpackages included) and the modules it imports,
    at its top or inside a function."""
    graph = {}
    for path in sorted((ROOT / "tickercast").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                # `from tickercast.tracking import run_record` imports the module run_record
                imported |= {f"{node.module}.{alias.name}" for alias in node.names}
                imported.add(node.module)
        graph[module] = imported
    return graph


def _room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Imports from a room into a room above it, as 'importer -> imported'."""
    return [
        f"{module} -> {name}"
        for module, names in graph.items()
        for name in sorted(names)
        if name.startswith("tickercast.")
        and _room(name) in ROOMS
        and ROOMS[_room(name)] > ROOMS.get(_room(module), len(ROOMS))
    ]


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles between tickercast modules (Tarjan's strongly connected
    components of more than one module)."""
    edges = {m: sorted(n for n in names if n in graph and n != m) for m, names in graph.items()}
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in edges[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while (member := stack.pop()) != module:
                on_stack.discard(member)
                component.append(member)
            on_stack.discard(module)
            if component:
                found.append(sorted([module, *component]))

    for module in edges:
        if module not in index:
            visit(module)
    return found


def test_the_domain_package_never_imports_prefect():
    graph = _domain_imports()
    assert len(graph) > 50 and any(m.startswith("tickercast.tracking.") for m in graph)
    prefect = [m for m, names in graph.items() if any(n.split(".")[0] == "prefect" for n in names)]
    assert prefect == []


def test_every_domain_module_lives_in_a_room():
    graph = _domain_imports()
    assert {_room(m) for m in graph} - {None} == set(ROOMS)


def test_imports_only_run_down_the_rooms_and_never_in_circles():
    graph = _domain_imports()
    assert upward_imports(graph) == []
    assert circles(graph) == []


# Modules tested through another module's tests rather than a file of their own: the
# file named must exist and mention the module.
TESTED_IN = {
    "tickercast.errors": "tests/flows/test_outcomes.py",
    "tickercast.models.candidates": "tests/models/test_fitting.py",
    "tickercast.models.intervals": "tests/models/test_fitting.py",
    "tickercast.models.network_config": "tests/models/test_network.py",
    "tickercast.tracking.model_code": "tests/models/test_saved_candidate.py",
    "tickercast.tracking.run_record": "tests/evaluation/test_plots.py",
    "tickercast.tracking.serving": "tests/tracking/test_mlflow_server.py",
}


def test_every_domain_module_has_its_tests():
    untested = []
    for module in _domain_imports():
        parts = module.split(".")
        if parts[-1] == "tickercast" or module.endswith(("__init__",)) or len(parts) < 2:
            continue
        if module in {f"tickercast.{room}" for room in ROOMS}:
            continue  # a room's __init__: its docstring only
        own = ROOT / "tests" / Path(*parts[1:-1]) / f"test_{parts[-1]}.py"
        named = ROOT / TESTED_IN.get(module, "tests/none")
        if not own.is_file() and not (named.is_file() and parts[-1] in named.read_text()):
            untested.append(module)
    assert untested == []


def test_the_rules_catch_an_import_up_and_a_circle():
    # the checks above are only as good as these two: fed a bad graph, they object
    graph = {
        "tickercast.data.prices": {"tickercast.models.network"},
        "tickercast.models.network": {"tickercast.models.fitting"},
        "tickercast.models.fitting": {"tickercast.models.network", "numpy"},
    }
    assert upward_imports(graph) == ["tickercast.data.prices -> tickercast.models.network"]
    assert circles(graph) == [["tickercast.models.fitting", "tickercast.models.network"]]


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
