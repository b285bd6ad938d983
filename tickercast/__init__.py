"""tickercast: an honest daily stock forecasting pipeline.

The domain package: plain functions and small classes with no Prefect imports, so
every stage can be tested and reused without an orchestrator. `flows/` and `tasks/`
wire them into Prefect.
"""

__version__ = "0.1.0"
