"""Finding the programs on PATH that the pieces of the stack run or are built with."""

import shutil
import subprocess
from pathlib import Path

from devstack.components.base import StackError
from devstack.settings import REPO_ROOT

NODE_ADVICE = "install Node.js 20 or newer (with npm)."


def on_path(program: str, advice: str, *, named: str | None = None) -> str:
    """The path of `program`, or a StackError saying that it is missing and what to do."""
    found = shutil.which(program)
    if found is None:
        raise StackError(f"{named or program} not found: {advice}")
    return found


def install_node_packages(folder: Path) -> None:
    """The folder's npm packages, as `make install` installs them: `npm ci` once per lock file
    into the tools cache, node_modules a hard-linked copy (scripts/install-node-packages.sh)."""
    on_path("npm", NODE_ADVICE)
    result = subprocess.run(
        [str(REPO_ROOT / "scripts" / "install-node-packages.sh"), str(folder)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise StackError(f"npm packages of {folder.name}: npm ci failed:\n{result.stderr[-2000:]}")
