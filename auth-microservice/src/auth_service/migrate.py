"""Applies the Alembic migrations; run by `auth-service migrate`, never at app start-up."""

from importlib.resources import files

from alembic import command
from alembic.config import Config

# Held (transaction-scoped) while migrations run; any fixed 64-bit number ("auth_mig").
MIGRATION_LOCK = 0x617574685F6D6967


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at the packaged migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(files("auth_service") / "migrations"))
    # ConfigParser interpolation would choke on '%' in URL-encoded passwords.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")
