"""A classroom network made of real hosts: Linux network namespaces joined by a switch.

    switch      a bridge, with a port for each machine's cable
    teacher     10.77.0.1, with a default route through the router at 10.77.0.254
                (no router answers there: the route only tells the machine which
                network is its own, as a classroom's router would)
    laptop N    10.77.0.(10 + N)

Each machine is a network namespace with its own interfaces, addresses and TCP
stack, so a server on the teacher's machine and a game on a laptop talk over a
real Ethernet link, not over loopback. A program runs on a machine by way of
`ip netns exec`. pull_cable() takes that machine's port on the switch down, as
a laptop that sleeps or walks out of Wi-Fi: from then on its packets go nowhere
and nothing comes back, with no FIN and no reset. Needs root and iproute2.
"""
import itertools
import os
import shutil
import subprocess

NETWORK = "10.77.0"
TEACHER = f"{NETWORK}.1"
ROUTER = f"{NETWORK}.254"
NOBODY = f"{NETWORK}.99"  # an address on the classroom network that no machine answers
PREFIX = "kit-"           # every namespace this module makes, so that leftovers can be found
_numbers = itertools.count(1)


def ip(*args):
    subprocess.run(["ip", *map(str, args)], check=True, capture_output=True, text=True)


def unavailable():
    """Why this machine cannot build a classroom, or None if it can."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "network namespaces need root (sudo), to build the classroom's hosts"
    if not shutil.which("ip"):
        return "network namespaces need iproute2's ip command, to build the classroom's hosts"
    name = f"{PREFIX}{os.getpid()}-probe"
    try:
        ip("netns", "add", name)
        ip("netns", "del", name)
    except subprocess.CalledProcessError as error:
        return f"cannot make a network namespace here ({error.stderr.strip()})"
    return None


def remove_leftovers():
    """Delete the namespaces of earlier runs whose process has gone (a run killed mid-test)."""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for name in (line.split()[0] for line in listed.splitlines() if line.startswith(PREFIX)):
        pid = name[len(PREFIX):].split("-")[0]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)


class Offline:
    """A machine with no network at all: a namespace whose only interface is loopback
    (a laptop in a room with no network, for an install from a USB stick)."""

    def __init__(self):
        self.name = f"{PREFIX}{os.getpid()}-{next(_numbers)}-offline"
        ip("netns", "add", self.name)
        try:
            ip("-n", self.name, "link", "set", "lo", "up")
        except BaseException:
            self.close()
            raise

    def close(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


class Classroom:
    """The switch, the teacher's machine and `laptops` laptops, all cabled up."""

    def __init__(self, laptops):
        tag = f"{PREFIX}{os.getpid()}-{next(_numbers)}"
        self.switch = f"{tag}-switch"
        self.teacher = f"{tag}-teacher"
        self.laptops = [f"{tag}-laptop{number}" for number in range(1, laptops + 1)]
        self.made = []
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def machines(self):
        return [self.teacher, *self.laptops]

    def address(self, machine):
        return TEACHER if machine == self.teacher else f"{NETWORK}.{10 + self.laptops.index(machine) + 1}"

    def _build(self):
        for name in (self.switch, *self.machines()):
            ip("netns", "add", name)
            self.made.append(name)
            ip("-n", name, "link", "set", "lo", "up")
        ip("-n", self.switch, "link", "add", "switch", "type", "bridge")
        ip("-n", self.switch, "link", "set", "switch", "up")
        for port, machine in enumerate(self.machines()):
            # One cable: eth0 in the machine, port<N> on the switch.
            ip("link", "add", "eth0", "netns", machine, "type", "veth",
               "peer", "name", f"port{port}", "netns", self.switch)
            ip("-n", self.switch, "link", "set", f"port{port}", "master", "switch")
            ip("-n", self.switch, "link", "set", f"port{port}", "up")
            ip("-n", machine, "addr", "add", f"{self.address(machine)}/24", "dev", "eth0")
            ip("-n", machine, "link", "set", "eth0", "up")
        ip("-n", self.teacher, "route", "add", "default", "via", ROUTER)

    def pull_cable(self, machine):
        """The machine vanishes: its port on the switch goes down, and its link with it."""
        ip("-n", self.switch, "link", "set", f"port{self.machines().index(machine)}", "down")

    def black_hole(self, machine, address):
        """Frames from `machine` to `address` go out and nobody takes them, as a firewall
        that drops what it will not let in: a permanent entry for a MAC nobody has."""
        ip("-n", machine, "neigh", "replace", address, "lladdr", "02:00:00:00:00:99",
           "dev", "eth0", "nud", "permanent")

    def close(self):
        """Delete every namespace made; their cables go with them."""
        for name in reversed(self.made):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        self.made = []
