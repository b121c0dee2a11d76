"""Small helpers for engine tests: run a provisioning to its end, read the sandbox."""

from __future__ import annotations

from typing import Any

import httpx

from engine.runner import Runner
from engine.services import runs
from storage.db import Database
from storage.tables import Tenant


async def provision(db: Database, runner: Runner, tenant_id: int, *, plan: bool = False) -> dict[str, Any]:
    """Queue a run for the tenant, execute it, and return the run with its steps."""
    run = runs.request_provision(db, tenant_id, actor='tests', plan=plan)
    await runner.execute(run.id)
    return runs.run_detail(db, run.id)


async def resume(db: Database, runner: Runner, run_id: int) -> dict[str, Any]:
    await runner.execute(run_id)
    return runs.run_detail(db, run_id)


def steps(detail: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step['key']: step for step in detail['steps']}


def tenant(db: Database, tenant_id: int) -> Tenant:
    with db.session() as session:
        return session.get(Tenant, tenant_id)


async def stats(sandbox: httpx.AsyncClient) -> dict[str, Any]:
    return (await sandbox.get('/__sandbox__/stats')).json()


async def documents(sandbox: httpx.AsyncClient, doctype: str) -> list[dict[str, Any]]:
    response = await sandbox.get(f'/__sandbox__/documents/{doctype}')
    response.raise_for_status()
    return response.json()


async def names(sandbox: httpx.AsyncClient, doctype: str, **equal: Any) -> list[str]:
    docs = await documents(sandbox, doctype)
    return sorted(doc['name'] for doc in docs if all(doc.get(k) == v for k, v in equal.items()))


async def fault(sandbox: httpx.AsyncClient, **rule: Any) -> dict[str, Any]:
    response = await sandbox.post('/__sandbox__/faults', json=rule)
    response.raise_for_status()
    return response.json()


def writes(requests: dict[str, int]) -> dict[str, int]:
    return {key: count for key, count in requests.items() if key.split(' ', 1)[0] in {'POST', 'PUT', 'DELETE'}}


def diff(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key, 0)}
