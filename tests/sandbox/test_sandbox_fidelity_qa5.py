"""QA pass 5: a site without an outgoing e-mail account, and insert_many's answer.

A v15 User insert with `send_welcome_email` on a site with no default outgoing Email Account: the
welcome e-mail's QueueBuilder raises OutgoingEmailError while the request runs (before any commit),
User.send_password_notification catches it, logs "Unable to send new password notification" and
msgprints an alert; the user is created and the answer is 200 without "Welcome email sent".
"""

from __future__ import annotations

import httpx
import pytest
from sandbox_helpers import AUTH, doc_url, messages

from sandbox import create_app
from sandbox.__main__ import app_from_args

NO_ACCOUNT = "Please setup default outgoing Email Account from Settings > Email Account"
ADA = {"email": "ada@acme.test", "first_name": "Ada", "send_welcome_email": 1, "roles": [{"role": "Sales User"}]}


def client_of(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox", headers=AUTH)


async def test_by_default_the_site_has_an_outgoing_account_and_the_welcome_email_is_sent(client):
    response = await client.post("/api/resource/User", json=ADA)
    assert response.status_code == 200
    assert [m["message"] for m in messages(response)] == ["Welcome email sent"]
    assert (await client.get("/__sandbox__/email-account")).json() == {"present": True}


@pytest.mark.parametrize("make", [lambda: create_app(email_account=False),
                                  lambda: app_from_args(["--no-email-account"])])
async def test_without_an_account_the_user_is_created_with_an_alert_instead_of_the_email(make):
    async with client_of(make()) as client:
        response = await client.post("/api/resource/User", json=ADA)
        assert response.status_code == 200, response.text
        assert response.json()["data"]["name"] == "ada@acme.test"
        [alert] = messages(response)
        assert alert["message"] == NO_ACCOUNT and alert["alert"] == 1 and "raise_exception" not in alert
        assert (await client.get(doc_url("User", "ada@acme.test"))).status_code == 200


async def test_without_an_account_a_user_without_the_welcome_email_gets_no_message():
    async with client_of(create_app(email_account=False)) as client:
        response = await client.post("/api/resource/User", json={**ADA, "send_welcome_email": 0})
        assert response.status_code == 200 and "_server_messages" not in response.json()


async def test_the_control_api_switches_the_account_and_a_reset_keeps_the_setting(client):
    assert (await client.post("/__sandbox__/email-account", json={"present": False})).json() == {"present": False}
    await client.post("/__sandbox__/reset")
    response = await client.post("/api/resource/User", json=ADA)
    assert [m["message"] for m in messages(response)] == [NO_ACCOUNT]
    await client.post("/__sandbox__/email-account", json={"present": True})
    again = await client.post("/api/resource/User", json={**ADA, "email": "bob@acme.test"})
    assert [m["message"] for m in messages(again)] == ["Welcome email sent"]


@pytest.mark.parametrize("body", [None, {}, {"present": "no"}, [True], {"present": 0}])
async def test_the_control_api_refuses_anything_but_a_boolean(client, body):
    response = await client.post("/__sandbox__/email-account", json=body)
    assert response.status_code == 422 and "present" in response.json()["detail"]
    assert (await client.get("/__sandbox__/email-account")).json() == {"present": True}


async def test_insert_many_answers_one_name_per_document_repeats_kept(client, beta):
    """v15 frappe.client.insert_many: `[insert_doc(doc).name for doc in docs]`; a child row's name is
    its parent's, so two rows appended to one mode give that mode twice (QA pass 5, finding 5)."""
    row = {"doctype": "Mode of Payment Account", "parenttype": "Mode of Payment", "parent": "Credit Card",
           "parentfield": "accounts"}
    docs = [{**row, "company": "Acme Retail", "default_account": "Cash - AR"},
            {**row, "company": "Beta Foods", "default_account": "Cash - BF"}]
    response = await client.post("/api/method/frappe.client.insert_many", json={"docs": docs})
    assert response.status_code == 200, response.text
    assert response.json() == {"message": ["Credit Card", "Credit Card"]}
