"""Alembic environment: the URL comes from the Config built in `auth_service.migrate`."""

from alembic import context
from sqlalchemy import create_engine, pool, text

from auth_service.database import Base
from auth_service.migrate import MIGRATION_LOCK

# Imported to register their tables on Base.metadata.
from auth_service.sessions import models as session_models  # noqa: F401
from auth_service.users import models  # noqa: F401

config = context.config


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url must be set by the caller"
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            compare_type=True,
            compare_server_default=True,
        )
        with context.begin_transaction():
            # Replicas (or init containers) may run `migrate` at the same moment. Postgres
            # DDL is transactional, so holding this lock for the transaction makes the later
            # runner wait and then find the schema already at head.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline SQL generation is not supported; run against a database")
run_migrations_online()
