"""The pieces of the local stack, one module each."""
