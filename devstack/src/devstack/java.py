"""Finding Java 17 and Maven, which the JVM-based pieces need."""

import re
import shutil
import subprocess
from pathlib import Path

from devstack.components.base import StackError
from devstack.programs import on_path

JAVA_MAJOR = 17


def java_major(java: Path) -> int | None:
    try:
        result = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return None
    match = re.search(r'version "(\d+)', result.stderr)
    return int(match.group(1)) if match else None


def find_java17(java_home: Path | None, jvm_dirs: list[Path]) -> Path:
    """The `java` binary of a Java 17 install: JAVA_HOME, then PATH, then the usual JVM folders.

    Cassandra 5.0 fails on newer JDKs (the security manager is gone), so a newer `java` on the
    PATH is skipped rather than used.
    """
    candidates: list[Path] = []
    if java_home:
        candidates.append(java_home / "bin" / "java")
    java_on_path = shutil.which("java")
    if java_on_path:
        candidates.append(Path(java_on_path))
    for folder in jvm_dirs:
        if folder.is_dir():
            candidates.extend(sorted(folder.glob("*17*/bin/java")))
    for java in candidates:
        if java.exists() and java_major(java) == JAVA_MAJOR:
            return java
    raise StackError(
        f"Java {JAVA_MAJOR} not found (looked at JAVA_HOME, PATH and "
        f"{', '.join(map(str, jvm_dirs))}). Kafka and Cassandra need it: install "
        f"openjdk-{JAVA_MAJOR}-jdk-headless, or set DEVSTACK_JAVA_HOME to a Java {JAVA_MAJOR} home."
    )


def find_maven() -> Path:
    advice = (
        "devstack collects the Kafka and Cassandra jars with it on the first run: install the "
        "maven package."
    )
    return Path(on_path("mvn", advice, named="Maven (`mvn`)"))
