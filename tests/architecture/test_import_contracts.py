"""The architecture's import contracts (root pyproject.toml, `[tool.importlinter]`) hold for the
tree, and each one fails when its rule is broken on purpose: a contract that cannot fail would
protect nothing, and a wildcard that matches no module would pass silently."""

import importlib.util
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

REPO = Path(__file__).resolve().parents[2]
LINTER = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
CONTRACTS = LINTER["contracts"]

# One deliberate violation per contract: a line appended to a module of a copy of the source
# tree (or a new module holding only that line), importing what the contract forbids.
VIOLATIONS: dict[str, tuple[str, str]] = {
    "chat-not-auth": ("chat_service/probe_violation.py", "import auth_service\n"),
    "window-pure": ("aggregator/window.py", "\nimport time  # deliberate violation\n"),
    "stream-services-independent": (
        "aggregator/probe_violation.py",
        "import aggregated_consumer\n",
    ),
    "stream-not-http": ("aggregated_consumer/probe_violation.py", "import http_kit\n"),
    "no-devstack": ("chat_events/probe_violation.py", "import devstack\n"),
    "routers-thin": (
        "chat_service/probe_domain/api.py",
        "from chat_service.messages import repository\n",
    ),
    "kits-know-no-service": ("http_kit/probe_violation.py", "import chat_service\n"),
}


def lint_imports(source_root: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on the workspace, or on the copies of its packages in `source_root`
    (first on the path, so they shadow the installed ones; no cache, which holds the
    workspace's graph)."""
    command, env = [str(Path(sys.executable).with_name("lint-imports"))], dict(os.environ)
    if source_root is not None:
        command.append("--no-cache")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(source_root), env.get("PYTHONPATH")]))
    return subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=120
    )


def test_the_tree_keeps_every_contract() -> None:
    result = lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in result.stdout


def test_every_contract_has_a_deliberate_violation_here() -> None:
    assert {contract["id"] for contract in CONTRACTS} == set(VIOLATIONS)


def test_every_wildcard_of_a_contract_matches_modules_of_the_tree() -> None:
    # import-linter accepts a wildcard that matches nothing; the violations below are new
    # modules, so they would still break such a contract while it guards no real module.
    graph = grimp.build_graph(*LINTER["root_packages"], cache_dir=None)
    for contract in CONTRACTS:
        for field in ("source_modules", "forbidden_modules", "modules"):
            for expression in contract.get(field, []):
                if "*" in expression:
                    assert graph.find_matching_modules(expression), (contract["id"], expression)


@pytest.fixture
def tree_with_violations(tmp_path: Path) -> Path:
    """A copy of every root package's source with the deliberate violations written in: the
    workspace itself is never changed, so an interrupted run leaves nothing behind."""
    for package in LINTER["root_packages"]:
        spec = importlib.util.find_spec(package)
        assert spec is not None, package
        assert spec.submodule_search_locations, package
        source = Path(next(iter(spec.submodule_search_locations)))
        shutil.copytree(source, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    for module, line in VIOLATIONS.values():
        target = tmp_path / module
        if not target.parent.exists():
            target.parent.mkdir()
            (target.parent / "__init__.py").touch()
        with target.open("a") as source_file:
            source_file.write(line)
    return tmp_path


def test_each_contract_breaks_on_its_deliberate_violation(tree_with_violations: Path) -> None:
    result = lint_imports(tree_with_violations)
    assert result.returncode != 0
    for contract in CONTRACTS:
        assert f"{contract['name']} BROKEN" in result.stdout, contract["id"]
