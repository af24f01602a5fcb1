"""Errors the core and its adapters share."""

from __future__ import annotations


class StartupError(Exception):
    """A problem the operator must fix before the bridge can start (already phrased as one line)."""
