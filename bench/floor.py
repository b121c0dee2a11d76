"""The floor: a plain sequential script that sends the same ERPNext requests, with no framework.

It replays, one after the other, the requests a run sent (same method, URL and body) against the
same ERPNext state (the sandbox is reset first). The only change is the `modified` of a PUT, which
must be the one ERPNext gave this time (optimistic locking)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote

import httpx

from bench.sandbox_server import AUTH
from bench.timeline import Exchange


def replay(exchanges: list[Exchange]) -> tuple[float, int]:
    """(seconds, answers that differ in status from the engine's) for the requests sent in order."""
    with httpx.Client(headers={**AUTH, 'Content-Type': 'application/json'}, timeout=60) as client:
        started = time.perf_counter()
        mismatches = _send_all(client, exchanges)
        return time.perf_counter() - started, mismatches


def replay_many(runs: list[list[Exchange]], concurrency: int) -> tuple[float, int]:
    """Each run's requests in order, `concurrency` runs at a time (plain threads, plain httpx):
    the floor of a queue of tenants. Returns (seconds, answers that differ from the engine's)."""
    with httpx.Client(headers={**AUTH, 'Content-Type': 'application/json'}, timeout=120,
                      limits=httpx.Limits(max_connections=concurrency * 2)) as client:
        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            mismatches = sum(pool.map(lambda run: _send_all(client, run), runs))
        return time.perf_counter() - started, mismatches


def _send_all(client: httpx.Client, exchanges: list[Exchange]) -> int:
    modified: dict[tuple[str, str], str] = {}
    mismatches = 0
    for x in exchanges:
        response = client.request(x.method, x.url, content=_fresh_modified(x, modified))
        mismatches += response.status_code != x.status
        _remember(x.target, response, modified)
    return mismatches


def _fresh_modified(x: Exchange, modified: dict[tuple[str, str], str]) -> bytes:
    if x.method != 'PUT' or not x.content:
        return x.content
    doc = json.loads(x.content)
    name = unquote(httpx.URL(x.url).path.rsplit('/', 1)[1])
    if 'modified' in doc and (x.target, name) in modified:
        doc['modified'] = modified[(x.target, name)]
    return json.dumps(doc).encode()


def _remember(doctype: str, response: httpx.Response, modified: dict[tuple[str, str], str]) -> None:
    try:
        data = response.json().get('data')
    except (ValueError, AttributeError):
        return
    for row in data if isinstance(data, list) else [data] if isinstance(data, dict) else []:
        if isinstance(row, dict) and row.get('name') and row.get('modified'):
            modified[(doctype, row['name'])] = row['modified']
