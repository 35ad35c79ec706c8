"""Users, login and JWT."""
