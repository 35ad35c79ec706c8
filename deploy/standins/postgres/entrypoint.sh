#!/bin/bash
# First start: create the cluster with the superuser's password and the named database. Every
# start: run the server as the postgres user, listening on every address of the container.
set -euo pipefail

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
as_postgres=(setpriv --reuid=postgres --regid=postgres --init-groups)

install -d -o postgres -g postgres -m 700 "$PGDATA"
install -d -o postgres -g postgres /run/postgresql

if [[ ! -s $PGDATA/PG_VERSION ]]; then
  if [[ -z ${POSTGRES_PASSWORD:-} ]]; then
    echo "POSTGRES_PASSWORD must be set for the first start" >&2
    exit 1
  fi
  password_file=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$password_file"
  chown postgres "$password_file"
  "${as_postgres[@]}" initdb --pgdata="$PGDATA" --username="$POSTGRES_USER" \
    --pwfile="$password_file" --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8
  rm -f "$password_file"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  if [[ $POSTGRES_DB != postgres ]]; then
    "${as_postgres[@]}" postgres --single -D "$PGDATA" postgres \
      <<<"CREATE DATABASE \"$POSTGRES_DB\" OWNER \"$POSTGRES_USER\";" >/dev/null
  fi
fi

if [[ ${1:-} == postgres ]]; then
  shift
  exec "${as_postgres[@]}" postgres -D "$PGDATA" -c listen_addresses='*' "$@"
fi
exec "$@"
