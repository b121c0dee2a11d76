"""`disabled` on Account and Cost Center, as ERPNext keeps it.

- Lists and reads return disabled documents like any other, with `disabled` 1; a `disabled` filter
  selects them (frappe.get_list adds no condition of its own): only ledger entries refuse a disabled
  account (erpnext/accounts/general_ledger.py validate_disabled_accounts).
- Account.validate_disabled (erpnext/accounts/doctype/account/account.py) refuses to disable an
  account the company holds in a default field: "Account X cannot be disabled as it is already set
  as <label> for <company>.". Enabling it again, or disabling another account, is allowed.
- Cost Center has no such check: the company's default cost center can be disabled.
"""

from __future__ import annotations

import pytest
from sandbox_helpers import doc_url, last_message, params


async def put(client, doctype: str, name: str, **values):
    return await client.put(doc_url(doctype, name), json=values)


async def listed(client, doctype: str, **filters) -> dict[str, int]:
    query = params(fields=["name", "disabled"], filters={"company": "Acme Retail", **filters}, limit_page_length=0)
    response = await client.get(f"/api/resource/{doctype}", params=query)
    assert response.status_code == 200, response.text
    return {row["name"]: row["disabled"] for row in response.json()["data"]}


@pytest.mark.parametrize(("doctype", "name"), [("Account", "Debtors - AR"), ("Cost Center", "Main - AR")])
async def test_a_disabled_document_is_still_listed_and_read_with_its_flag(client, acme, doctype, name):
    if doctype == "Account":  # Debtors - AR is the default receivable account: unset it first
        assert (await put(client, "Company", "Acme Retail", default_receivable_account="")).status_code == 200
    assert (await put(client, doctype, name, disabled=1)).status_code == 200

    assert (await listed(client, doctype))[name] == 1
    assert name in await listed(client, doctype, disabled=1)
    assert name not in await listed(client, doctype, disabled=0)
    assert (await client.get(doc_url(doctype, name))).json()["data"]["disabled"] == 1


async def test_a_company_default_account_cannot_be_disabled(client, acme):
    response = await put(client, "Account", "Cash - AR", disabled=1)

    assert response.status_code == 417 and response.json()["exc_type"] == "ValidationError"
    assert last_message(response) == (
        "Account <strong>Cash - AR</strong> cannot be disabled as it is already set as "
        "<strong>Default Cash Account</strong> for <strong>Acme Retail</strong>.")
    assert (await client.get(doc_url("Account", "Cash - AR"))).json()["data"]["disabled"] == 0


async def test_an_account_no_default_names_can_be_disabled_and_enabled_again(client, acme):
    bank = {"account_name": "Bank", "company": "Acme Retail", "parent_account": "Bank Accounts - AR",
            "account_type": "Bank", "is_group": 0}
    assert (await client.post("/api/resource/Account", json=bank)).status_code == 200

    assert (await put(client, "Account", "Bank - AR", disabled=1)).json()["data"]["disabled"] == 1
    assert (await put(client, "Account", "Bank - AR", disabled=0)).json()["data"]["disabled"] == 0
    # once it is the default bank account, disabling it is refused like any default
    assert (await put(client, "Company", "Acme Retail", default_bank_account="Bank - AR")).status_code == 200
    assert (await put(client, "Account", "Bank - AR", disabled=1)).status_code == 417


async def test_the_default_cost_center_can_be_disabled(client, acme):
    assert acme["cost_center"] == "Main - AR"
    assert (await put(client, "Cost Center", "Main - AR", disabled=1)).json()["data"]["disabled"] == 1
