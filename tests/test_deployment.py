"""The served deployment registers on a real Prefect API server with its schedule."""

import asyncio
import runpy
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client

from flows.daily_forecast import daily_forecast

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.usefixtures("prefect_api")
def test_the_served_deployment_is_scheduled_on_the_server():
    serve = runpy.run_path(str(ROOT / "deployments" / "serve.py"), run_name="not_main")
    deployment = daily_forecast.to_deployment(
        name="daily-served", **serve["served_deployment_options"]()
    )
    deployment_id = deployment.apply()

    async def read():
        async with get_client() as client:
            return await client.read_deployment(deployment_id)

    stored = asyncio.run(read())
    assert stored.name == "daily-served"
    (schedule,) = stored.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == (
        "30 18 * * 1-5",
        "America/New_York",
    )
    assert schedule.active
    assert (
        stored.parameters["tickers"] == ["AAPL", "MSFT"]
        and stored.parameters["source"] == "yfinance"
    )
