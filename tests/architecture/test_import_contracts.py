"""The architecture's import contracts (root pyproject.toml, `[tool.importlinter]`) hold for the
tree, and each one fails when its rule is broken on purpose: a contract that cannot fail would
protect nothing, and a wildcard that matches no module would pass silently."""

import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"][
    "contracts"
]

WINDOW = REPO / "aggregator-service/src/aggregator/window.py"
CLOCK_READ = "\nimport time  # deliberate violation, removed by the test\n"

# One deliberate violation per contract: a module written into the real source tree for the
# length of one lint-imports run, importing what the contract forbids.
VIOLATIONS: dict[str, tuple[str, str | None]] = {
    "chat-not-auth": (
        "chat-microservice/src/chat_service/probe_violation.py",
        "import auth_service\n",
    ),
    "window-pure": (str(WINDOW), None),
    "stream-services-independent": (
        "aggregator-service/src/aggregator/probe_violation.py",
        "import aggregated_consumer\n",
    ),
    "stream-not-http": (
        "aggregated-messages-consumer/src/aggregated_consumer/probe_violation.py",
        "import http_kit\n",
    ),
    "no-devstack": ("chat-events/src/chat_events/probe_violation.py", "import devstack\n"),
    "routers-thin": (
        "chat-microservice/src/chat_service/probe_domain/api.py",
        "from chat_service.messages import repository\n",
    ),
    "kits-know-no-service": ("http-kit/src/http_kit/probe_violation.py", "import chat_service\n"),
}


def lint_imports() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def test_the_tree_keeps_every_contract() -> None:
    result = lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in result.stdout


def test_every_contract_has_a_deliberate_violation_here() -> None:
    assert {contract["id"] for contract in CONTRACTS} == set(VIOLATIONS)


@pytest.fixture
def violations() -> Iterator[None]:
    written: list[Path] = []
    try:
        for path, source in VIOLATIONS.values():
            target = REPO / path
            if source is None:  # the window module itself reads the clock
                WINDOW.write_text(WINDOW.read_text() + CLOCK_READ)
                continue
            if not target.parent.exists():
                target.parent.mkdir()
                (target.parent / "__init__.py").write_text("")
                written += [target.parent / "__init__.py", target.parent]
            target.write_text(source)
            written.insert(0, target)
        yield
    finally:
        WINDOW.write_text(WINDOW.read_text().replace(CLOCK_READ, ""))
        for path in written:
            if path.is_dir():
                path.rmdir()
            elif path.exists():
                path.unlink()


@pytest.mark.usefixtures("violations")
def test_each_contract_breaks_on_its_deliberate_violation() -> None:
    result = lint_imports()
    assert result.returncode != 0
    for contract in CONTRACTS:
        assert f"{contract['name']} BROKEN" in result.stdout, contract["id"]
