"""Small helpers shared by the sandbox tests (request shortcuts and envelope decoding)."""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx

AUTH = {"Authorization": "token sandbox:sandbox"}


def messages(response: httpx.Response) -> list[dict]:
    """`_server_messages` decoded twice, as a client must."""
    raw = response.json().get("_server_messages")
    return [json.loads(item) for item in json.loads(raw)] if raw else []


def last_message(response: httpx.Response) -> str:
    return messages(response)[-1]["message"]


def doc_url(doctype: str, name: str) -> str:
    return f"/api/resource/{quote(doctype)}/{quote(name, safe='')}"


def params(**values: object) -> dict:
    """Query parameters with list/dict values JSON-encoded, as Frappe expects."""
    return {
        key: value if isinstance(value, str | int) else json.dumps(value) for key, value in values.items()
    }


async def create_company(client: httpx.AsyncClient, name: str, **extra: object) -> dict:
    body = {"company_name": name, "default_currency": "USD", "country": "United States", **extra}
    response = await client.post("/api/resource/Company", json=body)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def insert(client: httpx.AsyncClient, doctype: str, body: dict) -> dict:
    response = await client.post(f"/api/resource/{quote(doctype)}", json=body)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def pos_profile(**overrides: object) -> dict:
    """A POS Profile body that is valid for Acme Retail (AR)."""
    body = {
        "name": "AR Store 1",
        "company": "Acme Retail",
        "currency": "USD",
        "warehouse": "Stores - AR",
        "write_off_account": "Write Off - AR",
        "write_off_cost_center": "Main - AR",
        "payments": [{"mode_of_payment": "Cash", "default": 1}],
    }
    body.update(overrides)
    return body
