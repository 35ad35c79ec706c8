"""The settings every HTTP service has: its environment, logging, worker processes, where its
rate limits are counted, which peers may name the client, and the request-size caps.

Each service extends `HttpServiceSettings` with its own `env_prefix` (`AUTH_`, `CHAT_`) and
its own defaults for `rate_limit_prefix` and `rate_limit_timeout`.
"""

from datetime import timedelta
from typing import ClassVar, Self

from pydantic import Field, model_validator

from service_settings import (
    DEFAULT_LIMITS_STORAGE,
    LOOPBACK_PROXIES,
    AppEnv,
    Duration,
    ServiceSettings,
    TrustedProxies,
    check_limits_are_shared,
)


class HttpServiceSettings(ServiceSettings):
    """What both HTTP services configure the same way, under their own prefix."""

    stack_variables: ClassVar[dict[str, str]] = {
        "app_env": "APP_ENV",
        "rate_limit_storage": "REDIS_URL",
    }

    app_env: AppEnv = AppEnv.DEVELOPMENT
    log_json: bool = False
    log_level: str = "INFO"

    # Worker processes of `<service> serve`, each with its own connections. One by default:
    # a container sees the node's cores, not its CPU limit (see docs/performance.md).
    workers: int = Field(1, ge=1, le=64)
    # Peers whose X-Forwarded-For names the client (request.client, the per-address limits).
    trusted_proxies: TrustedProxies = LOOPBACK_PROXIES

    # A `limits` storage URI: Redis shares the counters between every worker and replica;
    # "memory://" keeps them in this process, right only for a single process.
    rate_limit_storage: str = DEFAULT_LIMITS_STORAGE
    # Prefix of the service's keys in that store (several deployments may share one Redis).
    rate_limit_prefix: str
    # Connect and reply timeout of that store; what happens past it is the service's choice.
    rate_limit_timeout: Duration = Field(timedelta(milliseconds=250), gt=timedelta(0))

    # Longer request bodies get 413 before they are read into memory and parsed. 1 MiB, as
    # nginx allows by default: far above the largest valid request of either service, while
    # an overlong field still gets its 422.
    max_body_bytes: int = Field(1_048_576, ge=1_024)
    # Requests whose header lines total more get 431. 16 KiB, as nginx's default buffers
    # allow: an access token is under 1 KB, while a megabyte of header is refused before
    # token checks, logs and metrics see it.
    max_header_bytes: int = Field(16_384, ge=1_024)

    @model_validator(mode="after")
    def _workers_share_limits(self) -> Self:
        prefix = self.model_config.get("env_prefix", "")
        check_limits_are_shared(self.workers, self.rate_limit_storage, prefix, "RATE_LIMIT_STORAGE")
        return self
