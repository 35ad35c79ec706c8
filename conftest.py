"""Fixtures shared by every test suite in the workspace."""

# pytest's importlib mode names a test module after its path (observability/tests/test_x.py
# becomes observability.tests.test_x). Importing the packages whose folder has the same name
# first keeps those synthetic names from shadowing the real packages.
import logging
from collections.abc import Iterator

import pytest
import structlog

import devstack  # noqa: F401
import observability  # noqa: F401

pytest_plugins = ["devstack.testing"]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """For a test that configures logging, which is process-wide: later tests get it back as
    it was (the root logger's handlers and level, and structlog's configuration)."""
    root = logging.getLogger()
    handlers, level, config = root.handlers[:], root.level, structlog.get_config()
    processors = config["processors"][:]  # configure_logging changes the list in place
    yield
    root.handlers[:], root.level = handlers, level
    config["processors"][:] = processors
    structlog.configure(**config)
