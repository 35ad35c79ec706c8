"""The http-kit tests' shared app (`things_app.py`) made importable by its tests."""

import sys
from pathlib import Path

# The helpers module sits next to the tests; with pytest's importlib mode it is not importable
# unless its folder is on the path. Its name is unique in the workspace, so nothing clashes.
sys.path.insert(0, str(Path(__file__).parent))
