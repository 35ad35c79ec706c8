#!/bin/sh
# As in the official image: a redis-server started without a configuration file runs with
# protected mode off. In a container, the network decides who may connect, and protected mode
# would refuse every client that is not on the container's own loopback interface.
set -eu
if [ "${1:-}" = redis-server ]; then
  case " $* " in
    *" --protected-mode "* | *.conf*) ;;
    *) set -- "$@" --protected-mode no ;;
  esac
fi
exec "$@"
