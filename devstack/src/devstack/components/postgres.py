"""Postgres 15: a private cluster made with `initdb`, run in the foreground under our pid."""

import os
import pwd
import shutil
import signal
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from devstack.components.base import Component, StackError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

_SERVER_ROOTS = [Path("/usr/lib/postgresql")]


class Postgres(Component):
    name = "postgres"
    # SIGINT is Postgres' "fast" shutdown; SIGTERM would wait for every client to leave.
    stop_signal = signal.SIGINT
    ready_timeout = 60.0

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    def bin_dir(self) -> Path:
        for root in _SERVER_ROOTS:
            versions = sorted(root.glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
            if versions:
                return versions[-1].parent
        raise StackError(
            "Postgres server binaries (initdb) not found under /usr/lib/postgresql: install "
            "Debian's postgresql package, or set DATABASE_URL to a server of your own."
        )

    def prepare(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.context.progress("postgres: creating a private cluster with initdb")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.data_dir.mkdir()
        (self.state_dir / "socket").mkdir(exist_ok=True)
        self._hand_to_server_user(self.state_dir)
        command = [
            str(self.bin_dir() / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
            "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8",
        ]  # fmt: skip
        result = subprocess.run(
            self._as_server_user(command), capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise StackError(f"postgres: initdb failed:\n{result.stdout}{result.stderr}")

    def argv(self) -> list[str]:
        return self._as_server_user(
            [
                str(self.bin_dir() / "postgres"), "-D", str(self.data_dir),
                "-p", str(self.port), "-c", f"listen_addresses={self.host}",
                "-k", str(self.state_dir / "socket"), "-c", "max_connections=200",
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            ]
        )  # fmt: skip

    def check(self) -> None:
        import psycopg2

        connection = psycopg2.connect(self._dsn("postgres"), connect_timeout=3)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        finally:
            connection.close()

    def after_ready(self) -> None:
        import psycopg2

        database = self._url().database or "auth"
        connection = psycopg2.connect(self._dsn("postgres"))
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{database}"')
        finally:
            connection.close()

    def _dsn(self, database: str) -> str:
        url = self._url().set(database=database, drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def _url(self) -> "URL":
        """The stack's database URL, parsed."""
        from sqlalchemy.engine import make_url

        return make_url(self.context.endpoints.database_url)

    # Postgres refuses to run as root; when we are root, run it as the package's `postgres` user.
    def _as_server_user(self, command: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return command
        return ["runuser", "-u", "postgres", "--", *command]

    def _hand_to_server_user(self, folder: Path) -> None:
        if os.geteuid() != 0:
            return
        user = pwd.getpwnam("postgres")
        for path in [folder, *folder.rglob("*")]:
            os.chown(path, user.pw_uid, user.pw_gid)
