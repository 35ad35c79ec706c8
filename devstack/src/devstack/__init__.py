"""Starts, checks and stops the local infrastructure as plain processes."""
