"""A ticker's live track record: how its published (and shadow) forecasts did once
their sessions closed, over the last 20, 60 and 250 scored forecasts and since
inception; and the calibration alarm it raises."""

from dataclasses import asdict, dataclass, fields, replace
from datetime import date

import numpy as np
import pandas as pd

from tickercast.data.storage import Store
from tickercast.evaluation.metrics import (
    christoffersen_pvalue,
    coverage_by_tercile,
    diebold_mariano_pvalue,
    kupiec_pvalue,
    rmse_ratio,
)

# When the 60-forecast coverage of the 80 % interval is this unlikely under correct
# calibration (Kupiec), the run raises an alarm: about one false alarm in 100 checks.
ALARM_PVALUE = 0.01
ALARM_LEVEL = 0.8
ALARM_WINDOW = 60


@dataclass(frozen=True)
class CalibrationAlarm:
    """The published intervals' recent coverage left what chance allows.

    Attributes:
        ticker: the symbol.
        as_of: the session the track record was computed as of.
        level: the interval's nominal coverage (0.8).
        forecasts: the scored forecasts one session ahead it is computed over (60).
        coverage: the fraction of them whose close fell inside the interval.
        kupiec_pvalue: Kupiec's test of that coverage against `level`.
    """

    ticker: str
    as_of: date
    level: float
    forecasts: int
    coverage: float
    kupiec_pvalue: float

    def message(self) -> str:
        """One line for the log, the run summary and the event."""
        return (
            f"{self.ticker}: calibration drift: the published {self.level:.0%} interval held "
            f"{self.coverage:.0%} of the last {self.forecasts} closes one session ahead "
            f"(Kupiec p {self.kupiec_pvalue:.2g} < {ALARM_PVALUE}), as of {self.as_of}"
        )


@dataclass(frozen=True)
class LiveRecord:
    """A model's most recent scored live forecasts one session ahead, and the naive
    forecast's errors on the same targets: the evidence the shadow gate asks for.

    Attributes:
        model: the shadow model whose forecasts these are (`lstm`).
        errors: (n,) realized close minus forecast, oldest first.
        naive_errors: (n,) realized close minus the last close, for the same forecasts.
    """

    model: str
    errors: np.ndarray
    naive_errors: np.ndarray

    @property
    def forecasts(self) -> int:
        return len(self.errors)

    @property
    def rmse_ratio(self) -> float:
        return rmse_ratio(self.errors, self.naive_errors)

    @property
    def dm_pvalue(self) -> float:
        """One-sided Diebold-Mariano p-value that the model beat naive (small: it did)."""
        return diebold_mariano_pvalue(self.errors, self.naive_errors, horizon=1)

    def summary(self) -> str:
        return (
            f"last {self.forecasts} live {self.model} forecasts: rmse_ratio "
            f"{self.rmse_ratio:.3f}, Diebold-Mariano p {self.dm_pvalue:.2g}"
        )


# Sizes of the windows of most recent scored forecasts a record is given over; None:
# since inception. 60 is about a quarter; 250 about a year.
WINDOWS = (20, 60, 250, None)
# Published forecasts one session ahead that the track-record plot shows.
PLOT_FORECASTS = 120
PUBLISHED = "published"


def window_name(window: int | None) -> str:
    return "all" if window is None else str(window)


@dataclass(frozen=True)
class TrackRow:
    """How one model's last `window` scored forecasts at one horizon did.

    Attributes:
        model: `published`, or a shadow candidate (`lstm`, `ar`, `drift`, `champion`).
        horizon: sessions ahead.
        window: `20`, `60`, `250` or `all`: the most recent scored forecasts it covers.
        forecasts: how many there were (fewer than the window early on).
        rmse_ratio: RMSE over the naive forecast's on the same targets (below 1 beats it).
        dm_pvalue: one-sided Diebold-Mariano p-value against naive (small: beat it).
        coverage_80, coverage_95: fraction of realized closes inside each interval.
        kupiec_p_80, kupiec_p_95: Kupiec's test of that coverage (small: miscalibrated).
        interval_score_80, interval_score_95: mean interval (Winkler) score, in prices.
        pinball_80, pinball_95: mean pinball loss of the interval's two bounds as
            quantiles, in prices.
        christoffersen_p_80, christoffersen_p_95: Christoffersen's test that misses do
            not cluster (small: they do; meaningful one session ahead).
        coverage_80_low_vol ... coverage_95_high_vol: coverage within each tercile of
            the realized volatility at the forecasts' as_of (of those whose score kept it).
    """

    model: str
    horizon: int
    window: str
    forecasts: int
    rmse_ratio: float
    dm_pvalue: float
    coverage_80: float
    kupiec_p_80: float
    coverage_95: float
    kupiec_p_95: float
    interval_score_80: float
    interval_score_95: float
    pinball_80: float
    pinball_95: float
    christoffersen_p_80: float
    christoffersen_p_95: float
    coverage_80_low_vol: float
    coverage_80_mid_vol: float
    coverage_80_high_vol: float
    coverage_95_low_vol: float
    coverage_95_mid_vol: float
    coverage_95_high_vol: float


def _row(model: str, horizon: int, window: int | None, scores: pd.DataFrame) -> TrackRow:
    recent = scores if window is None else scores.tail(window)
    errors, naive = recent["error"].to_numpy(), recent["naive_error"].to_numpy()
    return TrackRow(
        model=model,
        horizon=horizon,
        window=window_name(window),
        forecasts=len(recent),
        rmse_ratio=rmse_ratio(errors, naive),
        dm_pvalue=diebold_mariano_pvalue(errors, naive, horizon)
        if len(recent) > 1
        else float("nan"),
        coverage_80=float(recent["inside_80"].mean()),
        kupiec_p_80=kupiec_pvalue(recent["inside_80"].to_numpy(bool), 0.8),
        coverage_95=float(recent["inside_95"].mean()),
        kupiec_p_95=kupiec_pvalue(recent["inside_95"].to_numpy(bool), 0.95),
        interval_score_80=float(recent["interval_score_80"].mean()),
        interval_score_95=float(recent["interval_score_95"].mean()),
        pinball_80=float((recent["pinball_lower_80"] + recent["pinball_upper_80"]).mean() / 2),
        pinball_95=float((recent["pinball_lower_95"] + recent["pinball_upper_95"]).mean() / 2),
        christoffersen_p_80=christoffersen_pvalue(recent["inside_80"].to_numpy(bool)),
        christoffersen_p_95=christoffersen_pvalue(recent["inside_95"].to_numpy(bool)),
        **_coverage_by_tercile(recent),
    )


def _coverage_by_tercile(scores: pd.DataFrame) -> dict[str, float]:
    """`coverage_<level>_<tercile>` over the scores that kept their origin's volatility."""
    kept = scores[scores["origin_volatility"].notna()]
    volatility = kept["origin_volatility"].to_numpy("float64")
    return {
        f"coverage_{percent}_{name}": coverage
        for percent in (80, 95)
        for name, coverage in coverage_by_tercile(
            kept[f"inside_{percent}"].to_numpy(bool), volatility
        ).items()
    }


@dataclass(frozen=True)
class TrackRecord:
    """A ticker's live track record as of a session.

    Attributes:
        ticker: the symbol.
        as_of: only forecasts whose target session is at or before it count.
        rows: per model, horizon and window (`TrackRow`); empty before any score.
        live: the LSTM's shadow record one session ahead (the shadow gate's evidence):
            its last `required` scored forecasts.
        recent: the last `PLOT_FORECASTS` published forecasts one session ahead with
            their realized closes (the plot's data).
        alarm: set when the published 80 % interval's recent coverage is implausible.
        missing: forecasts left unscored for a missing session (`Scoring.missing`).
    """

    ticker: str
    as_of: date
    rows: tuple[TrackRow, ...]
    live: LiveRecord
    recent: pd.DataFrame
    alarm: CalibrationAlarm | None
    missing: int = 0

    def table(self, model: str = PUBLISHED) -> pd.DataFrame:
        """One model's rows as a table, by horizon then window."""
        rows = [asdict(row) for row in self.rows if row.model == model]
        return pd.DataFrame(rows, columns=[f.name for f in fields(TrackRow)])

    def row(self, model: str, horizon: int, window: int | None) -> TrackRow | None:
        name = window_name(window)
        matching = (
            r for r in self.rows if (r.model, r.horizon, r.window) == (model, horizon, name)
        )
        return next(matching, None)

    def summary(self) -> str:
        """One line: the published record one session ahead over the last 60 forecasts."""
        row = self.row(PUBLISHED, 1, ALARM_WINDOW)
        if row is None:
            return f"{self.ticker}: no published forecast scored yet as of {self.as_of}"
        return (
            f"{self.ticker}: live h=1, last {row.forecasts}: rmse_ratio {row.rmse_ratio:.3f}, "
            f"coverage 80/95 {row.coverage_80:.2f}/{row.coverage_95:.2f} "
            f"(Kupiec p {row.kupiec_p_80:.2g}/{row.kupiec_p_95:.2g}), "
            f"interval score 80 {row.interval_score_80:.2f}"
        )

    def as_dict(self) -> dict:
        """The record as `reports/track/<TICKER>/latest.json` holds it."""
        return {
            "ticker": self.ticker,
            "as_of": self.as_of.isoformat(),
            "alarm": None if self.alarm is None else self.alarm.message(),
            "missing": self.missing,
            "live": {
                "model": self.live.model,
                "forecasts": self.live.forecasts,
                "rmse_ratio": _finite(self.live.rmse_ratio),
                "dm_pvalue": _finite(self.live.dm_pvalue),
            },
            "rows": [
                {k: _finite(v) if isinstance(v, float) else v for k, v in asdict(r).items()}
                for r in self.rows
            ],
        }

    def markdown(self) -> str:
        """The record as the `track-record-<ticker>` artifact shows it."""
        lines = [f"# {self.ticker}: live track record as of {self.as_of}", ""]
        if self.alarm is not None:
            lines += [f"**Alarm**: {self.alarm.message()}", ""]
        if not self.rows:
            return "\n".join([*lines, "No published forecast has been scored yet."]) + "\n"
        lines += [
            "Published forecasts, scored once their session closed (rmse_ratio below 1 "
            "beats naive; Kupiec p small: coverage off):",
            "",
            *markdown_table(self.table()),
            "",
            f"Shadow candidates, one session ahead, last {ALARM_WINDOW} forecasts:",
            "",
            *markdown_table(
                pd.DataFrame(
                    [
                        asdict(r)
                        for r in self.rows
                        if r.model != PUBLISHED and r.horizon == 1 and r.window == str(ALARM_WINDOW)
                    ],
                    columns=[f.name for f in fields(TrackRow)],
                )
            ),
        ]
        if self.missing:
            lines += ["", f"{self.missing} forecasts unscored: their session is not stored."]
        return "\n".join(lines) + "\n"


def distinct_windows(rows: list[TrackRow]) -> list[TrackRow]:
    """Each model's and horizon's rows, one per window that differs: while a record is
    shorter than a window, that window holds what the next larger one holds, and only
    the larger is kept (six scored forecasts are one row, `all`, not four).

    Args:
        rows: `TrackRow`s, each model's and horizon's windows smallest first.

    Returns:
        The rows kept, in the same order.
    """
    kept = []
    for index, row in enumerate(rows):
        following = rows[index + 1] if index + 1 < len(rows) else None
        same_group = following is not None and (following.model, following.horizon) == (
            row.model,
            row.horizon,
        )
        if not (same_group and following.forecasts == row.forecasts):
            kept.append(row)
    return kept


def undefined_because(row: TrackRow, metric: str) -> str:
    """Why a statistic of a row is not a number (the console shows `–` and says why).

    Args:
        row: the row.
        metric: the `TrackRow` field that is NaN.

    Returns:
        One short clause.
    """
    if row.forecasts < 2:
        return "it needs at least 2 scored forecasts"
    if metric == "dm_pvalue" and row.rmse_ratio == 1.0:
        return "these forecasts were naive's own: there is nothing to test against naive"
    if metric.startswith("coverage_") and metric.endswith("_vol"):
        return "no scored forecast fell in that volatility tercile"
    return "these forecasts do not define it (their losses never differ)"


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def markdown_table(table: pd.DataFrame) -> list[str]:
    """A `TrackRow` table as markdown lines."""
    header = ("model", "h", "last", "n", "rmse_ratio", "DM p", "cov 80", "Kupiec p", "cov 95")
    header += ("Kupiec p", "Christoffersen p", "IS 80", "IS 95")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in table.itertuples():
        lines.append(
            f"| {r.model} | {r.horizon} | {r.window} | {r.forecasts} | {r.rmse_ratio:.3f} | "
            f"{r.dm_pvalue:.2g} | {r.coverage_80:.2f} | {r.kupiec_p_80:.2g} | "
            f"{r.coverage_95:.2f} | {r.kupiec_p_95:.2g} | {r.christoffersen_p_95:.2g} | "
            f"{r.interval_score_80:.2f} | {r.interval_score_95:.2f} |"
        )
    return lines


def track_record(
    ticker: str,
    scores: pd.DataFrame,
    as_of: date,
    live_forecasts: int,
    windows: tuple[int | None, ...] = WINDOWS,
    missing: int = 0,
) -> TrackRecord:
    """A ticker's track record from its scores.

    Args:
        ticker: the symbol.
        scores: its scored forecasts (`SCORE_SCHEMA`).
        as_of: count only forecasts whose target session is at or before it.
        live_forecasts: how many of the LSTM's scored shadow forecasts its live record holds.
        windows: window sizes (None: since inception).
        missing: forecasts left unscored for a missing session.

    Returns:
        The record, with its calibration alarm when one is due.
    """
    closed = scores[scores["target_date"] <= as_of].sort_values("as_of", kind="stable")
    named = closed.assign(name=np.where(closed["shadow"], closed["model"], PUBLISHED))
    rows = tuple(
        _row(model, int(horizon), window, group)
        for (model, horizon), group in named.groupby(["name", "horizon"], sort=True)
        for window in windows
    )
    lstm = named[(named["name"] == "lstm") & (named["horizon"] == 1)].tail(live_forecasts)
    live = LiveRecord("lstm", lstm["error"].to_numpy(), lstm["naive_error"].to_numpy())
    recent = named[(named["name"] == PUBLISHED) & (named["horizon"] == 1)].tail(PLOT_FORECASTS)
    record = TrackRecord(ticker, as_of, rows, live, recent.reset_index(drop=True), None, missing)
    return replace(record, alarm=calibration_alarm(record))


def calibration_alarm(record: TrackRecord) -> CalibrationAlarm | None:
    """The alarm due when the published 80 % interval held implausibly few (or many)
    of the last 60 closes one session ahead; None while fewer than 60 are scored."""
    row = record.row(PUBLISHED, 1, ALARM_WINDOW)
    if row is None or row.forecasts < ALARM_WINDOW or not row.kupiec_p_80 < ALARM_PVALUE:
        return None
    return CalibrationAlarm(
        record.ticker, record.as_of, ALARM_LEVEL, row.forecasts, row.coverage_80, row.kupiec_p_80
    )


def alarm_is_new(record: TrackRecord, previous: dict | None) -> bool:
    """Whether the record's alarm is raised today and should notify: the ticker's
    previous record (`TrackRecord.as_dict`) had none, and this one is not a replay
    behind it. An alarm notifies once, not every day it lasts.

    Args:
        record: today's record.
        previous: the record that was latest before it, if any.

    Returns:
        True when an alarm is to be sent.
    """
    if record.alarm is None:
        return False
    return previous is None or (
        previous["alarm"] is None and previous["as_of"] <= record.as_of.isoformat()
    )


def stored_track_record(
    store: Store, ticker: str, windows: tuple[int | None, ...] = WINDOWS
) -> TrackRecord:
    """A ticker's track record from its stored scores, as of its last scored session
    (what `tickercast track` prints).

    Args:
        store: the home.
        ticker: the symbol.
        windows: window sizes (None: since inception).

    Returns:
        The record; its rows are empty when nothing is scored.

    Raises:
        StoredFileError: the scores file cannot be read.
    """
    scores = store.read_scores(ticker)
    as_of = max(scores["target_date"], default=date.min)
    return track_record(ticker, scores, as_of, 0, windows)
