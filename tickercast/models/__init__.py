"""Every forecaster behind one interface: the networks (per ticker and global) with
their scalers and variance head, the baselines, the volatility models (GARCH, GJR,
GARCH-X, HAR) and conformal intervals; fitting the candidates of an evening, the
retraining policy, predicting from a fitted candidate, and the saved-candidate format.

Imports `tickercast.data` and nothing above it.
"""
