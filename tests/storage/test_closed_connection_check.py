"""The check that replaces pool_pre_ping on PostgreSQL (storage/db.py) looks at a pooled connection's
socket: it must tell an idle socket from one the server closed, whatever the descriptor's number (a
busy process hands out numbers above select()'s limit of 1024)."""

from __future__ import annotations

import os
import resource
import socket

import pytest

from storage.db import _readable


@pytest.mark.parametrize('high', [False, True], ids=['low descriptor', 'descriptor above 1024'])
def test_an_idle_socket_is_alive_and_a_closed_one_is_not(high: bool) -> None:
    if high and resource.getrlimit(resource.RLIMIT_NOFILE)[0] <= 1500:
        pytest.skip('this machine allows no descriptor above 1024')
    ours, server = socket.socketpair()
    fd = os.dup2(ours.fileno(), 1500) if high else ours.fileno()
    try:
        assert not _readable(fd)  # idle: nothing to read, the connection is kept
        server.close()  # the server ends the connection: end of stream
        assert _readable(fd)
    finally:
        if high:
            os.close(fd)
        ours.close()
