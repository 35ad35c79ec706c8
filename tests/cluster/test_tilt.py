"""Tilt on the one-node cluster: `tilt ci` brings every resource of the Tiltfile up and exits 0;
then `tilt up` syncs an edit of a UI component into the running `next dev` container, and the
page shows it without an image rebuild. The cluster is named by the environment only
(CHAT_TILT_ALLOW_K8S_CONTEXT, CHAT_TILT_DEFAULT_REGISTRY), as any machine would."""

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from chat_page import chromium
from cluster_support import CLUSTER, REPORT, PortForward, fresh_namespace
from fault_load import seconds_until
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from devstack.settings import REPO_ROOT

LOGIN_FORM = REPO_ROOT / "frontend" / "components" / "LoginForm.tsx"
TITLE = '"Log in" : "Create an account"'


@pytest.fixture(scope="module")
def docker_engine() -> Iterator[None]:
    """A Docker engine for Tilt's builds: the running one, or one started here and stopped
    by its pid afterwards."""
    if subprocess.run(["docker", "info"], capture_output=True).returncode == 0:
        yield
        return
    log = (REPO_ROOT / ".devstack" / "dockerd.log").open("w")
    engine = subprocess.Popen(
        ["dockerd", "--host", "unix:///var/run/docker.sock"], stdout=log, stderr=log
    )
    try:
        seconds_until(
            lambda: subprocess.run(["docker", "info"], capture_output=True).returncode == 0,
            60, "the Docker engine",
        )  # fmt: skip
        yield
    finally:
        engine.terminate()
        engine.wait(timeout=60)
        log.close()


def _extra_ca(folder: Path) -> str:
    """BUILD_EXTRA_CA_FILE as compose-check settles it: the machine's own extra CAs if any
    (the path is the last line the function prints)."""
    script = 'source deploy/checks/extra-ca.sh && use_machine_extra_ca "$1" && '
    script += 'echo "${BUILD_EXTRA_CA_FILE:-}"'
    printed = subprocess.run(
        ["bash", "-c", script, "extra-ca", str(folder)],
        cwd=REPO_ROOT, check=True, capture_output=True, text=True,
    ).stdout.strip().splitlines()  # fmt: skip
    return printed[-1] if printed else ""


@pytest.fixture(scope="module")
def tilt(
    forwards: dict[str, PortForward], docker_engine: None, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, str]]:
    # Tilt forwards the same ports itself.
    for forward in forwards.values():
        forward.stop()
    binary = subprocess.run(
        ["deploy/checks/build-go-tool.sh", "tilt"],
        cwd=REPO_ROOT, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    environment = os.environ | {
        "KUBECONFIG": str(CLUSTER.kubeconfig),
        "CHAT_TILT_ALLOW_K8S_CONTEXT": CLUSTER.node_name,
        "CHAT_TILT_DEFAULT_REGISTRY": CLUSTER.registry,
        "BUILD_EXTRA_CA_FILE": _extra_ca(tmp_path_factory.mktemp("extra-ca")),
    }
    return Path(binary), environment


def test_tilt_ci_brings_every_resource_up(tilt: tuple[Path, dict[str, str]]) -> None:
    binary, environment = tilt
    started = time.monotonic()
    fresh_namespace()
    REPORT.add("namespace removed, volumes freed", time.monotonic() - started)
    started = time.monotonic()
    result = subprocess.run(
        [str(binary), "ci", "--timeout", "25m"],
        cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    REPORT.add("tilt ci", time.monotonic() - started)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]


def _opened(page: Page) -> bool:
    """Loads the login page in `page` if it is not showing it yet; False while that fails."""
    if page.url.endswith("/login"):
        return True
    try:
        page.goto("http://127.0.0.1:3000/login", timeout=20_000)
    except PlaywrightError:
        return False
    return True


def _heading(page: Page) -> str:
    """The page's first heading as the browser draws it; "" while there is none."""
    try:
        return page.get_by_role("heading", level=1).inner_text(timeout=5_000)
    except PlaywrightError:
        return ""


def test_an_edit_of_a_ui_component_shows_without_an_image_rebuild(
    tilt: tuple[Path, dict[str, str]],
) -> None:
    binary, environment = tilt
    marker = f"Log in ({uuid.uuid4().hex[:6]})"
    log_path = REPO_ROOT / ".devstack" / "tilt-up.log"
    with log_path.open("w") as log, chromium() as browser:
        up = subprocess.Popen(
            [str(binary), "up", "--stream"],
            cwd=REPO_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        original = LOGIN_FORM.read_text()
        page = browser.new_page()
        try:
            # The first request compiles the page: wait for it, then keep this one tab open.
            seconds_until(lambda: _opened(page) and _heading(page) == "Log in", 600, "login page")
            builds = log_path.read_text().count("Building Dockerfile")
            edited_at = time.monotonic()
            LOGIN_FORM.write_text(original.replace(TITLE, f'"{marker}" : "Create an account"'))
            # No reload: the open page changes by itself (Next's hot reload over its socket).
            seconds_until(lambda: _heading(page) == marker, 180, "the edit in the open page")
            REPORT.add("live update: edit shown in the open page", time.monotonic() - edited_at)
            assert log_path.read_text().count("Building Dockerfile") == builds, "image rebuilt"
        finally:
            LOGIN_FORM.write_text(original)
            up.terminate()
            up.wait(timeout=60)
