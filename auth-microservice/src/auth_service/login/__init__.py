"""Login: password check, brute-force limits, access and Firebase tokens."""
