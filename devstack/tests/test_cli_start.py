"""The command line starts without the database and broker clients: they are imported by
the health checks that use them, so `devstack` answers in about half a second instead of
three (the test suite runs it dozens of times)."""

import subprocess
import sys

CLIENTS = ("aiokafka", "cassandra", "httpx", "psycopg2", "redis", "sqlalchemy")


def test_importing_the_command_line_loads_no_client_library() -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, devstack.cli; print(' '.join({m.split('.')[0] for m in sys.modules}))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    assert [client for client in CLIENTS if client in loaded] == []
