"""Shared by the pieces that run on Java 17, most of them from a Maven-collected classpath."""

from pathlib import Path

from devstack.components.base import Component
from devstack.downloads import ensure_classpath
from devstack.java import find_java17


class JvmComponent(Component):
    def java(self) -> Path:
        return find_java17(self.settings.java_home, self.settings.jvm_dirs)

    def classpath_dir(self) -> Path:
        """The jars that `resources/<name>-pom.xml` lists, collected by Maven on first use."""
        java_home = self.java().parent.parent
        return ensure_classpath(
            f"{self.name}-pom.xml", self.settings.cache_dir, java_home, self.context.progress
        )


class MavenComponent(JvmComponent):
    """A piece run from the jars Maven collects (Kafka, Cassandra), with configuration files
    of its own written into its state folder each time it is prepared. The two subclasses
    open alike (name, timeouts, where their files go) because that is all they declare; their
    files, command lines and checks share nothing."""

    def config_files(self) -> dict[Path, str]:
        """Path -> text of each configuration file."""
        return {}

    def prepare(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.classpath_dir()
        for path, text in self.config_files().items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
