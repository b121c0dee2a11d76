"""Acting as another ERPNext user: `python -m sandbox --api-key KEY:SECRET:USER` and
`POST /__sandbox__/api-keys` (the embedded sandbox too); the demo key stays Administrator's."""

from __future__ import annotations

import httpx
import pytest
from sandbox_helpers import AUTH
from starlette.applications import Starlette
from starlette.routing import Mount

from sandbox import create_app
from sandbox.__main__ import app_from_args, parse_args

JANE = {"Authorization": "token jane:jane-secret-1"}
LOGGED_USER = "/api/method/frappe.auth.get_logged_user"


async def test_the_command_line_adds_keys_that_act_as_their_users():
    app = app_from_args(["--api-key", "jane:jane-secret-1:jane@example.com", "--api-key", "ops:ops-2:Ops Bot"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as client:
        assert (await client.get(LOGGED_USER, headers=JANE)).json() == {"message": "jane@example.com"}
        ops = await client.get(LOGGED_USER, headers={"Authorization": "token ops:ops-2"})
        assert ops.json() == {"message": "Ops Bot"}
        assert (await client.get(LOGGED_USER, headers=AUTH)).json() == {"message": "Administrator"}
        made = await client.post("/api/resource/Price List", headers=JANE,
                                 json={"price_list_name": "Jane's", "currency": "USD", "selling": 1})
        assert made.json()["data"]["owner"] == "jane@example.com"
        wrong_secret = await client.get(LOGGED_USER, headers={"Authorization": "token jane:ops-2"})
        assert wrong_secret.status_code == 401


@pytest.mark.parametrize(("value", "message"), [
    ("jane:jane-secret-1", "give KEY:SECRET:USER"),
    ("jane::jane@example.com", "secret must be 1-140 characters without spaces or colons"),
    ("ja ne:s3cret-xyz:jane@example.com", "key must be 1-140 characters without spaces or colons"),
    ("jane:s3cret-xyz:", "user must be the user's name"),
    ("sandbox:s3cret-xyz:jane@example.com", "'sandbox' is the demo key"),
])
def test_a_bad_api_key_option_is_a_usage_error_that_does_not_echo_the_secret(capsys, value, message):
    with pytest.raises(SystemExit) as stopped:
        parse_args(["--api-key", value])

    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert f"argument --api-key: {message}" in error
    assert "s3cret-xyz" not in error and "jane-secret-1" not in error


async def test_the_control_api_adds_a_key_at_run_time_in_a_mounted_sandbox():
    """As the embedded sandbox is reached: mounted at /sandbox inside the main app."""
    parent = Starlette(routes=[Mount("/sandbox", app=create_app())])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=parent), base_url="http://127.0.0.1:8080/sandbox",
                                 ) as client:
        assert (await client.get(LOGGED_USER, headers=JANE)).status_code == 401

        added = await client.post("/__sandbox__/api-keys",
                                  json={"key": "jane", "secret": "jane-secret-1", "user": "jane@example.com"})

        assert added.status_code == 200
        assert added.json() == {"key": "jane", "user": "jane@example.com"}  # never the secret
        assert (await client.get(LOGGED_USER, headers=JANE)).json() == {"message": "jane@example.com"}
        assert (await client.get(LOGGED_USER, headers=AUTH)).json() == {"message": "Administrator"}
        listed = await client.get("/__sandbox__/api-keys")
        assert listed.json() == {"api_keys": {"jane": "jane@example.com", "sandbox": "Administrator"}}
        await client.post("/__sandbox__/reset")
        assert (await client.get(LOGGED_USER, headers=JANE)).json() == {"message": "jane@example.com"}

        again = await client.post("/__sandbox__/api-keys",
                                  json={"key": "jane", "secret": "new-secret-2", "user": "jane@example.com"})
        assert again.status_code == 200
        assert (await client.get(LOGGED_USER, headers=JANE)).status_code == 401
        assert (await client.get(LOGGED_USER, headers={"Authorization": "token jane:new-secret-2"})).status_code == 200


@pytest.mark.parametrize("body", [
    None, [], {}, {"key": "jane", "secret": "s3cret-xyz"}, {"key": "jane", "secret": "s3:cret", "user": "j@x.test"},
    {"key": 5, "secret": "s3cret-xyz", "user": "j@x.test"}, {"key": "jane", "secret": "s3cret-xyz", "user": "a\nb"},
    {"key": "sandbox", "secret": "s3cret-xyz", "user": "j@x.test"},
])
async def test_a_bad_api_key_body_is_a_422_naming_the_problem(client, body):
    refused = await client.post("/__sandbox__/api-keys", content=b"{not json" if body is None else None,
                                json=body if body is not None else None)

    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("invalid API key: ")
    assert "s3cret-xyz" not in refused.text
    assert (await client.get("/__sandbox__/api-keys")).json() == {"api_keys": {"sandbox": "Administrator"}}
