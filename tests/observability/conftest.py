"""Fixtures for the observability tests: a webhook receiver on a real socket, a /metrics scraper
over the real ops router, and a log capture of the real structlog configuration."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from dashboard import ops
from engine.logging import configure_logging
from tests.conftest import LiveServer


class Receiver:
    """A webhook endpoint that records what it accepted; it can be told to refuse with 503 first."""

    def __init__(self) -> None:
        self.accepted: list[dict[str, Any]] = []
        self.attempts = 0
        self.refuse_next = 0
        self.app = Starlette(routes=[Route('/hook', self.hook, methods=['POST'])])
        self.url = ''

    async def hook(self, request: Request) -> JSONResponse:
        self.attempts += 1
        body = await request.json()
        if self.refuse_next > 0:
            self.refuse_next -= 1
            return JSONResponse({'ok': False}, status_code=503)
        self.accepted.append(body)
        return JSONResponse({'ok': True})

    def seen(self) -> list[tuple[str, str, str]]:
        """(rule, subject, status) of every accepted notification, in arrival order."""
        return [(b['alert']['rule'], b['alert']['subject'], b['status']) for b in self.accepted]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    with LiveServer(hook.app) as server:
        hook.url = f'{server.url}/hook'
        yield hook


class Scraper:
    """GET /metrics through the real ops router (reading `app.state.db` as main.py wires it)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def samples(self) -> dict[tuple[str, frozenset], float]:
        response = await self.client.get('/metrics')
        assert response.status_code == 200 and response.headers['content-type'].startswith('text/plain')
        return {(sample.name, frozenset(sample.labels.items())): sample.value
                for family in text_string_to_metric_families(response.text) for sample in family.samples}


def value(samples: dict[tuple[str, frozenset], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
async def scraper(db) -> AsyncIterator[Scraper]:
    app = FastAPI()
    app.include_router(ops.router)
    app.state.db = db
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url='http://provisioner') as client:
        yield Scraper(client)


@contextmanager
def captured_logs(log_format: str = 'json') -> Iterator[io.StringIO]:
    """The process's logging as main.py configures it, written to a string instead of stderr."""
    stream = io.StringIO()
    configure_logging(log_format, stream=stream)
    try:
        yield stream
    finally:
        root = logging.getLogger()
        root.handlers[:] = [h for h in root.handlers if not getattr(h, '_provisioner', False)]


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Every log line written during the test, as configure_logging('json') renders it."""
    with captured_logs('json') as stream:
        yield stream
