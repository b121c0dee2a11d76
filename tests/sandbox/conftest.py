"""Fixtures: a fresh sandbox per test, reached in-process through httpx's ASGI transport."""

from __future__ import annotations

import httpx
import pytest
from sandbox_helpers import AUTH, create_company

from sandbox import create_app


@pytest.fixture
def app():
    return create_app()


@pytest.fixture
async def client(app):
    """Authenticated as Administrator with the demo key pair."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox", headers=AUTH
    ) as c:
        yield c


@pytest.fixture
async def guest(app):
    """No Authorization header at all."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as c:
        yield c


@pytest.fixture
async def acme(client) -> dict:
    """Company "Acme Retail" (abbreviation AR), created through the API."""
    return await create_company(client, "Acme Retail")


@pytest.fixture
async def beta(client, acme) -> dict:
    """A second company, "Beta Foods" (BF), for cross-company checks."""
    return await create_company(client, "Beta Foods")
