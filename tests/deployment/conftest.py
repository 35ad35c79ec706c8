"""Fixtures for the deployment checks: parsed compose file, rendered kustomizations."""

import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# The helpers sit next to the tests; pytest's importlib mode does not put this folder on the
# path. The module name is unique in the workspace, so nothing clashes.
sys.path.insert(0, str(Path(__file__).parent))

from deployment_manifests import (
    clean_environment,
    dev_secret_keys,
    load_compose,
    rendered_docs,
)


@pytest.fixture(scope="session")
def compose_env() -> dict[str, str]:
    """What a developer puts into deploy/.env: fresh random secrets, nothing else."""
    return {"JWT_SECRET": secrets.token_hex(32), "POSTGRES_PASSWORD": secrets.token_hex(24)}


@pytest.fixture(scope="session")
def compose(compose_env: dict[str, str]) -> dict[str, Any]:
    return load_compose(compose_env)


@pytest.fixture(scope="session")
def cluster_secrets() -> dict[str, str]:
    """Values shaped like the ones k8s/dev-secret.sh generates."""
    password = secrets.token_hex(24)
    values = {
        "JWT_SECRET": secrets.token_hex(32),
        "POSTGRES_PASSWORD": password,
        "DATABASE_URL": f"postgresql+psycopg2://postgres:{password}@postgres:5432/auth",
    }
    assert set(values) == dev_secret_keys(), "dev-secret.sh creates other keys than assumed"
    return values


@pytest.fixture(scope="session")
def dev_docs() -> list[dict[str, Any]]:
    return rendered_docs("k8s/overlays/dev")


@pytest.fixture(scope="session")
def base_docs() -> list[dict[str, Any]]:
    return rendered_docs("k8s/base")


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, str]], None]:
    """Replaces the settings-related environment with exactly the given variables."""

    def apply(env: dict[str, str]) -> None:
        keep = clean_environment()
        for key in list(os.environ):
            if key not in keep:
                monkeypatch.delenv(key)
        for key, value in env.items():
            monkeypatch.setenv(key, value)

    return apply
