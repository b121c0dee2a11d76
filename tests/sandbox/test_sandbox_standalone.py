"""The sandbox behind a real uvicorn server: sockets, client timeouts, disconnects."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from sandbox_helpers import AUTH

from sandbox import create_app


@pytest.fixture
def server_url() -> Iterator[str]:
    """Serve a fresh sandbox on a free loopback port in a background thread."""
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not (server.started and server.servers) and time.monotonic() < deadline:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


async def test_real_server_speaks_the_api(server_url):
    async with httpx.AsyncClient(base_url=server_url, headers=AUTH) as client:
        assert (await client.get("/api/method/ping")).json() == {"message": "pong"}
        response = await client.post(
            "/api/resource/Company",
            json={"company_name": "Acme Retail", "default_currency": "USD", "country": "United States"},
        )
        assert response.status_code == 200
        encoded = await client.get("/api/resource/Account/Exchange%20Gain%2FLoss%20-%20AR")
        assert encoded.json()["data"]["name"] == "Exchange Gain/Loss - AR"


async def test_timeout_fault_trips_the_client_timeout_and_notices_the_disconnect(server_url):
    async with httpx.AsyncClient(base_url=server_url, headers=AUTH, timeout=0.3) as client:
        await client.post("/__sandbox__/faults", json={"timeout": True, "doctype": "Company", "count": 1})
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/api/resource/Company")
        assert time.monotonic() - started < 2
        log: list = []
        for _ in range(40):  # the server sees the disconnect and stops hanging
            log = (await client.get("/__sandbox__/requests")).json()
            if log:
                break
            await asyncio.sleep(0.05)
        assert log and log[0]["path"] == "/api/resource/Company" and log[0]["status"] == 504
        assert (await client.get("/api/resource/Company")).status_code == 200


async def test_real_server_answers_only_for_its_sites(server_url):
    async with httpx.AsyncClient(base_url=server_url, headers=AUTH) as client:
        unknown = await client.get("/api/resource/Company", headers={"Host": "unknown-site.example"})
        assert unknown.status_code == 404 and "unknown-site.example does not exist" in unknown.text
        assert (await client.get("/api/resource/Company", headers={"Host": "localhost"})).status_code == 200
        assert (await client.get("/api/resource/Company")).status_code == 200  # Host: 127.0.0.1:<port>
