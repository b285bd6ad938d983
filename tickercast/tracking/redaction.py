"""Tracking URIs and messages without the credentials they may carry, fit to print, log
or keep in reports and artifacts."""

import re
from urllib.parse import urlsplit, urlunsplit


def without_credentials(text: str) -> str:
    """A message with the user and password of every URL in it hidden: MLflow's errors
    quote the tracking URI as given, and outcomes end in reports and artifacts."""
    return re.sub(r"\b([a-z][a-z0-9+.-]*://)[^/\s@]+@", r"\1***@", text)


def redacted(uri: str) -> str:
    """A URI without its user and password, fit to print or log."""
    parts = urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=f"***@{host}"))
