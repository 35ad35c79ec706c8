"""The project's own services, started after the infrastructure by `devstack up`."""

from devstack.components.base import Component

SERVICES: list[type[Component]] = []
