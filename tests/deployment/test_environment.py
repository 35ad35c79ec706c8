"""The environment each container gets is read, and accepted, by its service's settings."""

from typing import Any

import pytest
from deployment_manifests import (
    Container,
    by_command,
    compose_app_containers,
    dev_app_containers,
    k8s_app_containers,
    readable_env,
    settings_from,
)

from aggregated_consumer.settings import ConsumerSettings
from aggregator.settings import AggregatorSettings
from auth_service.rate_limits import RateLimits
from auth_service.settings import AuthSettings
from chat_service.metrics import Metrics
from chat_service.rate_limits import SendLimits
from chat_service.settings import ChatSettings


def test_every_variable_set_for_a_service_is_one_its_settings_read(
    compose: dict[str, Any], dev_docs: list[dict[str, Any]], cluster_secrets: dict[str, str]
) -> None:
    # A misspelt or stale variable is silently ignored by pydantic-settings, and the service
    # quietly falls back to its localhost default: catch it here instead.
    for container in dev_app_containers(compose, dev_docs, cluster_secrets):
        unread = set(container.env) - readable_env(container.commands)
        assert not unread, f"{container.where}: no settings class reads {sorted(unread)}"


def test_a_misspelt_variable_is_reported(compose: dict[str, Any]) -> None:
    (aggregator,) = [c for c in compose_app_containers(compose) if c.where.endswith(" aggregator")]
    assert "AGGREGATOR_HTTP_HOST" in readable_env(aggregator.commands)
    assert "AGGREGATOR_HTTPHOST" not in readable_env(aggregator.commands)


def containers_of(
    source: str, compose: dict[str, Any], dev_docs: list[dict[str, Any]], secrets: dict[str, str]
) -> dict[tuple[str, str], Container]:
    """The containers of `source` ("compose" or "kubernetes", the dev overlay) by command."""
    if source == "compose":
        return by_command(compose_app_containers(compose))
    return by_command(k8s_app_containers(dev_docs, secrets))


@pytest.mark.parametrize("source", ["compose", "kubernetes"])
def test_services_accept_their_environment_and_point_at_the_stack(
    source: str,
    settings_env: Any,
    compose: dict[str, Any],
    dev_docs: list[dict[str, Any]],
    cluster_secrets: dict[str, str],
) -> None:
    containers = containers_of(source, compose, dev_docs, cluster_secrets)
    kafka = "kafka:19092" if source == "compose" else "kafka:9092"

    auth = settings_from(settings_env, containers["auth-service", "serve"], AuthSettings)
    assert auth.app_env == "development"
    assert "@postgres:5432/auth" in auth.sqlalchemy_url
    assert auth.firebase_auth_emulator_host == "firebase-auth:9099"
    # The secret came from the environment, not the development default.
    assert (
        auth.jwt.secret.get_secret_value() == containers["auth-service", "serve"].env["JWT_SECRET"]
    )

    assert auth.rate_limit_storage == "redis://redis:6379/0"
    # Compose has no proxy in front of the services; in a cluster the ingress comes from the
    # pod network.
    proxies = "" if source == "compose" else "10.0.0.0/8"
    assert auth.trusted_proxies == proxies

    chat = settings_from(settings_env, containers["chat-service", "serve"], ChatSettings)
    assert chat.cassandra_contact == (["cassandra"], 9042)
    assert chat.kafka_bootstrap_servers == kafka
    assert chat.auth_service_url == "http://auth:8000"
    assert chat.rate_limit_storage == "redis://redis:6379/0"
    assert chat.trusted_proxies == proxies

    aggregator = settings_from(settings_env, containers["aggregator", "run"], AggregatorSettings)
    assert aggregator.kafka_bootstrap_servers == kafka
    assert aggregator.http_host == "0.0.0.0"
    assert aggregator.transactional_id == "aggregator-0"

    consumer = settings_from(
        settings_env, containers["aggregated-consumer", "run"], ConsumerSettings
    )
    assert consumer.kafka_bootstrap_servers == kafka
    assert consumer.firestore_emulator_host == "firestore:8080"
    assert consumer.firebase_project == "demo-chat"
    assert consumer.http_host == "0.0.0.0"


@pytest.mark.parametrize("source", ["compose", "kubernetes"])
async def test_the_http_services_can_open_the_rate_limit_storage_they_are_given(
    source: str,
    settings_env: Any,
    compose: dict[str, Any],
    dev_docs: list[dict[str, Any]],
    cluster_secrets: dict[str, str],
) -> None:
    # `limits` needs a client library for a redis:// storage (redis for the auth service's
    # synchronous limiter, coredis for the chat service's asynchronous one) and refuses the
    # URI without it, so the service would not start. Built as the lifespans build them, in
    # a running event loop; nothing connects yet.
    containers = containers_of(source, compose, dev_docs, cluster_secrets)
    RateLimits(settings_from(settings_env, containers["auth-service", "serve"], AuthSettings))
    SendLimits(
        settings_from(settings_env, containers["chat-service", "serve"], ChatSettings),
        Metrics(),
    )


def test_migrations_accept_their_environment(
    settings_env: Any,
    compose: dict[str, Any],
    dev_docs: list[dict[str, Any]],
    cluster_secrets: dict[str, str],
) -> None:
    for container in dev_app_containers(compose, dev_docs, cluster_secrets):
        for command in container.commands:
            if command[1:] != ["migrate"]:
                continue
            settings_env(container.env)
            if command[0] == "auth-service":
                assert "@postgres:5432/auth" in AuthSettings().sqlalchemy_url, container.where
            else:
                assert ChatSettings().cassandra_contact == (["cassandra"], 9042), container.where


def test_the_base_alone_runs_in_production_mode_and_refuses_emulators(
    settings_env: Any, base_docs: list[dict[str, Any]], cluster_secrets: dict[str, str]
) -> None:
    # Without an overlay nothing points at an emulator, and the auth service refuses to start
    # without real Firebase credentials: a forgotten overlay fails loudly, not insecurely.
    auth = next(
        c
        for c in k8s_app_containers(base_docs, cluster_secrets)
        if c.commands[0][:2] == ["auth-service", "serve"]
    )
    assert auth.env["APP_ENV"] == "production"
    settings_env(auth.env)
    with pytest.raises(ValueError, match="AUTH_FIREBASE_CREDENTIALS_FILE"):
        AuthSettings()
