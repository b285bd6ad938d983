"""Champion / challenger: publish only what beats the naive forecast and the champion."""

from dataclasses import dataclass
from datetime import date

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


def _beats_naive(scored: Scored, margin: float, significance: float) -> bool:
    """Better than naive by the margin on average, and significantly so one session ahead."""
    p_value = scored.metrics[0]["dm_pvalue"]
    return scored.mean_rmse_ratio < 1 - margin and bool(p_value < significance)


def decide(
    new: Scored,
    naive: Scored,
    champion: Scored | None,
    margin: float,
    significance: float = 0.1,
) -> GateDecision:
    """Compare the new model with naive and the champion on the same holdout origins.

    A model *beats naive* when its RMSE ratio averaged over horizons is below
    1 - margin and the one-sided Diebold-Mariano test against naive, one session
    ahead, gives a p-value below `significance` (a small edge on a few months of
    sessions is usually luck). The new model is promoted when it beats naive and,
    if the champion beats naive too, beats the champion's ratio by the margin.
    Otherwise the champion is published if it beats naive, else naive.

    Args:
        new: the freshly trained model, scored on the holdout.
        naive: the naive forecast on the same origins.
        champion: the current champion on the same origins, if there is one.
        margin: required improvement, as a fraction of the naive RMSE.
        significance: the Diebold-Mariano p-value a win must stay under.

    Returns:
        The decision.
    """
    scores = {"lstm": new.mean_rmse_ratio, "naive": naive.mean_rmse_ratio}
    if champion is not None:
        scores["champion"] = champion.mean_rmse_ratio
    champion_wins = champion is not None and _beats_naive(champion, margin, significance)
    beats_champion = not champion_wins or scores["lstm"] < scores["champion"] - margin
    summary = ", ".join(f"{name} {value:.3f}" for name, value in scores.items())
    if _beats_naive(new, margin, significance) and beats_champion:
        reason = f"the new model beats naive and the champion ({summary})"
        return GateDecision("lstm", True, reason, scores)
    if champion_wins:
        reason = f"the champion still beats naive and the new model ({summary})"
        return GateDecision("champion", False, reason, scores)
    reason = (
        f"no model beats naive by {margin:.0%} of its RMSE with a Diebold-Mariano "
        f"p-value under {significance:g} ({summary})"
    )
    return GateDecision("naive", False, reason, scores)


def may_move_alias(champion_as_of: date | None, as_of: date) -> bool:
    """Whether a run as of `as_of` may take the alias: not from a champion trained later."""
    return champion_as_of is None or champion_as_of < as_of


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
    significance: float = 0.1,
) -> Evaluation:
    """Score the fitted candidates and the champion on the holdout, and decide.

    Args:
        prices: the history the candidates were fitted on (up to as_of).
        fitted: the candidates.
        champion: the registered champion, if any.
        margin: the gate's required improvement, as a fraction of the naive RMSE.
        significance: the Diebold-Mariano p-value a win must stay under.

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
    decision = decide(scored["lstm"], scored["naive"], scored.get("champion"), margin, significance)
    return Evaluation(scored, decision)
