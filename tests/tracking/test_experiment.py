from tickercast.tracking.experiment import experiment_for


def test_local_store_lives_under_home(settings, experiment):
    assert experiment.uri == f"sqlite:///{settings.home / 'mlflow.db'}"
    shown = experiment.client.get_experiment(experiment.id)
    assert shown.name == "tickercast"
    assert shown.artifact_location == (settings.home / "mlartifacts").as_uri()
    assert experiment_for(settings) is experiment  # configured once per process
    # shown by the UI as model training, not as a GenAI app
    assert shown.tags["mlflow.experimentKind"] == "custom_model_development"
