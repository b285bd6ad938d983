"""Prefect flows: wiring, fan-out and error policy only."""
