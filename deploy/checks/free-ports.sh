# Sourced by the checks that start servers on this machine.

# free_ports N: prints N distinct loopback ports nobody listens on, drawn by devstack's
# free_port (below the kernel's ephemeral range, so no outgoing connection takes one before
# the server binds it). Needs $PYTHON, the workspace's Python.
free_ports() {
  ${PYTHON:?set PYTHON to the workspace Python} -c '
import sys
from devstack.testing import free_port
ports = set()
while len(ports) < int(sys.argv[1]):
    ports.add(free_port())
print(*ports)' "$1"
}
