"""Fixtures shared by every test suite in the workspace."""

# pytest's importlib mode names a test module after its path (observability/tests/test_x.py
# becomes observability.tests.test_x). Importing the packages whose folder has the same name
# first keeps those synthetic names from shadowing the real packages.
import devstack  # noqa: F401
import observability  # noqa: F401

pytest_plugins = ["devstack.testing"]
