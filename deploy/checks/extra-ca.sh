# shellcheck shell=bash
# Sourced by the scripts that build images: the optional extra CA certificates for builds
# behind a TLS-intercepting proxy (the build secret `extra_ca`, named by BUILD_EXTRA_CA_FILE;
# see deploy/README.md), and a plain answer when a build fails because they are missing.

# The local certificates `update-ca-certificates` adds to the machine's trust store.
MACHINE_EXTRA_CA_DIR=${MACHINE_EXTRA_CA_DIR:-/usr/local/share/ca-certificates}

# What the downloaders in our builds print when a certificate chain ends at a CA they do not
# trust: uv (rustls), Python and curl (OpenSSL), npm (Node), Go, apt.
TLS_VERIFY_ERRORS='UnknownIssuer|CERTIFICATE_VERIFY_FAILED|certificate verify failed'
TLS_VERIFY_ERRORS+='|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY'
TLS_VERIFY_ERRORS+='|UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to get local issuer certificate'
TLS_VERIFY_ERRORS+='|self-signed certificate in certificate chain'
TLS_VERIFY_ERRORS+='|certificate signed by unknown authority|SSL certificate problem'
TLS_VERIFY_ERRORS+='|Certificate verification failed'

# use_machine_extra_ca FOLDER: settles BUILD_EXTRA_CA_FILE before a build.
# - Set and not empty: kept as it is, but it must name a readable file (else returns 1 at once
#   instead of failing minutes later inside a build).
# - Set and empty: no extra certificates, on purpose.
# - Unset: the machine's own extra CA certificates (every *.crt under MACHINE_EXTRA_CA_DIR),
#   concatenated into FOLDER/extra-ca.pem, when there are some; the caller removes FOLDER.
#   A machine that trusts a proxy's CA on the host usually needs it inside builds too, since
#   the base images trust only the public CAs.
use_machine_extra_ca() {
  local folder=$1
  if [[ -n ${BUILD_EXTRA_CA_FILE+set} ]]; then
    if [[ -n $BUILD_EXTRA_CA_FILE && ! -r $BUILD_EXTRA_CA_FILE ]]; then
      echo "BUILD_EXTRA_CA_FILE=$BUILD_EXTRA_CA_FILE: no such readable file" \
        "(a PEM file of CA certificates, or empty for none)" >&2
      return 1
    fi
    return 0
  fi
  local certificates=()
  if [[ -d $MACHINE_EXTRA_CA_DIR ]]; then
    mapfile -t certificates < <(find -L "$MACHINE_EXTRA_CA_DIR" -type f -name '*.crt' | sort)
  fi
  ((${#certificates[@]} > 0)) || return 0
  cat "${certificates[@]}" >"$folder/extra-ca.pem"
  export BUILD_EXTRA_CA_FILE=$folder/extra-ca.pem
  echo "builds trust this machine's ${#certificates[@]} extra CA certificate(s) from" \
    "$MACHINE_EXTRA_CA_DIR (BUILD_EXTRA_CA_FILE; set it empty for none)"
}

# stop_on_tls_error COMMAND...: runs an external command (docker compose, docker build),
# passing its output through, and stops it at the first line that reports an untrusted
# certificate, with a message naming BUILD_EXTRA_CA_FILE. Otherwise returns the command's status.
# Without this, one failed download leaves the other builds running for minutes (npm retries)
# and the cause is a line somewhere in the middle of their output.
stop_on_tls_error() {
  local fifo pid line status=0 failed_line="" caller_traps
  caller_traps=$(trap -p INT TERM)
  fifo=$(mktemp -u "${TMPDIR:-/tmp}/tls-watch.XXXXXX")
  mkfifo "$fifo"
  # A process group of its own, so that stopping it stops the build's children too.
  setsid "$@" >"$fifo" 2>&1 &
  pid=$!
  # shellcheck disable=SC2064 # the group is known now; Ctrl-C must not leave it running
  trap "kill -TERM -- -$pid 2>/dev/null; rm -f '$fifo'; exit 130" INT TERM
  while IFS= read -r line; do
    printf '%s\n' "$line"
    if [[ -z $failed_line && $line =~ $TLS_VERIFY_ERRORS ]]; then
      failed_line=$line
      kill -TERM -- "-$pid" 2>/dev/null || true
    fi
  done <"$fifo"
  wait "$pid" || status=$?
  trap - INT TERM
  eval "$caller_traps"
  rm -f "$fifo"
  if [[ -n $failed_line ]]; then
    _explain_tls_error "$failed_line" >&2
    return 1
  fi
  return "$status"
}

_explain_tls_error() {
  printf '\nA download inside the build did not trust the certificate it was shown:\n  %s\n' "$1"
  if [[ -n ${BUILD_EXTRA_CA_FILE:-} ]]; then
    printf 'The build was given BUILD_EXTRA_CA_FILE=%s,\n' "$BUILD_EXTRA_CA_FILE"
    printf 'and none of its certificates is the CA that signed this one: point\n'
    printf "BUILD_EXTRA_CA_FILE at the PEM file of the proxy's CA certificates.\n"
    return
  fi
  printf 'HTTPS on this machine seems to go through a TLS-intercepting proxy or a private CA,\n'
  printf 'and the build was given no extra CA certificate. Set BUILD_EXTRA_CA_FILE to a PEM\n'
  printf "file of the proxy's CA certificates and run again.\n"
  if [[ -z ${BUILD_EXTRA_CA_FILE+set} ]]; then
    printf '(Left unset, it defaults to the *.crt files in %s, when there are any.)\n' \
      "$MACHINE_EXTRA_CA_DIR"
  fi
}
