"""Control API: stats, request log, documents, reset, and mounting the app under a prefix."""

from __future__ import annotations

import httpx
from sandbox_helpers import AUTH, create_company
from starlette.applications import Starlette
from starlette.routing import Mount

from sandbox import create_app


async def test_stats_count_requests_and_documents(client, guest):
    await create_company(client, "Acme Retail")
    await client.post("/api/resource/Company", json={"company_name": "Acme Retail"})
    await client.get("/api/resource/Company")
    await client.get("/api/resource/Company/Acme Retail")
    await client.get("/api/method/frappe.auth.get_logged_user")
    await guest.get("/api/method/frappe.auth.get_logged_user")
    stats = (await client.get("/__sandbox__/stats")).json()
    assert stats["requests"] == {
        "POST Company": 2,
        "GET Company": 2,
        "GET method:frappe.auth.get_logged_user": 2,
    }
    assert stats["documents"]["Company"] == 1
    assert stats["documents"]["Account"] == 81
    assert stats["documents"]["Mode of Payment"] == 5
    assert "Country" not in stats["documents"] and "Currency" not in stats["documents"]


async def test_request_log_records_status_and_request_id(client):
    await client.get("/api/method/ping", headers={"X-Request-ID": "req-1"})
    await client.get("/api/resource/Company/Nope")
    log = (await client.get("/__sandbox__/requests")).json()
    assert log == [
        {
            "method": "GET",
            "path": "/api/method/ping",
            "doctype": "ping",
            "status": 200,
            "request_id": "req-1",
        },
        {
            "method": "GET",
            "path": "/api/resource/Company/Nope",
            "doctype": "Company",
            "status": 404,
            "request_id": None,
        },
    ]


async def test_request_log_keeps_the_last_10000(client):
    for _ in range(10_005):
        await client.get("/api/method/ping")
    log = (await client.get("/__sandbox__/requests")).json()
    assert len(log) == 10_000
    assert (await client.get("/__sandbox__/stats")).json()["requests"]["GET method:ping"] == 10_005


async def test_documents_endpoint_returns_full_documents(client):
    await create_company(client, "Acme Retail")
    docs = (await client.get("/__sandbox__/documents/Company")).json()
    assert [doc["name"] for doc in docs] == ["Acme Retail"]
    assert docs[0]["default_cash_account"] == "Cash - AR"
    assert "default_bank_account" not in docs[0]  # as a GET returns it: nulls omitted
    assert (await client.get("/__sandbox__/documents/Nope")).status_code == 404


async def test_reset_restores_the_seed(client):
    await create_company(client, "Acme Retail")
    await client.post("/__sandbox__/faults", json={"status": 500, "doctype": "Warehouse"})
    assert (await client.post("/__sandbox__/reset")).status_code == 200
    stats = (await client.get("/__sandbox__/stats")).json()
    assert stats["requests"] == {}
    assert stats["documents"]["Company"] == 0 and stats["documents"]["Account"] == 0
    assert (await client.get("/__sandbox__/faults")).json() == []
    assert (await client.get("/__sandbox__/requests")).json() == []
    cash = (await client.get("/api/resource/Mode of Payment/Cash")).json()["data"]
    assert cash["accounts"] == []


async def test_each_app_has_its_own_state():
    first, second = create_app(), create_app()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=first), base_url="http://a", headers=AUTH
    ) as a:
        await create_company(a, "Acme Retail")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=second), base_url="http://b", headers=AUTH
    ) as b:
        assert (await b.get("/api/resource/Company")).json() == {"data": []}


async def test_mounted_under_a_prefix():
    parent = Starlette(routes=[Mount("/sandbox", app=create_app())])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=parent), base_url="http://main", headers=AUTH
    ) as client:
        assert (await client.get("/sandbox/api/method/ping")).json() == {"message": "pong"}
        response = await client.post(
            "/sandbox/api/resource/Company",
            json={"company_name": "Acme Retail", "default_currency": "USD", "country": "United States"},
        )
        assert response.status_code == 200
        assert (await client.get("/sandbox/api/resource/Warehouse/Stores - AR/")).status_code == 200
        stats = (await client.get("/sandbox/__sandbox__/stats")).json()
        log = (await client.get("/sandbox/__sandbox__/requests")).json()
    assert stats["requests"]["POST Company"] == 1
    assert [entry["path"] for entry in log] == [
        "/api/method/ping",
        "/api/resource/Company",
        "/api/resource/Warehouse/Stores - AR/",
    ]
