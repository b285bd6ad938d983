"""The `tickercast` commands, one function each, grouped by what they do: flow runs
(`runs`), what is stored and published (`reports`), serving a model (`serve_model`),
and keeping the home and the MLflow store in order (`upkeep`).

Each imports Prefect, MLflow or TensorFlow inside the function that needs them, so that
the read-only commands (`status`, `forecast`, `track`, `verify`) never load TensorFlow
and start fast.
"""
