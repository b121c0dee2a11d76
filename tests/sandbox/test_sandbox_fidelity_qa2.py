"""QA findings 8-11 (second pass): a payment row without a mode, HTML error pages for text
clients, the site picked by Host / X-Frappe-Site-Name, and a corrupt state file kept aside."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from sandbox_helpers import AUTH, messages, pos_profile
from starlette.applications import Starlette
from starlette.routing import Mount

from sandbox import create_app
from sandbox.__main__ import app_from_args

# -- 8. a POS Profile payment row without mode_of_payment ---------------------------------------


async def test_payment_row_without_a_mode_is_the_missing_account_error(client, acme):
    response = await client.post("/api/resource/POS Profile", json=pos_profile(payments=[{"default": 1}]))
    assert response.status_code == 417
    assert response.json()["exc_type"] == "ValidationError"
    note = messages(response)[-1]
    # get_link_to_form("Mode of Payment", None): an empty slug in the link, "None" as its label.
    assert note["message"] == (
        'Please set default Cash or Bank account in Mode of Payments '
        '<a href="http://sandbox/app/mode-of-payment/">None</a>'
    )
    assert note["title"] == "Missing Account"


async def test_missing_mode_is_reported_before_the_mandatory_check(client, acme):
    body = pos_profile(payments=[{"mode_of_payment": "Cash", "default": 1}, {}])
    del body["write_off_account"]
    response = await client.post("/api/resource/POS Profile", json=body)
    assert response.status_code == 417
    note = messages(response)[-1]
    assert note["title"] == "Missing Account" and note["message"].endswith(">None</a>")
    assert "Cash<" not in note["message"]


# -- 9. errors of /api paths as HTML pages when Accept starts with "text" -----------------------


@pytest.mark.parametrize("accept", ["text/html", "text/plain", "text/html,application/xhtml+xml;q=0.9"])
async def test_text_accept_gets_an_html_not_found_page(client, accept):
    response = await client.get("/api/resource/Company/Nope", headers={"Accept": accept})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>Not Found</title>" in response.text
    assert "The resource you are looking for is not available" in response.text


async def test_only_a_text_client_gets_the_page_others_keep_the_json_envelope(client):
    page = await client.get("/api/resource/Company/Nope", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "<title>Not Found</title>" in page.text
    for headers in (
        {},  # httpx sends Accept: */*
        {"Accept": "application/json"},  # what Provisioner's ERPNext client sends
        {"Accept": "text/html, application/json"},  # application/json anywhere wins
        {"Accept": "text/html", "X-Requested-With": "XMLHttpRequest"},  # an ajax call
    ):
        response = await client.get("/api/resource/Company/Nope", headers=headers)
        assert response.status_code == 404
        assert response.json()["exc_type"] == "DoesNotExistError", headers


async def test_each_status_gets_the_page_erpnext_renders(client, guest, acme):
    text = {"Accept": "text/html"}
    invalid = await client.post("/api/resource/POS Profile", json=pos_profile(payments=[]), headers=text)
    assert invalid.status_code == 417
    assert "<title>Server Error</title>" in invalid.text
    # v15 shows the traceback (System Settings allow_error_traceback, on by default), escaped.
    assert "<pre>Traceback (most recent call last):" in invalid.text
    assert "frappe.exceptions.ValidationError: Payment methods are mandatory." in invalid.text

    wrong_key = await guest.get(
        "/api/resource/Company", headers={**text, "Authorization": "token sandbox:wrong"}
    )
    assert wrong_key.status_code == 401 and "<title>Session Expired</title>" in wrong_key.text

    anonymous = await guest.get("/api/resource/Company", headers=text)
    assert anonymous.status_code == 403 and "<title>Not Permitted</title>" in anonymous.text

    duplicate = await client.post(
        "/api/resource/Company",
        json={"company_name": "Acme Retail", "default_currency": "USD", "country": "United States"},
        headers=text,
    )
    assert duplicate.status_code == 409 and "<title>Server Error</title>" in duplicate.text


async def test_a_text_client_over_the_rate_limit_gets_plain_text():
    app = create_app(rate_limit={"limit": 0.000001, "window": 60})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox", headers=AUTH
    ) as client:
        await client.get("/api/method/ping")
        refused = await client.get("/api/method/ping", headers={"Accept": "text/plain"})
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("text/plain")
    assert refused.text == "Too Many Requests"


# -- 10. the site: Host or X-Frappe-Site-Name -----------------------------------------------------


async def test_an_unknown_host_is_a_plain_404(client):
    response = await client.get("/api/resource/Company", headers={"Host": "unknown-site.example"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>404 Not Found</title>" in response.text
    assert "unknown-site.example does not exist" in response.text
    # The sandbox's own control API is not the simulated site: it answers whatever the Host.
    stats = await client.get("/__sandbox__/stats", headers={"Host": "unknown-site.example"})
    assert stats.status_code == 200
    # The default names, with or without a port (compared as host names: case-insensitively).
    for host in ("127.0.0.1", "localhost:8001", "testserver", "LocalHost"):
        assert (await client.get("/api/resource/Company", headers={"Host": host})).status_code == 200, host


async def test_the_site_name_header_wins_over_the_host(client):
    unknown = await client.get("/api/resource/Company", headers={"X-Frappe-Site-Name": "nope.example"})
    assert unknown.status_code == 404 and "nope.example does not exist" in unknown.text
    known = await client.get(
        "/api/resource/Company", headers={"Host": "unknown-site.example", "X-Frappe-Site-Name": "localhost"}
    )
    assert known.status_code == 200


async def test_configured_site_names():
    app = create_app(sites=["erp.example.com"])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox", headers=AUTH
    ) as client:
        assert (await client.get("/api/method/ping", headers={"Host": "erp.example.com"})).status_code == 200
        assert (await client.get("/api/method/ping", headers={"Host": "two.example.com"})).status_code == 404

        added = await client.post("/__sandbox__/sites", json={"name": "Two.Example.com"})
        assert added.status_code == 200
        assert (await client.get("/api/method/ping", headers={"Host": "two.example.com"})).status_code == 200
        listed = (await client.get("/__sandbox__/sites")).json()
        assert {"erp.example.com", "two.example.com", "localhost"} <= set(listed["sites"])

        for bad in ({}, {"name": ""}, {"name": "a b"}, {"name": "host:80"}, {"name": 5}, []):
            refused = await client.post("/__sandbox__/sites", json=bad)
            assert refused.status_code == 422, bad
            assert refused.json()["detail"].startswith("invalid site name")


async def test_the_command_line_names_sites_and_the_bound_host():
    app = app_from_args(["--host", "10.0.0.5", "--site", "erp.example.com", "--site", "erp2.example.com"])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox", headers=AUTH
    ) as client:
        for host in ("erp.example.com", "erp2.example.com", "10.0.0.5:8001", "127.0.0.1"):
            assert (await client.get("/api/method/ping", headers={"Host": host})).status_code == 200, host
        assert (await client.get("/api/method/ping", headers={"Host": "erp3.example.com"})).status_code == 404


async def test_a_mounted_sandbox_answers_for_the_address_it_is_reached_at():
    """As the embedded sandbox is reached (http://<PROVISIONER_HOST>:<port>/sandbox): any address."""
    parent = Starlette(routes=[Mount("/sandbox", app=create_app())])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=parent), base_url="http://192.168.1.20:8080", headers=AUTH
    ) as client:
        assert (await client.get("/sandbox/api/resource/Company")).status_code == 200
        wrong = await client.get("/sandbox/api/resource/Company", headers={"Host": "unknown-site.example"})
        assert wrong.status_code == 404


# -- 11. a corrupt state file is kept aside -------------------------------------------------------


@pytest.mark.parametrize("content", ["{broken", json.dumps({"version": 99, "documents": {}})])
async def test_an_unusable_state_file_is_kept_aside(tmp_path, caplog, content):
    state = tmp_path / "sandbox.json"
    state.write_text(content)
    with caplog.at_level(logging.WARNING, logger="sandbox"):
        app = create_app(state_file=state)
    kept = list(tmp_path.glob("sandbox.json.broken-*"))
    assert len(kept) == 1 and kept[0].read_text() == content
    warning = " ".join(record.getMessage() for record in caplog.records)
    assert kept[0].name in warning and "starting from the seed" in warning
    app.state.sandbox.persist_now()
    assert json.loads(state.read_text())["version"] == 1  # the fresh seed took its place


async def test_a_second_broken_file_in_the_same_second_gets_its_own_name(tmp_path):
    state = tmp_path / "sandbox.json"
    for content in ("{first", "{second"):
        state.write_text(content)
        create_app(state_file=state)
    kept = sorted(path.read_text() for path in tmp_path.glob("sandbox.json.broken-*"))
    assert kept == ["{first", "{second"]
