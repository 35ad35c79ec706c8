"""Users: sign-up, lookup and search."""
