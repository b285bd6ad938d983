"""Scoring the forecast ledger: every official forecast, once its target session closed.

The ledger keeps every version of every forecast (`Store.append_ledger`). The
*official* version of a forecast, the one scored, is the first one published for
its `(as_of, horizon, model, shadow)`: a re-run or a replay of the same as_of adds
later versions, which are kept but never scored, so nothing published afterwards can
improve the record.

A forecast is scored in its own as_of session's price units: the realized close is
the as_of close times the adjusted close's growth from as_of to the target session.
A split or a dividend between the two then counts as no error, and a later split
or dividend (which rescales the adjusted history uniformly) leaves the score as it
was. When stored prices are revised otherwise (a corrected close), the affected
scores are computed again and say when and why.
"""

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa

from tickercast.data.history import daily_log_returns
from tickercast.data.storage import SCORE_SCHEMA, Store
from tickercast.data.windows import WindowSpec, realized_volatility
from tickercast.evaluation.metrics import interval_score, pinball_loss
from tickercast.models.conformal import LEVELS

# What makes a forecast one forecast; its versions share it.
FORECAST_KEY = ["as_of", "horizon", "model", "shadow"]
# Relative change of a realized close, beyond rounding, that makes a score be recomputed.
REVISION_TOLERANCE = 1e-9


def official_versions(ledger: pd.DataFrame) -> pd.DataFrame:
    """The first published version of each forecast (see the module's docstring).

    Args:
        ledger: ledger rows (`LEDGER_SCHEMA`), in any order.

    Returns:
        One row per `FORECAST_KEY`.
    """
    first = ledger.sort_values("published_at", kind="stable").drop_duplicates(FORECAST_KEY)
    return first.sort_values(["as_of", "shadow", "model", "horizon"], ignore_index=True)


@dataclass(frozen=True)
class Scoring:
    """The result of scoring a ticker's ledger.

    Attributes:
        as_of: the last stored session it scored up to.
        scores: every score (`SCORE_SCHEMA`), old, new and recomputed.
        scored: forecasts scored for the first time.
        rescored: scores recomputed because the stored prices were revised.
        missing: official forecasts left unscored because their as_of or target
            session is not in the stored prices although later sessions are (a gap
            in the source): `as_of`, `target_date`, `horizon`, `model`, `shadow`.
        pending: official forecasts whose target session has not closed yet.
    """

    as_of: date
    scores: pd.DataFrame
    scored: int
    rescored: int
    missing: pd.DataFrame
    pending: int

    @property
    def changed(self) -> bool:
        return bool(self.scored or self.rescored)

    def summary(self, ticker: str) -> str:
        """One line for the run's log."""
        return (
            f"{ticker}: scored {self.scored} forecasts, recomputed {self.rescored} after a "
            f"price revision; {len(self.scores)} scored in all, {self.pending} pending, "
            f"{len(self.missing)} missing a session"
        )

    def missing_warning(self, ticker: str) -> str | None:
        """What the user should know of forecasts that cannot be scored, or None."""
        if self.missing.empty:
            return None
        targets = sorted(set(self.missing["target_date"].astype(str)))
        return (
            f"{ticker}: {len(self.missing)} published forecasts stay unscored: the stored "
            f"prices lack their session ({', '.join(targets[:5])}"
            f"{', ...' if len(targets) > 5 else ''}), though later sessions are stored"
        )


def _scored_rows(rows: pd.DataFrame, realized: np.ndarray, prices: pd.DataFrame) -> pd.DataFrame:
    """`rows` with the score columns of `SCORE_SCHEMA` computed against `realized`, and
    the realized volatility of `prices` at each row's as_of."""
    scored = rows.assign(
        realized_close=realized,
        error=realized - rows["forecast"].to_numpy(),
        naive_error=realized - rows["last_close"].to_numpy(),
        origin_volatility=origin_volatilities(rows, prices),
    )
    for level in LEVELS:
        percent = round(level * 100)
        lower = rows[f"lower_{percent}"].to_numpy("float64")
        upper = rows[f"upper_{percent}"].to_numpy("float64")
        alpha = 1 - level
        scored[f"inside_{percent}"] = (realized >= lower) & (realized <= upper)
        scored[f"interval_score_{percent}"] = interval_score(realized, lower, upper, level)
        scored[f"pinball_lower_{percent}"] = pinball_loss(realized, lower, alpha / 2)
        scored[f"pinball_upper_{percent}"] = pinball_loss(realized, upper, 1 - alpha / 2)
    return scored


def origin_volatilities(forecasts: pd.DataFrame, prices: pd.DataFrame) -> np.ndarray:
    """(n,) the realized volatility of the stored prices at each forecast's as_of (the
    daily run's lookback); NaN where the session is absent."""
    returns = daily_log_returns(prices["adjusted_close"].to_numpy("float64"))
    volatility = realized_volatility(
        returns, np.arange(len(returns)), WindowSpec().volatility_lookback
    )
    by_session = pd.Series(volatility, index=prices["session"].dt.date)
    return by_session.reindex(forecasts["as_of"]).to_numpy()


def realized_closes(forecasts: pd.DataFrame, prices: pd.DataFrame) -> np.ndarray:
    """Each forecast's realized close in its as_of units; NaN where a session is absent.

    Args:
        forecasts: rows with `as_of`, `target_date` (dates) and `last_close`.
        prices: stored prices (`session`, `adjusted_close`).

    Returns:
        (n,) `last_close * adjusted(target) / adjusted(as_of)`.
    """
    adjusted = pd.Series(
        prices["adjusted_close"].to_numpy("float64"), index=prices["session"].dt.date
    )
    growth = (
        adjusted.reindex(forecasts["target_date"]).to_numpy()
        / adjusted.reindex(forecasts["as_of"]).to_numpy()
    )
    return forecasts["last_close"].to_numpy("float64") * growth


def score_ledger(
    ledger: pd.DataFrame,
    prices: pd.DataFrame,
    scores: pd.DataFrame,
    revision_reason: str | None,
    now: datetime,
) -> Scoring:
    """Score every official forecast whose target session is in `prices`, and recompute
    the scores that the stored prices no longer agree with.

    Args:
        ledger: the ticker's ledger rows.
        prices: its stored prices up to the session scoring is done as of (a replay
            scores only what had closed by then).
        scores: its scores so far (`SCORE_SCHEMA`).
        revision_reason: why the stored history was last revised (the ingest
            manifest's), recorded with recomputed scores.
        now: the scoring time, recorded with each new or recomputed score.

    Returns:
        The scores and what changed.
    """
    official = official_versions(ledger)
    last_session = prices["session"].iloc[-1].date() if len(prices) else date.min
    closed = official[official["target_date"] <= last_session]
    realized = realized_closes(closed, prices)
    known = ~np.isnan(realized)
    due, realized = closed[known], realized[known]
    missing = closed[~known][["as_of", "target_date", "horizon", "model", "shadow"]]
    merged = due.reset_index(drop=True).merge(
        scores[[*FORECAST_KEY, "realized_close"]].rename(columns={"realized_close": "before"}),
        on=FORECAST_KEY,
        how="left",
    )
    new = merged["before"].isna().to_numpy()
    before = merged["before"].to_numpy("float64")
    revised = ~new & (np.abs(realized - before) > REVISION_TOLERANCE * np.abs(before))
    fresh = _scored_rows(due[new], realized[new], prices).assign(
        scored_at=now, rescored_at=pd.NaT, rescore_reason=None
    )
    keys = due[revised][FORECAST_KEY]
    kept = scores.merge(keys, on=FORECAST_KEY, how="left", indicator=True)
    unchanged = kept[kept.pop("_merge") == "left_only"]
    redone_from = scores.merge(keys, on=FORECAST_KEY)
    redone = _scored_rows(redone_from, realized_closes(redone_from, prices), prices).assign(
        rescored_at=now, rescore_reason=revision_reason or "stored prices changed"
    )
    parts = [part[SCORE_SCHEMA.names] for part in (unchanged, redone, fresh) if len(part)]
    combined = pd.concat(parts, ignore_index=True) if parts else scores[SCORE_SCHEMA.names]
    # in the stored types, so that a score reads back as it was computed
    typed = pa.Table.from_pandas(combined, schema=SCORE_SCHEMA, preserve_index=False).to_pandas()
    return Scoring(
        as_of=last_session,
        scores=typed.sort_values(["as_of", "shadow", "model", "horizon"], ignore_index=True),
        scored=int(new.sum()),
        rescored=int(revised.sum()),
        missing=missing.reset_index(drop=True),
        pending=int((official["target_date"] > last_session).sum()),
    )


def score_ticker(store: Store, ticker: str, as_of: date | None, now: datetime) -> Scoring:
    """Score a ticker's ledger against its stored prices, under its lock (two runs never
    write a score twice), and store the scores when they changed.

    Args:
        store: the home.
        ticker: the symbol.
        as_of: score only targets up to this session (a replay); None: every stored one.
        now: the scoring time.

    Returns:
        The scoring.

    Raises:
        StoredFileError: a ledger or scores file cannot be read (named).
        NoPricesError: nothing is stored for the ticker.
    """
    with store.lock(ticker):
        ledger = store.read_ledger(ticker)
        prices = store.read_prices(ticker, end=as_of)
        revisions = [r for r in store.read_manifest(ticker) if r.get("revision")]
        reason = revisions[-1].get("revision_reason") if revisions else None
        scoring = score_ledger(ledger, prices, store.read_scores(ticker), reason, now)
        if scoring.changed:
            store.write_scores(ticker, scoring.scores)
    return scoring
