"""Readiness: each dependency answers one question, `check()`, the same way for every service."""

from collections.abc import Mapping
from typing import Protocol

OK = "ok"


class ReadinessProbe(Protocol):
    async def check(self) -> None:
        """Returns when the dependency can serve; raises when it cannot, saying why."""


async def check_readiness(probes: Mapping[str, ReadinessProbe]) -> dict[str, str]:
    """Each dependency's state by name: `ok`, or `unavailable: <why>`."""
    states: dict[str, str] = {}
    for name, probe in probes.items():
        try:
            await probe.check()
        except Exception as error:  # a readiness answer must not become a 500
            states[name] = f"unavailable: {error}"
        else:
            states[name] = OK
    return states


def failing(states: Mapping[str, str]) -> list[str]:
    """The names of the dependencies that are not ready."""
    return [name for name, state in states.items() if state != OK]
