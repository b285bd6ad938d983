"""Serve the deployments of `prefect.yaml` from this process: one machine, no work pool.

    python deployments/serve.py        # needs PREFECT_API_URL (a running Prefect server)

Schedules and parameters are read from `prefect.yaml` beside this file, so the
served deployments and the worker-based ones cannot drift apart. Served deployments
are named like the worker ones with `-served` appended (`daily-forecast/daily-served`).
"""

from pathlib import Path

import yaml
from prefect import serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment
from prefect.flows import load_flow_from_entrypoint
from prefect.schedules import Cron

PREFECT_YAML = Path(__file__).with_name("prefect.yaml")
PROJECT_ROOT = PREFECT_YAML.parent.parent


def _concurrency(limit: dict | None) -> ConcurrencyLimitConfig | None:
    if limit is None:
        return None
    strategy = ConcurrencyLimitStrategy(limit.get("collision_strategy", "ENQUEUE"))
    return ConcurrencyLimitConfig(limit=limit["limit"], collision_strategy=strategy)


def served_deployments(prefect_yaml: Path = PREFECT_YAML) -> list[RunnerDeployment]:
    """One served deployment per deployment of `prefect.yaml`, same schedule and parameters."""
    deployments = []
    for config in yaml.safe_load(prefect_yaml.read_text())["deployments"]:
        flow = load_flow_from_entrypoint(str(PROJECT_ROOT / config["entrypoint"]))
        deployments.append(
            flow.to_deployment(
                name=f"{config['name']}-served",
                description=config.get("description"),
                schedules=[
                    Cron(s["cron"], timezone=s["timezone"], active=s.get("active", True))
                    for s in config.get("schedules") or []
                ],
                parameters=config.get("parameters", {}),
                tags=config.get("tags", []),
                concurrency_limit=_concurrency(config.get("concurrency_limit")),
            )
        )
    return deployments


if __name__ == "__main__":
    serve(*served_deployments())
