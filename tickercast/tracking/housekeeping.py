"""Pruning the MLflow store: the runs and LoggedModels older than the retention go, but
registered versions and each ticker's latest network (tomorrow's warm start) stay."""

import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime

from tickercast.tracking.experiment import Experiment, pages


@dataclass(frozen=True)
class Pruned:
    """What `prune` deleted and kept."""

    runs: int
    models: int
    kept_runs: int
    kept_models: int
    permanent: bool  # removed for good (the local store), or only marked deleted

    def summary(self) -> str:
        """One line for the console."""
        how = (
            "deleted"
            if self.permanent
            else "marked deleted (the server's `mlflow gc` removes them)"
        )
        return (
            f"{self.runs} runs and {self.models} LoggedModels {how}; kept "
            f"{self.kept_runs} runs and {self.kept_models} LoggedModels of registered "
            "versions and of each ticker's latest network"
        )


def prune(experiment: Experiment, before: datetime) -> Pruned:
    """Delete the experiment's runs and LoggedModels created before `before`, except those
    of registered versions (the champions and what they replaced) and each ticker's
    latest LoggedModel (tomorrow's warm start).

    Args:
        experiment: the experiment; on a local store what is deleted goes for good
            (`mlflow gc`), elsewhere into MLflow's deleted stage for the server's own gc.
        before: what was created before this time goes.

    Returns:
        What was deleted and kept.
    """
    client, cutoff = experiment.client, int(before.timestamp() * 1000)
    registered = [
        version
        for page in pages(client.search_model_versions, "name LIKE 'tickercast-%'")
        for version in page
    ]
    # a version's source is its LoggedModel's URI (MLflow's SQL registry leaves
    # the version's own model_id empty)
    kept_models = {v.source.removeprefix("models:/") for v in registered} | {
        model.model_id for model in _latest_per_ticker(experiment)
    }
    kept_runs = {v.run_id for v in registered}
    old_models = [
        model.model_id
        for page in pages(
            client.search_logged_models,
            [experiment.id],
            filter_string=f"creation_time < {cutoff}",
        )
        for model in page
        if model.model_id not in kept_models
    ]
    kept_runs |= {m.source_run_id for m in map(client.get_logged_model, kept_models) if m}
    old_runs = [
        run.info.run_id
        for page in pages(
            client.search_runs,
            [experiment.id],
            filter_string=f"attributes.start_time < {cutoff}",
        )
        for run in page
        if run.info.run_id not in kept_runs
    ]
    for model_id in old_models:
        client.delete_logged_model(model_id)
    for run_id in old_runs:
        client.delete_run(run_id)
    if experiment.local and (old_models or old_runs):
        with experiment.lock.held():
            _collect_garbage(experiment.uri, old_runs, old_models)
    return Pruned(
        runs=len(old_runs),
        models=len(old_models),
        kept_runs=len(kept_runs),
        kept_models=len(kept_models),
        permanent=experiment.local,
    )


def _latest_per_ticker(experiment: Experiment) -> list:
    """Each ticker's most recent LoggedModel."""
    latest = {}
    for page in pages(
        experiment.client.search_logged_models,
        [experiment.id],
        order_by=[{"field_name": "creation_time", "ascending": False}],
    ):
        for model in page:
            latest.setdefault(model.tags.get("ticker"), model)
    return list(latest.values())


def _collect_garbage(uri: str, runs: list[str], models: list[str]) -> None:
    """Remove deleted runs and LoggedModels from a local store for good, with their
    artifacts (`mlflow gc`, in chunks that fit a command line)."""
    chunk = 2000
    for first in range(0, max(len(runs), len(models)), chunk):
        ids = {"--run-ids": runs[first : first + chunk]}
        ids["--logged-model-ids"] = models[first : first + chunk]
        arguments = [f"{flag}={','.join(values)}" for flag, values in ids.items() if values]
        command = ["mlflow", "gc", "--backend-store-uri", uri, "--tracking-uri", uri]
        done = subprocess.run(
            [sys.executable, "-m", *command, *arguments], capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"`{' '.join(command)}` failed: {done.stderr.strip()[-2000:]}")
