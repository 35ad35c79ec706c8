"""Writes the auth and chat services' OpenAPI documents to `frontend/openapi/`, where the UI's
API types are generated from (`npm run api-types` in `frontend/`; `make api-types` does both).

    uv run --frozen python scripts/export_openapi.py

The documents come from the apps themselves, built with no I/O: the lifespan, which opens the
clients, never runs. The settings are fixed here rather than read from the environment only
because the apps refuse to build without secrets outside development; none of them shows in a
document.
"""

import json
from pathlib import Path
from typing import Any

from auth_service.main import create_app as create_auth_app
from auth_service.settings import AuthSettings
from auth_validator import JwtSettings
from chat_service.main import create_app as create_chat_app
from chat_service.settings import ChatSettings

REPO = Path(__file__).resolve().parents[1]
OPENAPI_DIR = REPO / "frontend" / "openapi"
COMMAND = "make api-types"


def documents() -> dict[str, dict[str, Any]]:
    """Each service's OpenAPI document, by the name of its file in `frontend/openapi/`."""
    jwt = JwtSettings(app_env="test", secret="openapi-export-" * 3)
    auth = AuthSettings(app_env="test", jwt=jwt, firebase_auth_emulator_host="127.0.0.1:9099")
    return {
        "auth": create_auth_app(auth).openapi(),
        "chat": create_chat_app(ChatSettings(app_env="test", jwt=jwt)).openapi(),
    }


def rendered(document: dict[str, Any]) -> str:
    """The committed form: indented, keys in FastAPI's order (paths as the routers declare
    them), non-ASCII text as itself, one final newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    OPENAPI_DIR.mkdir(exist_ok=True)
    for name, document in documents().items():
        path = OPENAPI_DIR / f"{name}.json"
        path.write_text(rendered(document), encoding="utf-8")
        print(f"wrote {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
