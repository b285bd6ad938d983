"""The champion policy, in one place: when the registered champion is compared with
today's models, what the gate publishes, and when the `champion` alias may move
(which network a warm start fine-tunes is `tickercast.models.retraining`'s).

The champion is the registered LSTM that last beat naive (and its predecessor) on a
holdout. Each run scores the new LSTM, the baselines and the champion on the same
holdout origins; the gate then publishes the new model, the champion or naive. A
holdout win is published only when the LSTM's live shadow record agrees
(`shadow_gate`): one holdout of a few months is easily won by luck.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import pandas as pd

from tickercast.data.history import History
from tickercast.data.windows import WindowSpec
from tickercast.evaluation.interval_gate import IntervalDecision, decide_intervals
from tickercast.evaluation.scores import Scored, mase_scales, score
from tickercast.evaluation.track_record import LiveRecord
from tickercast.models.fitting import Candidate, Fitted
from tickercast.models.forecasters import LSTMForecaster


@dataclass(frozen=True)
class Champion:
    """The registered model that the `champion` alias points at.

    Attributes:
        candidate: its LSTM with the intervals it was registered with; None when it
            was saved in a format this version cannot read (`unreadable` says why):
            it is then never compared, but still holds the alias back in time.
        version: its registered model version.
        as_of: the session it was trained as of (None if the run did not say).
        unreadable: why its files could not be read, if they could not.
    """

    candidate: Candidate | None
    version: str
    as_of: date | None
    unreadable: str | None = None


class Choice(StrEnum):
    """What the gate publishes: the new LSTM, the registered champion, or naive."""

    LSTM = "lstm"
    CHAMPION = "champion"
    NAIVE = "naive"


def comparable(champion: Champion | None, as_of: date, spec: WindowSpec) -> bool:
    """Whether a champion can be compared with today's models.

    Not when it was trained as of today or later (a replay of an earlier day would
    score it on its own training data), and not when its windows differ from today's.

    Args:
        champion: the registered champion, if any.
        as_of: today's session.
        spec: today's windows.

    Returns:
        True when the champion may be scored on today's holdout.
    """
    return (
        champion is not None
        and champion.candidate is not None
        and champion.as_of is not None
        and champion.as_of < as_of
        and isinstance(champion.candidate.forecaster, LSTMForecaster)
        and champion.candidate.forecaster.preprocessor.spec == spec
    )


@dataclass(frozen=True)
class GateDecision:
    """What to publish, and why.

    Attributes:
        published: the new LSTM, the champion or naive.
        promote: whether the new model becomes the champion.
        reason: one sentence for the forecast file, the run report and the console.
        scores: mean RMSE ratio over horizons of each candidate on the holdout.
        why: the reason in a few words, for narrow tables (the Prefect artifacts): at
            most about 30 characters, so that a table of 480 tickers fits the UI.
    """

    published: Choice
    promote: bool
    reason: str
    scores: dict[str, float]
    why: str


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
    ratios = ", ".join(f"{name} {value:.3f}" for name, value in scores.items())
    summary = f"holdout rmse_ratio, mean of h=1-{len(new.metrics)}: {ratios}"
    if _beats_naive(new, margin, significance) and beats_champion:
        reason = f"the new model beats naive and the champion ({summary})"
        return GateDecision(Choice.LSTM, True, reason, scores, "beat naive and champion")
    if champion_wins:
        reason = f"the champion still beats naive and the new model ({summary})"
        return GateDecision(Choice.CHAMPION, False, reason, scores, "the champion still wins")
    reason = (
        f"no model beats naive by {margin:.0%} of its RMSE with a Diebold-Mariano "
        f"p-value under {significance:g} ({summary})"
    )
    return GateDecision(Choice.NAIVE, False, reason, scores, "no model beats naive")


def shadow_gate(
    decision: GateDecision,
    live: LiveRecord | None,
    required: int,
    margin: float,
    significance: float,
) -> GateDecision:
    """Publish a holdout winner only if the LSTM's live shadow record beats naive too.

    Every candidate's daily forecast is ledgered as a shadow and scored once its
    session closes; the `lstm` record is the live record of the method that made the
    new model and the champion (each an LSTM trained the same way). It must hold
    `required` scored forecasts one session ahead and beat naive on them as on the
    holdout: RMSE ratio below 1 - margin, one-sided Diebold-Mariano p-value below
    `significance`. A model with no skill passes each test about `significance` of
    the time, so both about `significance`² of the time when they are independent.

    Args:
        decision: the holdout gate's decision.
        live: the LSTM's last `required` scored live forecasts (fewer when there are not so many).
        required: how many scored forecasts a live record needs; 0 turns this gate off.
        margin: the improvement over naive required, as a fraction of its RMSE.
        significance: the Diebold-Mariano p-value a live win must stay under.

    Returns:
        The decision unchanged when it publishes naive, the gate is off or the live
        record agrees (its reason then says so); else naive, not promoted, and why.
    """
    if decision.published == Choice.NAIVE or required <= 0:
        return decision
    forecasts = 0 if live is None else live.forecasts
    if forecasts < required:
        why = f"the LSTM's live record has {forecasts} of the {required} scored forecasts needed"
        short = f"won the holdout, live {forecasts}/{required}"
    elif live.rmse_ratio < 1 - margin and live.dm_pvalue < significance:
        return GateDecision(
            decision.published,
            decision.promote,
            f"{decision.reason}; live: {live.summary()}",
            decision.scores,
            f"{decision.why}, live too",
        )
    else:
        why = f"the {live.summary()} do not beat naive"
        short = "won the holdout, lost live"
    reason = f"the {decision.published} won the holdout ({decision.reason}) but {why}"
    return GateDecision(Choice.NAIVE, False, reason, decision.scores, short)


def alias_moves(decision: GateDecision, champion: Champion | None, as_of: date) -> bool:
    """Whether today's model takes the `champion` alias: it won, and the alias is not
    held by a champion trained as of today or later (a replay never takes it)."""
    return decision.promote and (
        champion is None or champion.as_of is None or champion.as_of < as_of
    )


@dataclass(frozen=True)
class Evaluation:
    """Every candidate's holdout scores and the gates' decisions: the point forecast's
    (`decision`) and its intervals' (`intervals`)."""

    scored: dict[str, Scored]
    decision: GateDecision
    intervals: IntervalDecision

    @property
    def published(self) -> Scored:
        """The published forecast's holdout scores: the chosen point, with the chosen
        intervals moved onto it."""
        point = self.scored[self.decision.published]
        if self.intervals.own:
            return point
        return point.with_intervals(point.name, self.scored[self.intervals.model])

    def metrics_table(self) -> pd.DataFrame:
        """One row per candidate and horizon: `model`, `horizon` and the metrics."""
        return pd.DataFrame(
            [
                {"model": name, "horizon": h + 1, **metrics}
                for name, scored in self.scored.items()
                for h, metrics in enumerate(scored.metrics)
            ]
        )

    def summary(self, ticker: str) -> str:
        """One line for the run's log: the h=1 ratios and what is published, why."""
        ratios = ", ".join(
            f"{name} {self.scored[name].metrics[0]['rmse_ratio']:.3f}"
            for name in ("lstm", "ar", "drift")
        )
        return (
            f"{ticker}: holdout h=1 RMSE ratio {ratios}; publishing "
            f"{self.decision.published}: {self.decision.reason}; intervals of "
            f"{self.intervals.model}: {self.intervals.reason}"
        )


def evaluate_candidates(
    history: History,
    fitted: Fitted,
    champion: Champion | None,
    margin: float,
    significance: float = 0.1,
    live: LiveRecord | None = None,
    live_required: int = 0,
    interval_significance: float = 0.01,
) -> Evaluation:
    """Score the fitted candidates, and the champion when it is comparable, on the
    holdout, and decide what to publish (`decide`, then `shadow_gate`) and with which
    intervals (`decide_intervals`).

    Args:
        history: the history the candidates were fitted on (up to as_of).
        fitted: the candidates.
        champion: the registered champion, if any.
        margin: the gate's required improvement, as a fraction of the naive RMSE.
        significance: the Diebold-Mariano p-value a win must stay under.
        live: the LSTM's live shadow record (`shadow_gate`).
        live_required: scored live forecasts the shadow gate needs; 0: holdout alone.
        interval_significance: the interval gate's Diebold-Mariano p-value threshold.

    Returns:
        The scores and the decision.
    """
    spec, holdout = fitted.spec, fitted.split.holdout
    as_of = history.as_of.date()
    scales = mase_scales(history, fitted.split.fit, spec.horizons)
    candidates = dict(fitted.candidates)
    if comparable(champion, as_of, spec):
        candidates["champion"] = champion.candidate
    scored = {
        name: score(name, candidate, history, holdout, spec, scales)
        for name, candidate in candidates.items()
    }
    decision = decide(scored["lstm"], scored["naive"], scored.get("champion"), margin, significance)
    decision = shadow_gate(decision, live, live_required, margin, significance)
    intervals = decide_intervals(scored, margin, interval_significance)
    return Evaluation(scored, decision, intervals)
