"""What was published: the forecast file and its record, publishing an evening's
decision, scoring published forecasts once their sessions close, and backfill plans.

Imports data, models and evaluation, nothing above.
"""
