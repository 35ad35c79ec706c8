"""Logging set-up shared by every service."""

from observability.logging import configure_logging

__all__ = ["configure_logging"]
