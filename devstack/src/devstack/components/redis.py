"""Redis 7 from Debian's `redis-server` package, in the foreground under our pid.

It holds the HTTP services' rate-limit counters, pending read marks and the chat service's
`client_message_id` claims. The claims are kept in an append-only file, so that a crash of the
server loses none; losing them all (a new server) costs the chat service a Cassandra read per
keyed send for one claim window, never a message (chat-microservice's send_gate.py).
"""

from devstack.components.base import Component, StackError
from devstack.programs import on_path

# The same settings in docker-compose.yml and k8s/. Full, the server refuses writes rather than
# evict a claim: the chat service then counts and claims in memory (checked against
# Cassandra) until there is room. Every key expires: a counter with its window, a claim
# after CHAT_CLAIM_WINDOW (about 150 bytes each).
MEMORY_LIMIT = ["--maxmemory", "256mb", "--maxmemory-policy", "noeviction"]
# Written to the kernel before a client gets its answer: a crashed server loses nothing; a
# crash of the machine loses at most the last second.
APPEND_ONLY = ["--appendonly", "yes", "--appendfsync", "everysec"]


class Redis(Component):
    name = "redis"
    # With no save points Redis only flushes its append-only file on SIGTERM.
    grace_seconds = 10.0
    ready_timeout = 30.0

    def server(self) -> str:
        return on_path(
            "redis-server",
            "install Debian's redis-server package (scripts/install-system-packages.sh does), "
            "or set REDIS_URL to a server of your own.",
        )

    def prepare(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.server()

    def argv(self) -> list[str]:
        return [
            self.server(), "--bind", self.host, "--port", str(self.port), "--daemonize", "no",
            # Should DEVSTACK_HOST ever be a shared address: with no password set, clients
            # from other machines are refused.
            "--protected-mode", "yes",
            # No RDB snapshots; the append-only file: see the module docstring.
            "--dir", str(self.state_dir), "--save", "", *APPEND_ONLY,
            *MEMORY_LIMIT,
        ]  # fmt: skip

    def check(self) -> None:
        if redis_command(self.context.endpoints.redis_url, "PING") is not True:
            raise StackError("redis: PING was not answered with PONG")


def redis_command(url: str, *command: str, timeout: float = 3.0) -> object:
    """Sends one command to the server `url` names (password, database and TLS as the URL
    says) and returns its reply."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        return client.execute_command(*command)  # type: ignore[no-untyped-call]
    except redis.RedisError as error:
        raise StackError(f"redis: {error}") from error
    finally:
        client.close()
