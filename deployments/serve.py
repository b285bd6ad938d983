"""Serve the daily deployment from this process: one machine, no work pool, no worker.

    python deployments/serve.py        # needs PREFECT_API_URL (a running Prefect server)

The schedule and parameters are read from `prefect.yaml` beside this file, so the
served deployment and the worker-based one cannot drift apart.
"""

from pathlib import Path

import yaml
from prefect.schedules import Cron

from flows.daily_forecast import daily_forecast

PREFECT_YAML = Path(__file__).with_name("prefect.yaml")
DEPLOYMENT_NAME = "daily-served"


def served_deployment_options(prefect_yaml: Path = PREFECT_YAML) -> dict:
    """Schedule, parameters and tags of the `daily` deployment in `prefect.yaml`."""
    config = yaml.safe_load(prefect_yaml.read_text())
    daily = next(d for d in config["deployments"] if d["name"] == "daily")
    return {
        "schedules": [Cron(s["cron"], timezone=s["timezone"]) for s in daily["schedules"]],
        "parameters": daily["parameters"],
        "tags": daily["tags"],
    }


def main() -> None:
    """Register the deployment and run its scheduled and manual runs until stopped."""
    daily_forecast.serve(name=DEPLOYMENT_NAME, **served_deployment_options())


if __name__ == "__main__":
    main()
