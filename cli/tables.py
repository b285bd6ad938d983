"""Rows as the console shows them: the backtest report's table, the track record's, and a
published forecast."""

# `TrackRow` fields as `tickercast track` shows them: (header, format)
TRACK_COLUMNS = {
    "model": ("model", "{}"),
    "horizon": ("h", "{}"),
    "window": ("last", "{}"),
    "forecasts": ("n", "{}"),
    "rmse_ratio": ("rmse_ratio", "{:.3f}"),
    "dm_pvalue": ("DM p", "{:.2g}"),
    "coverage_80": ("cov80", "{:.2f}"),
    "kupiec_p_80": ("Kupiec p", "{:.2g}"),
    "coverage_95": ("cov95", "{:.2f}"),
    "kupiec_p_95": ("Kupiec p", "{:.2g}"),
    "interval_score_80": ("IS80", "{:.2f}"),
    "interval_score_95": ("IS95", "{:.2f}"),
}
_SHOWN = ("model", "window", "forecasts")
SHADOW_POINT_COLUMNS = {k: TRACK_COLUMNS[k] for k in (*_SHOWN, "rmse_ratio", "dm_pvalue")}
SHADOW_INTERVAL_COLUMNS = {
    k: TRACK_COLUMNS[k]
    for k in (*_SHOWN, "coverage_80", "kupiec_p_80", "coverage_95", "kupiec_p_95")
    + ("interval_score_80", "interval_score_95")
}


def report_table(rows: list[dict], columns: tuple[str, ...]) -> str:
    """Backtest report rows as a text table: model, horizon and as many of `columns`, by
    their full names, as the terminal's width holds; it says which others the report has."""
    import shutil

    width = shutil.get_terminal_size((100, 24)).columns
    cells = {column: max(len(column), 7) for column in columns}
    used = 19 + 1 + 2
    shown: list[str] = []
    for column in columns:
        used += 1 + cells[column]
        if used > width and shown:
            break
        shown.append(column)
    lines = [f"{'model':19} {'h':>2} " + " ".join(f"{c:>{cells[c]}}" for c in shown)]
    for row in rows:
        values = " ".join(
            f"{row[c]:{cells[c]}.3f}" if row[c] is not None else f"{'–':>{cells[c]}}" for c in shown
        )
        lines.append(f"{row['model']:19} {row['horizon']:>2} {values}")
    if hidden := columns[len(shown) :]:
        lines.append(f"(not shown, for the width: {', '.join(hidden)}; the report has them)")
    return "\n".join(lines)


def track_table(rows: list, columns: dict[str, tuple[str, str]], notes: dict[str, str]) -> str:
    """`TrackRow`s as aligned text columns under a header; a statistic that is not a
    number is shown as `–`, and why is added to `notes` (once per column)."""
    from tickercast.evaluation.track_record import undefined_because

    def cell(row, name: str, spec: str) -> str:
        value = getattr(row, name)
        if isinstance(value, float) and value != value:  # NaN
            notes.setdefault(columns[name][0], undefined_because(row, name))
            return "–"
        return spec.format(value)

    cells = [[header for header, _ in columns.values()]]
    cells += [[cell(row, name, spec) for name, (_, spec) in columns.items()] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = (
        "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells
    )
    return "\n".join(line.rstrip() for line in lines)


def forecast_text(rows: list[dict]) -> str:
    """A published forecast (its `latest.json` rows) as the console shows it: what was
    published, each horizon with both intervals, and why that model and those intervals."""
    first = rows[0]
    version = f" v{first['model_version']}" if first["model_version"] else ""
    # forecasts published before the intervals were chosen apart name none: the model's own
    intervals = first.get("interval_model") or first["model"]
    lines = [
        f"{first['ticker']} as of {first['as_of']} (close {first['last_close']:.2f}): "
        f"{first['model']}{version}, intervals of {intervals}",
        f"  {'h':>2}  {'session':10}  {'forecast':>9}  {'80 % interval':^19}  "
        f"{'95 % interval':^19}".rstrip(),
    ]
    for row in rows:
        lines.append(
            f"  {row['horizon']:>2}  {row['target_date']:10}  {row['forecast']:9.2f}  "
            f"{row['lower_80']:8.2f} – {row['upper_80']:<8.2f}  "
            f"{row['lower_95']:8.2f} – {row['upper_95']:<8.2f}".rstrip()
        )
    lines.append(f"  why:       {first['reason']}")
    if first.get("interval_reason"):
        lines.append(f"  intervals: {first['interval_reason']}")
    lines.append(f"  MLflow run {first['mlflow_run_id']}")
    return "\n".join(lines)


def number(value: float | None, spec: str) -> str:
    """`value` in `spec`, or `n/a` when there is none."""
    return "n/a" if value is None else format(value, spec)
