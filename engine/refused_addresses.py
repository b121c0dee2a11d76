"""The network addresses Provisioner never sends a request to: link-local addresses and the cloud
metadata services' (they hand a machine's credentials to whoever asks). Private ranges (10.x,
192.168.x, fd00::/8) and loopback stay allowed: ERPNext sites live there.

Used twice: on the engine URL as typed (engine/validation.py) and on the addresses its host name
resolves to, just before a connection is made (engine/erpnext/guarded_resolver.py).
"""

from __future__ import annotations

import ipaddress
import re
import socket

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Metadata services outside the link-local ranges, which are refused whole (169.254.169.254 serves
# AWS, Azure, Google Cloud, Oracle, DigitalOcean, OpenStack…; 169.254.170.2 AWS ECS).
METADATA_ADDRESSES: dict[IPAddress, str] = {
    ipaddress.ip_address('fd00:ec2::254'): 'AWS (IPv6)',
    ipaddress.ip_address('fd20:ce::254'): 'Google Cloud (IPv6)',
    ipaddress.ip_address('100.100.100.200'): 'Alibaba Cloud',
    ipaddress.ip_address('168.63.129.16'): 'Azure WireServer',
    ipaddress.ip_address('192.0.0.192'): 'Oracle Cloud',
}
LINK_LOCAL_METADATA = ipaddress.ip_address('169.254.169.254')
_NUMERIC_IPV4 = re.compile(r'[0-9a-fx.]+')


def refusal(address: IPAddress) -> str | None:
    """'a cloud metadata address' or 'a link-local address' when Provisioner never connects to
    `address`, else None. An IPv6 address that carries an IPv4 address counts as that IPv4 address:
    IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d, which DNS64
    hands out on an IPv6-only host) and 6to4 (2002:AABB:CCDD::)."""
    if isinstance(address, ipaddress.IPv6Address):
        address = _carried_ipv4(ipaddress.IPv6Address(int(address)))  # without a zone (%eth0)
    if address in METADATA_ADDRESSES or address == LINK_LOCAL_METADATA:
        return 'a cloud metadata address'
    if address.is_link_local:
        return 'a link-local address'
    return None


def _carried_ipv4(address: ipaddress.IPv6Address) -> IPAddress:
    """The IPv4 address an IPv6 address stands for, or the address itself."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):  # not :: and ::1
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


_NAT64 = ipaddress.ip_network('64:ff9b::/96')
_IPV4_COMPATIBLE = ipaddress.ip_network('::/96')


def ip_literal(host: str) -> IPAddress | None:
    """`host` as an IP address, in any spelling the system's resolver reads as one (2852039166,
    0xa9.0xfe.0xa9.0xfe and 169.254.43518 are all 169.254.169.254; fe80::1%eth0 keeps its zone), or
    None for a host name."""
    name = host.rstrip('.').lower()
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    if not _NUMERIC_IPV4.fullmatch(name):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(name))
    except OSError:
        return None


def describe(address: IPAddress) -> str:
    """The address as messages name it: the IPv4 address an IPv4-mapped one stands for."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    carried = _carried_ipv4(ipaddress.IPv6Address(int(address))) if isinstance(address, ipaddress.IPv6Address) \
        else address
    return str(address) if carried == address or isinstance(carried, ipaddress.IPv6Address) \
        else f'{address} ({carried})'  # 64:ff9b::a9fe:a9fe (169.254.169.254)
