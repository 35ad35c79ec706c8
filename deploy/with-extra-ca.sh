#!/bin/sh
# Runs one build step, trusting extra CA certificates when the build was given some: the
# optional build secret `extra_ca`, a PEM file, for machines whose HTTPS goes through a
# TLS-intercepting proxy. Without it (the default) the step runs unchanged.
set -eu
extra=/run/secrets/extra_ca
if ! grep -q "BEGIN CERTIFICATE" "$extra" 2>/dev/null; then
  exec "$@"
fi
bundle=$(mktemp)
cat /etc/ssl/certs/ca-certificates.crt "$extra" >"$bundle" 2>/dev/null || cat "$extra" >"$bundle"
# uv and Python read SSL_CERT_FILE (the whole bundle); Node adds NODE_EXTRA_CA_CERTS to its own.
status=0
SSL_CERT_FILE="$bundle" NODE_EXTRA_CA_CERTS="$extra" "$@" || status=$?
# The bundle must not stay in the image layer this step writes.
rm -f "$bundle"
exit "$status"
