"""The served deployments register on a real Prefect API server with their schedules."""

import asyncio
import runpy
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.usefixtures("prefect_api")
def test_the_served_deployments_are_scheduled_on_the_server():
    serve = runpy.run_path(str(ROOT / "deployments" / "serve.py"), run_name="not_main")
    ids = {deployment.name: deployment.apply() for deployment in serve["served_deployments"]()}

    async def read(deployment_id):
        async with get_client() as client:
            return await client.read_deployment(deployment_id)

    daily = asyncio.run(read(ids["daily-served"]))
    (schedule,) = daily.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == (
        "30 18 * * 1-5",
        "America/New_York",
    )
    assert schedule.active
    assert (
        daily.parameters["tickers"] == ["AAPL", "MSFT"] and daily.parameters["source"] == "yfinance"
    )
    backfill = asyncio.run(read(ids["backfill-served"]))
    assert backfill.schedules == [] and backfill.parameters["source"] == "yfinance"
