"""Cheap reachability checks of every component (a TCP connect), for test fixtures and status."""

import socket
from urllib.parse import urlsplit

from devstack.settings import Endpoints


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _host_port(address: str, default_port: int) -> tuple[str, int]:
    host, _, port = address.split(",")[0].strip().rpartition(":")
    return (host, int(port)) if host else (port, default_port)


def unreachable_components(endpoints: Endpoints) -> list[str]:
    """Names of the components whose port does not accept a connection."""
    from sqlalchemy.engine import make_url

    db = make_url(endpoints.database_url)
    redis = urlsplit(endpoints.redis_url)
    checks = {
        "postgres": (db.host or "127.0.0.1", db.port or 5432),
        "kafka": _host_port(endpoints.kafka_bootstrap_servers, 9092),
        "cassandra": _host_port(endpoints.cassandra_hosts, 9042),
        "firestore": _host_port(endpoints.firestore_emulator_host, 8080),
        "firebase-auth": _host_port(endpoints.firebase_auth_emulator_host, 9099),
        "redis": (redis.hostname or "127.0.0.1", redis.port or 6379),
    }
    return [name for name, (host, port) in checks.items() if not port_open(host, port)]
