"""Writes message bursts to Firestore."""
