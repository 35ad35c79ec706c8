"""Finding the programs on PATH that the pieces of the stack run or are built with."""

import shutil

from devstack.components.base import StackError

NODE_ADVICE = "install Node.js 20 or newer (with npm)."


def on_path(program: str, advice: str, *, named: str | None = None) -> str:
    """The path of `program`, or a StackError saying that it is missing and what to do."""
    found = shutil.which(program)
    if found is None:
        raise StackError(f"{named or program} not found: {advice}")
    return found
