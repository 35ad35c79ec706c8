"""A cheap Cassandra round trip for the readiness check."""

from chat_service.database import Prepared, Session, execute, prepare
from chat_service.settings import ChatSettings


class StoreProbe:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._statement: Prepared | None = None

    async def prepare(self, settings: ChatSettings) -> None:
        # Reads our own keyspace, so a missing schema shows up as not ready too.
        self._statement = await prepare(
            self._session,
            "SELECT version FROM {ks}.schema_version LIMIT 1",
            settings.read_consistency,
            settings.keyspace,
        )

    async def check(self) -> None:
        assert self._statement is not None, "prepare() first"
        await execute(self._session, self._statement.bind(()))
