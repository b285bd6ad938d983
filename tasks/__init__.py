"""Prefect tasks: one module per stage, each a thin wrapper around `tickercast`."""
