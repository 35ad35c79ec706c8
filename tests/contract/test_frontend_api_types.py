"""The OpenAPI documents the UI's API types are generated from (`frontend/openapi/`) are the
ones the services' apps build now. Needs no running service: the apps are built, not served.
The TypeScript types are not committed: the UI's build, tests, lint and typecheck make them
from these documents first (frontend/README.md, "API types")."""

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def _export_script() -> ModuleType:
    path = REPO / "scripts" / "export_openapi.py"
    spec = importlib.util.spec_from_file_location("export_openapi", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXPORT = _export_script()
DOCUMENTS = EXPORT.documents()


@pytest.mark.parametrize("service", sorted(DOCUMENTS))
def test_committed_openapi_document_is_the_one_the_app_builds(service: str) -> None:
    committed = EXPORT.OPENAPI_DIR / f"{service}.json"
    assert committed.is_file(), f"{committed} is missing: run `{EXPORT.COMMAND}`"
    assert committed.read_text(encoding="utf-8") == EXPORT.rendered(DOCUMENTS[service]), (
        f"frontend/openapi/{service}.json is stale: run `{EXPORT.COMMAND}` and commit the documents"
    )


def test_every_committed_document_belongs_to_a_service() -> None:
    committed = sorted(path.stem for path in EXPORT.OPENAPI_DIR.glob("*.json"))
    assert committed == sorted(DOCUMENTS), f"run `{EXPORT.COMMAND}`; remove documents of no service"
