"""Prices in, windows out: the market calendar, tickers, sources and ingest, the
validated Parquet store and the home's layout, the daily bar's range measure, a
ticker's `History` (its returns and features, computed once per evening and read by
every model), and the training windows built from stored prices.

The lowest room: it imports nothing of tickercast but `tickercast.errors`.
"""
