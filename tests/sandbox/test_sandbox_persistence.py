"""A sandbox given a state file keeps its documents across restarts, as a real ERPNext does."""

from __future__ import annotations

import asyncio

import httpx
from sandbox_helpers import AUTH, create_company

from sandbox import create_app


def client_of(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox", headers=AUTH)


async def test_documents_survive_a_restart(tmp_path):
    state = tmp_path / "sandbox.json"
    first = create_app(state_file=state)
    async with client_of(first) as client:
        await create_company(client, "Acme Retail")
        cash = (await client.get("/api/resource/Mode of Payment/Cash")).json()["data"]
    first.state.sandbox.persist_now()

    second = create_app(state_file=state)
    async with client_of(second) as client:
        company = (await client.get("/api/resource/Company/Acme Retail")).json()["data"]
        assert company["abbr"] == "AR"
        accounts = await client.get("/api/resource/Account", params={"filters": '[["company","=","Acme Retail"]]'})
        assert accounts.json()["data"]  # the chart of accounts came back too
        again = await client.post("/api/resource/Company",
                                  json={"company_name": "ACME retail", "abbr": "AR2", "default_currency": "USD",
                                        "country": "United States"})
        assert again.status_code == 409  # the restored name index still answers
        # A later save gets a later `modified` than anything before the restart.
        await client.put("/api/resource/Mode of Payment/Cash", json={"enabled": 0})
        changed = (await client.get("/api/resource/Mode of Payment/Cash")).json()["data"]
        assert changed["modified"] > cash["modified"]


async def test_writes_are_saved_shortly_without_a_shutdown(tmp_path):
    state = tmp_path / "sandbox.json"
    app = create_app(state_file=state)
    async with client_of(app) as client:
        await create_company(client, "Beta Foods")
    await asyncio.sleep(0.5)
    assert "Beta Foods" in state.read_text()


async def test_an_unreadable_state_file_starts_from_the_seed(tmp_path):
    state = tmp_path / "sandbox.json"
    state.write_text("{not json")
    async with client_of(create_app(state_file=state)) as client:
        answer = await client.get("/api/resource/Mode of Payment/Cash")
        assert answer.status_code == 200
        assert (await client.get("/api/resource/Company/Acme Retail")).status_code == 404
