"""`devstack cluster up | down | status | reset`: the one-node Kubernetes cluster (root only)."""

import argparse
import os
import shutil
import sys
from collections.abc import Sequence

from devstack import stack
from devstack.cluster import lifecycle, network
from devstack.cluster.settings import ClusterSettings
from devstack.components.base import StackError


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="devstack cluster", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status", "reset"])
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("devstack cluster: needs root (a bridge, cgroups, mounts)", file=sys.stderr)
        return 1
    cluster = ClusterSettings()
    try:
        node = lifecycle.build(cluster, progress=_progress)
        return _COMMANDS[args.command](node, cluster)
    except StackError as error:
        print(f"devstack cluster: {error}", file=sys.stderr)
        return 1


def _progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def _up(node: lifecycle.Node, cluster: ClusterSettings) -> int:
    timings = lifecycle.up(node, cluster)
    for step, seconds in timings.items():
        print(f"{step:<16} {seconds:6.1f} s")
    print(f"kubectl --kubeconfig {cluster.kubeconfig} get pods -A")
    return 0


def _down(node: lifecycle.Node, cluster: ClusterSettings) -> int:
    left = lifecycle.down(node, cluster)
    for line in left:
        print(f"left behind: {line}")
    print("stopped; nothing left behind" if not left else f"{len(left)} things left behind")
    return 0 if not left else 1


def _status(node: lifecycle.Node, cluster: ClusterSettings) -> int:
    rows = stack.status(node.all)
    for row in rows:
        health = "yes" if row.healthy else f"no  {row.detail}"
        print(f"{row.name:<24} {row.pid or '-':>8}  {health}")
    if not any(row.pid for row in rows):
        for line in network.leftovers(cluster, node.containerd.socket):
            print(f"left behind: {line}")
    return 0 if all(row.healthy for row in rows) else 3


def _reset(node: lifecycle.Node, cluster: ClusterSettings) -> int:
    status = _down(node, cluster)
    shutil.rmtree(cluster.state_dir, ignore_errors=True)
    print(f"removed {cluster.state_dir}")
    return status


_COMMANDS = {"up": _up, "down": _down, "status": _status, "reset": _reset}
