"""How good a forecaster is: metrics, scoring candidates on held-out origins, the point
and interval gates and the champion, walk-forward and policy backtests, the live track
record of published forecasts, and the plots of all of these.

Imports `tickercast.data` and `tickercast.models`, nothing above.
"""
