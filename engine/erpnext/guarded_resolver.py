"""The host-name lookup of engine connections, which never hands aiohttp a refused address.

An engine URL's host is checked as typed (engine/validation.py), but a name may resolve to a cloud
metadata or link-local address all the same (a DNS record pointing at 169.254.169.254, or one that
changes after the URL was saved). `GuardedResolver` wraps aiohttp's resolver and refuses a name when
any address it resolves to is refused (engine/refused_addresses.py), before a connection is tried;
the connector's DNS cache only ever holds what passed. IP literals in URLs never reach a resolver:
the URL check covers them.
"""

from __future__ import annotations

import errno
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from engine import refused_addresses


class RefusedAddressError(OSError):
    """A host name resolved to an address Provisioner never connects to. An OSError, so aiohttp reports
    it as the connection's DNS error; `strerror` is the operator's message."""

    def __init__(self, host: str, address: str, kind: str) -> None:
        super().__init__(errno.EACCES,
                         f"engine URL's host '{host}' resolves to {address}, {kind}: Provisioner never connects "
                         "there; point the engine's URL, or the name's DNS record, at the ERPNext site")
        self.host = host
        self.address = address


class GuardedResolver(AbstractResolver):
    """`inner` (aiohttp's default resolver unless given) with the refused addresses taken out."""

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self.inner = inner or DefaultResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self.inner.resolve(host, port, family)
        for result in results:
            address = refused_addresses.ip_literal(result['host'])
            kind = refused_addresses.refusal(address) if address is not None else None
            if kind is not None:
                raise RefusedAddressError(host, refused_addresses.describe(address), kind)
        return results

    async def close(self) -> None:
        await self.inner.close()
