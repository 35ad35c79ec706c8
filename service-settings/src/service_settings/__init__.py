"""What every service's settings share: where they are read from (`ServiceSettings`), the
deployment environment, durations, worker processes, where rate limits are counted and which
peers may name the client."""

import ipaddress
from datetime import timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

from service_settings.environment import ServiceSettings


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


def _not_negative(value: timedelta) -> timedelta:
    # No setting means a time span in the past; a sign slip (`-5`) must fail at start-up,
    # not turn a timeout into "already expired" or a window into one that never opens.
    if value < timedelta(0):
        raise ValueError("a duration must not be negative")
    return value


Duration = Annotated[timedelta, BeforeValidator(_seconds_if_number), AfterValidator(_not_negative)]
"""A `timedelta`, zero or positive, that also accepts a plain number of seconds."""


def contact_points(hosts: str, default_port: int = 9042) -> tuple[list[str], int]:
    """Hosts and the one port of a `host[:port][,host[:port]...]` list (Cassandra's driver
    takes a single port for every contact point; the last one given wins)."""
    names, port = [], default_port
    for item in hosts.split(","):
        host, _, port_text = item.strip().partition(":")
        names.append(host)
        port = int(port_text) if port_text else port
    return names, port


DEFAULT_LIMITS_STORAGE = "redis://127.0.0.1:6379/0"
"""Rate limits are counted in Redis by default, so that every process and replica of a service
shares one budget; `memory://` counts in one process only."""


def check_limits_are_shared(workers: int, storage: str, prefix: str, storage_name: str) -> None:
    """Refuses several worker processes over in-process counters: each would grant the whole
    budget again. `prefix` and `storage_name` name the variables in the message."""
    if workers > 1 and storage.startswith(("memory", "async+memory")):
        raise ValueError(
            f"{prefix}WORKERS={workers} needs rate limits shared between processes: set "
            f"{prefix}{storage_name} to a shared store (redis://host:6379/0), "
            f"or {prefix}WORKERS=1 to keep memory://"
        )


LOOPBACK_PROXIES = "127.0.0.1,::1"
"""Only a proxy on the same machine (or in the same container) may name the client."""


def _trusted_proxies(value: str) -> str:
    """Checks a comma-separated list of addresses and networks (or `*` alone) and returns it
    in the form uvicorn's `forwarded_allow_ips` takes. uvicorn itself would keep a malformed
    entry as a literal that no peer ever matches, so a typo would silently trust nobody."""
    items = [item.strip() for item in value.split(",") if item.strip()]
    if items == ["*"]:
        return "*"
    for item in items:
        try:
            # Strict: `10.0.0.1/8` has host bits set and is refused rather than guessed at.
            ipaddress.ip_network(item)
        except ValueError as error:
            raise ValueError(
                f"{item!r} is not an IP address or network (e.g. 10.0.0.0/8); "
                "'*' trusts every peer and stands alone"
            ) from error
    return ",".join(items)


TrustedProxies = Annotated[str, AfterValidator(_trusted_proxies)]
"""Peers whose `X-Forwarded-For` is believed: comma-separated IP addresses and CIDR networks;
empty trusts nobody; `*` trusts every peer (only behind a proxy that is the sole way in)."""


__all__ = [
    "DEFAULT_LIMITS_STORAGE",
    "LOOPBACK_PROXIES",
    "AppEnv",
    "Duration",
    "ServiceSettings",
    "TrustedProxies",
    "check_limits_are_shared",
    "contact_points",
]
