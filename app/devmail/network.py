"""This machine's primary local-network IPv4 address, read from its interfaces (no traffic sent).

Linux: the interface of the default route (/proc/net/route), its address by the SIOCGIFADDR
ioctl. Elsewhere, or when that fails: a UDP socket "connected" to a private address, which only
asks the kernel for a route and sends no packet.
"""
from __future__ import annotations

import ipaddress
import socket
import struct

SIOCGIFADDR = 0x8915
VIRTUAL_PREFIXES = ("lo", "docker", "br-", "veth", "virbr", "tun", "tap", "wg", "cni", "flannel", "podman")


def lan_ipv4() -> str | None:
    try:
        return _from_interfaces()
    except OSError:
        return _from_route_lookup()


def _usable(address: str) -> bool:
    ip = ipaddress.IPv4Address(address)
    return not (ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast)


def _interface_address(name: str) -> str | None:
    import fcntl

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            packed = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
        except OSError:
            return None
    return socket.inet_ntoa(packed[20:24])


def _default_route_interface() -> str | None:
    try:
        with open("/proc/net/route") as routes:
            next(routes)
            for line in routes:
                fields = line.split()
                if len(fields) > 3 and fields[1] == "00000000" and int(fields[3], 16) & 2:
                    return fields[0]
    except (FileNotFoundError, StopIteration):
        return None
    return None


def _from_interfaces() -> str | None:
    names = [name for _, name in socket.if_nameindex()]
    preferred = _default_route_interface()
    ordered = ([preferred] if preferred in names else []) + [
        name for name in names if name != preferred and not name.startswith(VIRTUAL_PREFIXES)]
    candidates = [address for address in map(_interface_address, ordered) if address and _usable(address)]
    private = [address for address in candidates if ipaddress.IPv4Address(address).is_private]
    return (private or candidates or [None])[0]


def _from_route_lookup() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # UDP connect: a route lookup, no packet leaves
        except OSError:
            return None
        address = probe.getsockname()[0]
    return address if _usable(address) else None
