"""The LSTM's hyperparameters, apart from the network code: reading them (the CLI's
defaults, a run's parameters) never loads TensorFlow."""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ModelConfig:
    """Hyperparameters; the defaults are the tutorial's model and optimiser.

    Attributes:
        units: LSTM units per layer.
        layers: stacked LSTM layers, each followed by dropout.
        dropout: dropout rate after each LSTM layer.
        learning_rate: Adam's learning rate.
        batch_size: windows per gradient step.
        epochs: the most epochs to train.
        patience: epochs without a better validation loss before stopping early.
        seed: seeds Python, NumPy and TensorFlow, so equal inputs give equal metrics.
        warm_start_epochs: epochs when fine-tuning the champion's weights.
    """

    units: int = 50
    layers: int = 2
    dropout: float = 0.2
    learning_rate: float = 1e-3
    batch_size: int = 32
    epochs: int = 10
    patience: int = 3
    seed: int = 42
    warm_start_epochs: int = 3

    def as_params(self) -> dict[str, float | int]:
        return asdict(self)
