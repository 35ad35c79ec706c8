"""Shared by the pieces that run on Java 17 from a Maven-collected classpath."""

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
