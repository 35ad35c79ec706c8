"""Setting types every service shares: the deployment environment and durations."""

from datetime import timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BeforeValidator


class AppEnv(StrEnum):
    """Where a service runs. Development defaults (secrets, emulators) work only in development."""

    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


def _seconds_if_number(value: object) -> object:
    """Lets `3` or `0.5` in the environment mean seconds; ISO 8601 (`PT3S`) still works."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


Duration = Annotated[timedelta, BeforeValidator(_seconds_if_number)]
"""A `timedelta` that also accepts a plain number of seconds from the environment."""


def contact_points(hosts: str, default_port: int = 9042) -> tuple[list[str], int]:
    """Hosts and the one port of a `host[:port][,host[:port]...]` list (Cassandra's driver
    takes a single port for every contact point; the last one given wins)."""
    names, port = [], default_port
    for item in hosts.split(","):
        host, _, port_text = item.strip().partition(":")
        names.append(host)
        port = int(port_text) if port_text else port
    return names, port


__all__ = ["AppEnv", "Duration", "contact_points"]
