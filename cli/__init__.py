"""The `tickercast` command line."""
