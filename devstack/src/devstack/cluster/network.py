"""The node's footprint on the machine, set up before it starts and removed after it stops.

Set up: the bridge with the node's address, forwarding for it (the Docker engine, when it runs,
drops forwarded packets by default), and the cgroup its pods live in. Removed: everything the
node's processes left, found rather than remembered, so that a crashed run is cleaned too:
container processes (by cgroup), containerd's shims (by the socket they name), mounts and
network namespaces under the state folder, the bridge and its veths, the kubelet's,
kube-proxy's and our iptables chains (IPv4 and IPv6), the cgroup folders, and the kubelet's
links in /var/log/containers.
`leftovers()` lists whatever is still there: `down` ends with it empty.
"""

import contextlib
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

from devstack.cluster.settings import ClusterSettings

FORWARD_CHAIN = "CHAT-K8S-FORWARD"
CGROUP_ROOT = Path("/sys/fs/cgroup")
CONTAINER_LOGS = Path("/var/log/containers")
# Chains the kubelet and kube-proxy create, in iptables and ip6tables, and ours.
CHAIN_PREFIXES = ("KUBE-", FORWARD_CHAIN)
IPTABLES = ("iptables", "ip6tables")


def run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=check, capture_output=True, text=True)


def set_up(settings: ClusterSettings) -> None:
    bridge = settings.bridge
    if run("ip", "link", "show", bridge, check=False).returncode != 0:
        run("ip", "link", "add", bridge, "type", "bridge")
    address = f"{settings.node_address}/{settings.pod_network.prefixlen}"
    if address not in run("ip", "-o", "addr", "show", "dev", bridge).stdout:
        run("ip", "addr", "add", address, "dev", bridge)
    run("ip", "link", "set", bridge, "up")
    for setting in ("net/ipv4/ip_forward", "net/bridge/bridge-nf-call-iptables"):
        Path("/proc/sys", setting).write_text("1\n")
    if run("iptables", "-t", "filter", "-nL", FORWARD_CHAIN, check=False).returncode != 0:
        run("iptables", "-t", "filter", "-N", FORWARD_CHAIN)
        run("iptables", "-t", "filter", "-A", FORWARD_CHAIN, "-i", bridge, "-j", "ACCEPT")
        run("iptables", "-t", "filter", "-A", FORWARD_CHAIN, "-o", bridge, "-j", "ACCEPT")
        run("iptables", "-t", "filter", "-I", "FORWARD", "-j", FORWARD_CHAIN)


# -- finding what is left: pure functions of the machine's text, tested on their own ----------


def mounts_under(mountinfo: str, folder: Path) -> list[Path]:
    """Mount points at or below `folder`, deepest first (the order to unmount them in)."""
    prefix = str(folder).rstrip("/") + "/"
    points = []
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) > 4:
            point = fields[4].replace("\\040", " ")
            if point == prefix.rstrip("/") or point.startswith(prefix):
                points.append(Path(point))
    return sorted(set(points), key=lambda path: (len(path.parts), str(path)), reverse=True)


def chains(iptables_save: str, prefixes: Iterable[str]) -> list[tuple[str, str]]:
    """(table, chain) of each chain in `iptables-save` output whose name has one of the prefixes."""
    found, table = [], ""
    wanted = tuple(prefixes)
    for line in iptables_save.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
        elif line.startswith(":"):
            chain = line[1:].split()[0]
            if chain.startswith(wanted):
                found.append((table, chain))
    return found


def removal_commands(iptables_save: str, prefixes: Iterable[str]) -> list[list[str]]:
    """The iptables arguments that remove the chains with one of the prefixes: first every
    rule elsewhere that jumps to one of them, then their own rules, then the chains."""
    wanted = tuple(prefixes)
    found = chains(iptables_save, wanted)
    commands, table = [], ""
    for line in iptables_save.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
        elif line.startswith("-A "):
            rule = shlex.split(line)
            chain, target = rule[1], rule[rule.index("-j") + 1] if "-j" in rule else ""
            if not chain.startswith(wanted) and target.startswith(wanted):
                commands.append(["-t", table, "-D", *rule[1:]])
    commands += [["-t", table, "-F", chain] for table, chain in found]
    commands += [["-t", table, "-X", chain] for table, chain in found]
    return commands


def shim_pids(command_lines: dict[int, list[str]], socket: Path) -> list[int]:
    """Pids of containerd shims started by the containerd listening on `socket`."""
    return sorted(
        pid
        for pid, argv in command_lines.items()
        if argv and Path(argv[0]).name.startswith("containerd-shim") and str(socket) in argv
    )


def cgroup_folders(settings: ClusterSettings, root: Path = CGROUP_ROOT) -> list[Path]:
    """Every folder of the node's cgroup in every hierarchy, deepest first."""
    folders: list[Path] = []
    if root.is_dir():
        for hierarchy in root.iterdir():
            top = hierarchy / settings.cgroup
            if top.is_dir():
                folders += [Path(path) for path, _, _ in os.walk(top)]
    return sorted(folders, key=lambda path: len(path.parts), reverse=True)


def links_into(folder: Path, directory: Path = CONTAINER_LOGS) -> list[Path]:
    """Symbolic links in `directory` that point into `folder` (the kubelet's container logs)."""
    if not directory.is_dir():
        return []
    prefix = str(folder).rstrip("/") + "/"
    return sorted(
        link
        for link in directory.iterdir()
        if link.is_symlink() and os.readlink(link).startswith(prefix)
    )


# -- reading the machine ----------------------------------------------------------------------


def _command_lines() -> dict[int, list[str]]:
    lines = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                raw = (entry / "cmdline").read_bytes()
                lines[int(entry.name)] = raw.decode(errors="replace").split("\0")
    return lines


def _cgroup_pids(settings: ClusterSettings) -> set[int]:
    pids: set[int] = set()
    for folder in cgroup_folders(settings):
        with contextlib.suppress(OSError):
            pids |= {int(pid) for pid in (folder / "cgroup.procs").read_text().split()}
    return pids


def _iptables_save(command: str) -> str:
    return run(f"{command}-save", check=False).stdout


def _mountinfo() -> str:
    return Path("/proc/self/mountinfo").read_text()


def _bridge_ports(settings: ClusterSettings) -> list[str]:
    listing = run("ip", "-o", "link", "show", "master", settings.bridge, check=False).stdout
    lines = [line for line in listing.splitlines() if ":" in line]
    return [line.split(":")[1].strip().split("@")[0] for line in lines]


def leftovers(settings: ClusterSettings, containerd_socket: Path) -> list[str]:
    """What the node left on the machine, one line each; empty after a clean `down`."""
    found = [f"process {pid} in the node's cgroup" for pid in sorted(_cgroup_pids(settings))]
    found += [f"containerd shim {pid}" for pid in shim_pids(_command_lines(), containerd_socket)]
    found += [f"mount {point}" for point in mounts_under(_mountinfo(), settings.state_dir)]
    found += [f"cgroup {folder}" for folder in cgroup_folders(settings)]
    if run("ip", "link", "show", settings.bridge, check=False).returncode == 0:
        found.append(f"bridge {settings.bridge}")
        found += [f"veth {port}" for port in _bridge_ports(settings)]
    for command in IPTABLES:
        found += [
            f"{command} chain {table}/{chain}"
            for table, chain in chains(_iptables_save(command), CHAIN_PREFIXES)
        ]
    found += [f"log link {link}" for link in links_into(settings.state_dir)]
    return found


# -- removing it ------------------------------------------------------------------------------


def stop_containers(settings: ClusterSettings, containerd_socket: Path) -> None:
    """Kills every container process (they live in the node's cgroup) and containerd's shims."""
    for _ in range(50):
        pids = _cgroup_pids(settings) | set(shim_pids(_command_lines(), containerd_socket))
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)


def tear_down(settings: ClusterSettings) -> None:
    """Removes the node's footprint; call once its processes have stopped."""
    for point in mounts_under(_mountinfo(), settings.state_dir):
        run("umount", "--lazy", str(point), check=False)
    # Network namespaces are bind mounts under containerd's state folder: unmounted above,
    # their files go with the folder.
    for port in _bridge_ports(settings):
        run("ip", "link", "delete", port, check=False)
    run("ip", "link", "delete", settings.bridge, check=False)
    for command in IPTABLES:
        for arguments in removal_commands(_iptables_save(command), CHAIN_PREFIXES):
            run(command, *arguments, check=False)
    for folder in cgroup_folders(settings):
        with contextlib.suppress(OSError):
            folder.rmdir()
    for link in links_into(settings.state_dir):
        link.unlink(missing_ok=True)
