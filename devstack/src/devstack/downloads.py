"""Classpaths collected from Maven Central into a cache outside the state folder, so that a
reset of the stack costs no download."""

import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from devstack.components.base import StackError
from devstack.java import find_maven

RESOURCES = Path(__file__).parent / "resources"
_COMPLETE_MARKER = ".complete"


def ensure_classpath(
    pom_name: str, cache_dir: Path, java_home: Path, progress: Callable[[str], None]
) -> Path:
    """The folder of jars for `pom_name`, downloading them on first use."""
    pom = RESOURCES / pom_name
    # The pom's content names the versions, so a version bump gets a folder of its own.
    target = cache_dir / f"{pom.stem}-{_fingerprint(pom)}"
    if (target / _COMPLETE_MARKER).exists():
        return target
    mvn = find_maven()
    progress(f"downloading the {pom.stem} classpath into {target} (first run only)")
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    command = [
        str(mvn), "-B", "-q", "-f", str(pom), "dependency:copy-dependencies",
        "-DincludeScope=runtime", f"-DoutputDirectory={partial}",
    ]  # fmt: skip
    result = subprocess.run(
        command, capture_output=True, text=True, env=_maven_env(java_home), check=False
    )
    if result.returncode != 0 or not any(partial.glob("*.jar")):
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-15:])
        raise StackError(f"Maven could not collect the {pom.stem} classpath:\n{tail}")
    (partial / _COMPLETE_MARKER).touch()
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def _fingerprint(pom: Path) -> str:
    return hashlib.sha256(pom.read_bytes()).hexdigest()[:10]


def _maven_env(java_home: Path) -> dict[str, str]:
    return {**os.environ, "JAVA_HOME": str(java_home)}
