"""Groups chat messages into bursts per chat and sender, exactly once."""
