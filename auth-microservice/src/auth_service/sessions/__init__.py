"""Sessions: rotating refresh tokens (stored as hashes), reuse detection, logout."""
