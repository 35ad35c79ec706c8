"""Where a service's settings come from: its own prefixed variables first, then the former
name of a renamed variable (with a warning), then the few variables the whole stack shares.

Every service's settings class extends `ServiceSettings` with its own `env_prefix`. A value the
whole deployment shares (`APP_ENV`, `KAFKA_BOOTSTRAP_SERVERS`, `REDIS_URL`) is also read without
the prefix (`stack_variables`), so one variable can serve every process while a prefixed one
still wins for one service. (pydantic-settings does not put `env_prefix` in front of a
`validation_alias`, so an `AliasChoices` of both names would have to spell the prefix out in
every service.)
"""

import os
import warnings
from typing import Any, ClassVar

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
from pydantic_settings.sources import PydanticBaseEnvSettingsSource


class VariablesSource(PydanticBaseEnvSettingsSource):
    """Reads each field from the variable `variables` names for it, if any."""

    def __init__(self, settings_cls: type[BaseSettings], variables: dict[str, str]) -> None:
        super().__init__(settings_cls)
        self._variables = variables

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        variable = self._variables.get(field_name)
        value = None if variable is None else os.environ.get(variable)
        return value, field_name, False


class FormerNamesSource(VariablesSource):
    """Reads a renamed variable under its former name, warning that the name will go."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        value, key, complex_value = super().get_field_value(field, field_name)
        current = f"{self.settings_cls.model_config.get('env_prefix', '')}{field_name}".upper()
        if value is not None and current not in os.environ:
            warnings.warn(
                f"{self._variables[field_name]} is a former name and will stop working in the "
                f"next release: set {current} instead",
                FutureWarning,
                stacklevel=2,
            )
        return value, key, complex_value


class ServiceSettings(BaseSettings):
    """The sources every service reads its settings from, in order of precedence: arguments,
    `<PREFIX>FIELD`, a former name of the variable, the stack's shared variable, `.env`."""

    stack_variables: ClassVar[dict[str, str]] = {}
    """Field name -> unprefixed variable read when the prefixed one is unset. A subclass
    extends its base's (`{**Base.stack_variables, "database_url": "DATABASE_URL"}`)."""

    former_variables: ClassVar[dict[str, str]] = {}
    """Field name -> the variable's name before a rename; still read for one release, with
    a `FutureWarning` naming the new variable."""

    former_env_prefix: ClassVar[str | None] = None
    """The service's environment prefix before a rename: every field is still read under it
    for one release, with a warning (see `former_variables`)."""

    @classmethod
    def service_name(cls) -> str:
        """The service's one name, which its prefix is made from (docs/architecture.md,
        "Names"): `AGGREGATED_CONSUMER_` belongs to `aggregated-consumer`."""
        prefix = str(cls.model_config.get("env_prefix", ""))
        return prefix.rstrip("_").lower().replace("_", "-")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        former = FormerNamesSource(settings_cls, cls._former_names())
        stack = VariablesSource(settings_cls, cls.stack_variables)
        return init_settings, env_settings, former, stack, dotenv_settings, file_secret_settings

    @classmethod
    def _former_names(cls) -> dict[str, str]:
        names = {}
        if cls.former_env_prefix is not None:
            names = {field: f"{cls.former_env_prefix}{field.upper()}" for field in cls.model_fields}
        return {**names, **cls.former_variables}
