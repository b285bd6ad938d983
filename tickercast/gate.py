"""Champion / challenger: publish only what beats the naive forecast and the champion."""

from dataclasses import dataclass

import pandas as pd

from tickercast.evaluate import Scored, mase_scales, score
from tickercast.fitting import Candidate, Fitted


@dataclass(frozen=True)
class GateDecision:
    """What to publish, and why.

    Attributes:
        published: `lstm` (the new model), `champion` (the registered one) or `naive`.
        promote: whether the new model becomes the champion.
        reason: one sentence for the forecast artifact and the run report.
        scores: mean RMSE ratio over horizons of each candidate on the holdout.
    """

    published: str
    promote: bool
    reason: str
    scores: dict[str, float]


def decide(new: Scored, naive: Scored, champion: Scored | None, margin: float) -> GateDecision:
    """Compare the new model with naive and the champion on the same holdout origins.

    The new model is promoted only when its mean RMSE ratio is below 1 - margin (it
    beats naive) and below the champion's by more than `margin`. Otherwise the
    champion is published if it beats naive by the margin, else naive.

    Args:
        new: the freshly trained model, scored on the holdout.
        naive: the naive forecast on the same origins.
        champion: the current champion on the same origins, if there is one.
        margin: required improvement, as a fraction of the naive RMSE.

    Returns:
        The decision.
    """
    scores = {"lstm": new.mean_rmse_ratio, "naive": naive.mean_rmse_ratio}
    if champion is not None:
        scores["champion"] = champion.mean_rmse_ratio
    beats_naive = scores["lstm"] < 1 - margin
    beats_champion = champion is None or scores["lstm"] < scores["champion"] - margin
    summary = ", ".join(f"{name} {value:.3f}" for name, value in scores.items())
    if beats_naive and beats_champion:
        return GateDecision(
            "lstm", True, f"the new model beats naive and the champion ({summary})", scores
        )
    if champion is not None and scores["champion"] < 1 - margin:
        return GateDecision(
            "champion",
            False,
            f"the champion still beats naive and the new model ({summary})",
            scores,
        )
    return GateDecision(
        "naive", False, f"no model beats naive by {margin:.0%} of its RMSE ({summary})", scores
    )


@dataclass(frozen=True)
class Evaluation:
    """Every candidate's holdout scores and the gate's decision."""

    scored: dict[str, Scored]
    decision: GateDecision

    def metrics_table(self) -> pd.DataFrame:
        """One row per candidate and horizon: `model`, `horizon` and the metrics."""
        return pd.DataFrame(
            [
                {"model": name, "horizon": h + 1, **metrics}
                for name, scored in self.scored.items()
                for h, metrics in enumerate(scored.metrics)
            ]
        )


def evaluate_candidates(
    prices: pd.DataFrame,
    fitted: Fitted,
    champion: Candidate | None,
    margin: float,
) -> Evaluation:
    """Score the fitted candidates and the champion on the holdout, and decide.

    Args:
        prices: the history the candidates were fitted on (up to as_of).
        fitted: the candidates.
        champion: the registered champion, if any.
        margin: the gate's required improvement, as a fraction of the naive RMSE.

    Returns:
        The scores and the decision.
    """
    spec, holdout = fitted.spec, fitted.split.holdout
    scales = mase_scales(prices, fitted.split.fit, spec.horizons)
    candidates = dict(fitted.candidates)
    if champion is not None:
        candidates["champion"] = champion
    scored = {
        name: score(name, candidate, prices, holdout, spec, scales)
        for name, candidate in candidates.items()
    }
    decision = decide(scored["lstm"], scored["naive"], scored.get("champion"), margin)
    return Evaluation(scored, decision)
