"""`tickercast run`'s progress on a terminal: one bar per ticker, advanced by its stages."""


class StageProgress:
    """One rich progress bar per ticker, advanced as its stage runs end (a listener
    of `tickercast.tasks.retries.stage_progress`)."""

    def __init__(self, progress, tickers: list[str], stages: tuple[str, ...]) -> None:
        self.progress = progress
        self.stages = stages
        self.bars = {
            ticker: progress.add_task(f"{ticker:8} waiting", total=len(stages))
            for ticker in tickers
        }

    def __call__(self, stage: str, ticker: str | None, state) -> None:
        bar = self.bars.get(ticker)
        if bar is None or stage not in self.stages:
            return
        if state.is_completed():
            self.progress.update(bar, advance=1, description=f"{ticker:8} {stage} done")
        elif state.is_failed():
            self.progress.update(bar, description=f"{ticker:8} [red]failed in {stage}")
