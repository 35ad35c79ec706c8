"""The schema version every record on the topics carries as `v`."""

EVENT_VERSION = 2
"""Version 1: messages and bursts without `kind` or `v` (read as kind "message" and "burst").
Version 2: every record names its kind and version; messages carry edits and deletions."""
