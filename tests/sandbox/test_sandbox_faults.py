"""Fault injection through the control API: count, rate, latency, timeout, offline, 429, bodies."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from sandbox_helpers import last_message, pos_profile


async def add_fault(client, rule: dict) -> dict:
    response = await client.post("/__sandbox__/faults", json=rule)
    assert response.status_code == 200, response.text
    return response.json()


async def test_count_fails_the_next_matching_requests_only(client, acme):
    rule = await add_fault(client, {"method": "POST", "doctype": "POS Profile", "status": 503, "count": 2})
    assert rule["id"] >= 1 and rule["remaining"] == 2
    unmatched = await client.get("/api/resource/POS Profile")
    assert unmatched.status_code == 200
    first = await client.post("/api/resource/POS Profile", json=pos_profile())
    second = await client.post("/api/resource/POS Profile", json=pos_profile())
    third = await client.post("/api/resource/POS Profile", json=pos_profile())
    assert [first.status_code, second.status_code, third.status_code] == [503, 503, 200]
    assert first.json()["exc_type"] == "SessionStopped"
    listed = (await client.get("/__sandbox__/faults")).json()
    assert listed[0]["remaining"] == 0 and listed[0]["hits"] == 2


async def test_rate_fails_about_that_share_of_requests(client):
    await add_fault(client, {"rate": 0.2, "status": 502, "seed": 7})
    statuses = [(await client.get("/api/method/ping")).status_code for _ in range(400)]
    failed = statuses.count(502)
    assert set(statuses) == {200, 502}
    assert 50 <= failed <= 110  # 80 expected; far outside 4 standard deviations otherwise


async def test_rate_is_reproducible_with_a_seed(app, client):
    async def pattern() -> list[int]:
        await client.delete("/__sandbox__/faults")
        await add_fault(client, {"rate": 0.5, "status": 500, "seed": 42})
        return [(await client.get("/api/method/ping")).status_code for _ in range(30)]

    assert await pattern() == await pattern()


async def test_latency_delays_matching_requests(client):
    await add_fault(client, {"latency_ms": 150, "doctype": "ping"})
    started = time.monotonic()
    delayed = await client.get("/api/method/ping")
    delayed_s = time.monotonic() - started
    started = time.monotonic()
    await client.get("/api/method/version")
    plain_s = time.monotonic() - started
    assert delayed.status_code == 200 and delayed_s >= 0.15
    assert plain_s < 0.1


async def test_timeout_hangs_until_the_client_gives_up(client):
    await add_fault(client, {"timeout": True, "doctype": "Company", "count": 1})
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await client.get("/api/resource/Company")
    assert (await client.get("/api/resource/Company")).status_code == 200


async def test_timeout_with_hang_s_ends_in_a_proxy_504(client):
    await add_fault(client, {"timeout": True, "hang_s": 0.2})
    started = time.monotonic()
    response = await client.get("/api/method/ping")
    assert response.status_code == 504 and time.monotonic() - started >= 0.2
    assert "504 Gateway Time-out" in response.text and response.headers["content-type"].startswith(
        "text/html"
    )


async def test_after_commit_loses_the_answer_not_the_write(client):
    body = {"company_name": "Acme Retail", "default_currency": "USD", "country": "United States"}
    await add_fault(client, {"method": "POST", "doctype": "Company", "status": 503, "after_commit": True, "count": 1})
    lost = await client.post("/api/resource/Company", json=body)
    assert lost.status_code == 503 and lost.json()["exc_type"] == "SessionStopped"
    stored = (await client.get("/api/resource/Company/Acme Retail")).json()["data"]
    assert stored["owner"] == "Administrator"  # written by the key's user, though its answer was lost
    again = await client.post("/api/resource/Company", json=body)
    assert again.status_code == 409


async def test_after_commit_with_a_timeout_hangs_after_the_write(client):
    await add_fault(client, {"timeout": True, "hang_s": 0.1, "after_commit": True, "doctype": "Price List"})
    body = {"price_list_name": "Late", "currency": "USD", "selling": 1}
    assert (await client.post("/api/resource/Price List", json=body)).status_code == 504
    await client.delete("/__sandbox__/faults")
    assert (await client.get("/api/resource/Price List/Late")).status_code == 200


@pytest.mark.parametrize("rule", [{"after_commit": True, "latency_ms": 5}, {"after_commit": "yes", "status": 503}])
async def test_after_commit_needs_a_failure_to_replace_the_answer(client, rule):
    response = await client.post("/__sandbox__/faults", json=rule)
    assert response.status_code == 422 and "after_commit" in response.json()["detail"]


async def test_offline_refuses_everything_under_api_but_not_control(client):
    rule = await add_fault(client, {"offline": True})
    response = await client.get("/api/method/ping")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html") and "Service Unavailable" in response.text
    assert (await client.get("/__sandbox__/stats")).status_code == 200
    assert (await client.delete(f"/__sandbox__/faults/{rule['id']}")).json() == {"deleted": rule["id"]}
    assert (await client.get("/api/method/ping")).status_code == 200


async def test_429_carries_retry_after(client):
    await add_fault(client, {"status": 429, "retry_after": 2, "count": 1})
    response = await client.get("/api/resource/Company")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.json()["exc_type"] == "TooManyRequestsError"


@pytest.mark.parametrize(
    ("status", "check"),
    [
        (
            500,
            lambda r: (
                r.json()["exc_type"] == "QueryDeadlockError" and "Deadlock found" in r.json()["exception"]
            ),
        ),
        (502, lambda r: "502 Bad Gateway" in r.text and r.headers["content-type"].startswith("text/html")),
        (503, lambda r: r.json()["exc_type"] == "SessionStopped"),
        (417, lambda r: r.json()["exc_type"] == "ValidationError" and "Injected failure" in last_message(r)),
        (403, lambda r: r.json()["_error_message"] == "No permission for Company"),
    ],
)
async def test_injected_statuses_have_realistic_bodies(client, status, check):
    await add_fault(client, {"status": status, "doctype": "Company"})
    response = await client.get("/api/resource/Company")
    assert response.status_code == status
    assert check(response)


async def test_exc_type_override_and_method_path_filter(client):
    await add_fault(
        client, {"doctype": "frappe.auth.get_logged_user", "status": 500, "exc_type": "QueryTimeoutError"}
    )
    failed = await client.get("/api/method/frappe.auth.get_logged_user")
    assert failed.status_code == 500 and failed.json()["exc_type"] == "QueryTimeoutError"
    assert (await client.get("/api/method/ping")).status_code == 200


async def test_rules_can_be_listed_and_cleared(client):
    await add_fault(client, {"status": 500})
    await add_fault(client, {"latency_ms": 1})
    assert len((await client.get("/__sandbox__/faults")).json()) == 2
    assert (await client.delete("/__sandbox__/faults")).json() == {"deleted": 2}
    assert (await client.get("/api/method/ping")).status_code == 200
    assert (await client.delete("/__sandbox__/faults/99")).status_code == 404


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"status": 503, "colour": "red"}, "unknown keys: colour"),
        ({"status": 200}, "status must be an HTTP error status"),
        ({"method": "GET"}, "a rule needs an effect"),
        ({"rate": 2, "status": 500}, "rate must be between 0 and 1"),
        ({"count": 0, "status": 500}, "count must be at least 1"),
        ({"timeout": "yes"}, "timeout must be true or false"),
        ([1, 2], "must be a JSON object"),
    ],
)
async def test_invalid_rules_are_422(client, body, fragment):
    response = await client.post(
        "/__sandbox__/faults", content=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert fragment in response.json()["detail"]
