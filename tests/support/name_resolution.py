"""A host-name table where aiohttp takes a resolver (so a test name can resolve to any address,
169.254.169.254 included) and a local HTTP server that counts the connections it gets."""

from __future__ import annotations

import asyncio
import socket

from aiohttp.abc import AbstractResolver, ResolveResult


class HostsTable(AbstractResolver):
    """Resolves the names it was given to their addresses, in order; any other name is unknown."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.looked_up: list[str] = []

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        self.looked_up.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, 'Name or service not known')
        return [{'hostname': host, 'host': address, 'port': port, 'proto': 0, 'flags': socket.AI_NUMERICHOST,
                 'family': socket.AF_INET6 if ':' in address else socket.AF_INET} for address in self.table[host]]

    async def close(self) -> None:
        pass


class CountingServer:
    """A local HTTP server that answers every request as ERPNext answers a ping, counting connections."""

    def __init__(self) -> None:
        self.connections = 0

    async def __aenter__(self) -> CountingServer:
        self.server = await asyncio.start_server(self._answer, '127.0.0.1', 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        await reader.readuntil(b'\r\n\r\n')
        body = b'{"message": "pong"}'
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n'
                     b'Content-Length: %d\r\n\r\n%s' % (len(body), body))
        await writer.drain()
        writer.close()
