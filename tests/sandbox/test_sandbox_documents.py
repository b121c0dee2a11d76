"""Document semantics beyond the checklist: PUT, optimistic locking, delete, naming, transactions."""

from __future__ import annotations

import asyncio

import httpx
from sandbox_helpers import doc_url, insert, last_message, messages, params, pos_profile

from sandbox import create_app


async def test_put_is_a_partial_update(client, acme):
    await client.put("/api/resource/Mode of Payment/Cash", json={"enabled": 0})
    data = (await client.get("/api/resource/Mode of Payment/Cash")).json()["data"]
    assert data["enabled"] == 0
    assert data["type"] == "Cash"
    assert [row["company"] for row in data["accounts"]] == ["Acme Retail"]


async def test_put_child_table_replaces_the_whole_table(client, beta):
    cash = (await client.get("/api/resource/Mode of Payment/Cash")).json()["data"]
    acme_row, beta_row = cash["accounts"]
    assert (acme_row["company"], beta_row["company"]) == ("Acme Retail", "Beta Foods")
    response = await client.put(
        "/api/resource/Mode of Payment/Cash",
        json={
            "accounts": [{"name": beta_row["name"], "company": "Beta Foods", "default_account": "Cash - BF"}]
        },
    )
    assert response.status_code == 200
    rows = (await client.get("/api/resource/Mode of Payment/Cash")).json()["data"]["accounts"]
    assert [(row["name"], row["company"], row["idx"]) for row in rows] == [
        (beta_row["name"], "Beta Foods", 1)
    ]


async def test_put_adds_a_row_when_existing_rows_are_sent_back(client, acme):
    card = (await client.get("/api/resource/Mode of Payment/Credit Card")).json()["data"]
    assert card["accounts"] == []
    new_row = {"company": "Acme Retail", "default_account": "Cash - AR"}
    first = (
        await client.put("/api/resource/Mode of Payment/Credit Card", json={"accounts": [new_row]})
    ).json()["data"]
    kept = first["accounts"][0]
    second = await client.put(
        "/api/resource/Mode of Payment/Credit Card",
        json={"accounts": [kept, {"company": None, "default_account": None}]},
    )
    rows = second.json()["data"]["accounts"]
    assert [row["idx"] for row in rows] == [1, 2]
    assert rows[0]["name"] == kept["name"] and rows[0]["creation"] == kept["creation"]
    assert rows[1]["name"] != kept["name"] and rows[1]["parent"] == "Credit Card"


async def test_put_row_with_an_unknown_name_is_silently_lost(client, acme):
    row = {"name": "madeup0001", "company": "Acme Retail", "default_account": "Cash - AR"}
    response = await client.put("/api/resource/Mode of Payment/Credit Card", json={"accounts": [row]})
    assert response.status_code == 200
    assert [r["name"] for r in response.json()["data"]["accounts"]] == ["madeup0001"]
    stored = (await client.get("/api/resource/Mode of Payment/Credit Card")).json()["data"]
    assert stored["accounts"] == []


async def test_stale_modified_is_a_timestamp_mismatch(client, acme):
    original = (await client.get("/api/resource/Company/Acme Retail")).json()["data"]
    fresh = await client.put(
        "/api/resource/Company/Acme Retail", json={"tax_id": "T-1", "modified": original["modified"]}
    )
    assert fresh.status_code == 200
    new_modified = fresh.json()["data"]["modified"]
    assert new_modified > original["modified"]
    stale = await client.put(
        "/api/resource/Company/Acme Retail", json={"tax_id": "T-2", "modified": original["modified"]}
    )
    assert stale.status_code == 417
    assert stale.json()["exc_type"] == "TimestampMismatchError"
    assert last_message(stale) == (
        "Error: Document has been modified after you have opened it "
        f"({new_modified}, {original['modified']}). "
        "Please refresh to get the latest document."
    )
    assert (await client.get("/api/resource/Company/Acme Retail")).json()["data"]["tax_id"] == "T-1"


async def test_concurrent_puts_with_the_same_modified_have_one_winner(client, acme):
    modified = (await client.get("/api/resource/Company/Acme Retail")).json()["data"]["modified"]
    await client.post("/__sandbox__/faults", json={"method": "PUT", "latency_ms": 30})
    results = await asyncio.gather(
        *(
            client.put("/api/resource/Company/Acme Retail", json={"tax_id": f"T-{n}", "modified": modified})
            for n in range(3)
        )
    )
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 417, 417]
    losers = [r for r in results if r.status_code == 417]
    assert {r.json()["exc_type"] for r in losers} == {"TimestampMismatchError"}


async def test_modified_strictly_increases_on_every_save(client, acme):
    seen = []
    for n in range(20):
        seen.append(
            (await client.put("/api/resource/Company/Acme Retail", json={"tax_id": str(n)})).json()["data"][
                "modified"
            ]
        )
    assert seen == sorted(seen) and len(set(seen)) == 20


async def test_changed_company_name_is_reverted_to_the_name(client, acme):
    response = await client.put("/api/resource/Company/Acme Retail", json={"company_name": "Other"})
    assert response.json()["data"]["company_name"] == "Acme Retail"


async def test_delete_answers_202_then_404(client, acme):
    await insert(
        client,
        "Warehouse",
        {"warehouse_name": "Spare", "company": "Acme Retail", "parent_warehouse": "All Warehouses - AR"},
    )
    deleted = await client.delete(doc_url("Warehouse", "Spare - AR"))
    assert (deleted.status_code, deleted.json()) == (202, {"data": "ok"})
    again = await client.delete(doc_url("Warehouse", "Spare - AR"))
    assert again.status_code == 404
    assert last_message(again) == "Warehouse Spare - AR not found"


async def test_delete_of_a_linked_document_is_refused(client, acme):
    await insert(client, "POS Profile", pos_profile())
    response = await client.delete(doc_url("Warehouse", "Stores - AR"))
    assert response.status_code == 417
    assert response.json()["exc_type"] == "LinkExistsError"
    assert last_message(response).startswith(
        "Cannot delete or cancel because Warehouse "
        '<a href="/app/warehouse/Stores - AR">Stores - AR</a> is linked with POS Profile'
    )
    mode = await client.delete("/api/resource/Mode of Payment/Cash")
    assert mode.status_code == 417 and last_message(mode).endswith("at Row: 1")


async def test_delete_company_removes_its_records(client, beta):
    response = await client.delete("/api/resource/Company/Acme Retail")
    assert response.status_code == 202
    for doctype in ("Account", "Cost Center", "Warehouse"):
        count = await client.get(
            "/api/method/frappe.client.get_count",
            params={"doctype": doctype, "filters": '{"company": "Acme Retail"}'},
        )
        assert count.json() == {"message": 0}
    cash = (await client.get("/api/resource/Mode of Payment/Cash")).json()["data"]
    assert [row["company"] for row in cash["accounts"]] == ["Beta Foods"]
    assert (await client.get("/api/resource/Account/Cash - BF")).status_code == 200


async def test_delete_company_refused_when_linked_leaves_everything(client, acme):
    await insert(client, "POS Profile", pos_profile())
    response = await client.delete("/api/resource/Company/Acme Retail")
    assert response.status_code == 417
    assert response.json()["exc_type"] == "LinkExistsError"
    assert (await client.get("/api/resource/Account/Cash - AR")).status_code == 200
    cash = (await client.get("/api/resource/Mode of Payment/Cash")).json()["data"]
    assert [row["company"] for row in cash["accounts"]] == ["Acme Retail"]


async def test_company_insert_is_all_or_nothing(client):
    assert (await client.delete("/api/resource/Warehouse Type/Transit")).status_code == 202
    response = await client.post(
        "/api/resource/Company",
        json={"company_name": "Acme Retail", "default_currency": "USD", "country": "United States"},
    )
    assert response.status_code == 417
    assert response.json()["exc_type"] == "LinkValidationError"
    assert last_message(response) == "Could not find Warehouse Type: Transit"
    assert (await client.get("/api/resource/Company/Acme Retail")).status_code == 404
    accounts = await client.get("/api/method/frappe.client.get_count", params={"doctype": "Account"})
    assert accounts.json() == {"message": 0}
    assert (await client.get("/api/resource/Mode of Payment/Cash")).json()["data"]["accounts"] == []


async def test_account_suffix_is_always_appended(client, acme):
    data = await insert(
        client,
        "Account",
        {"account_name": "Cash - AR", "company": "Acme Retail", "parent_account": "Cash In Hand - AR"},
    )
    assert data["name"] == "Cash - AR - AR"
    assert (data["root_type"], data["report_type"], data["account_currency"]) == (
        "Asset",
        "Balance Sheet",
        "USD",
    )
    numbered = await insert(
        client,
        "Account",
        {
            "account_name": "Bank",
            "account_number": "1201",
            "company": "Acme Retail",
            "parent_account": "Bank Accounts - AR",
        },
    )
    assert numbered["name"] == "1201 - Bank - AR"


async def test_customer_name_taken_is_renamed_with_a_note(client):
    first = await insert(client, "Customer", {"customer_name": "Walk-in Customer"})
    second = await client.post("/api/resource/Customer", json={"customer_name": "Walk-in Customer"})
    third = await insert(client, "Customer", {"customer_name": "Walk-in Customer"})
    assert first["name"] == "Walk-in Customer"
    assert second.status_code == 200 and second.json()["data"]["name"] == "Walk-in Customer - 1"
    assert messages(second) == [
        {
            "message": "Changed customer name to 'Walk-in Customer - 1' "
            "as 'Walk-in Customer' already exists.",
            "title": "Note",
            "indicator": "yellow",
        }
    ]
    assert third["name"] == "Walk-in Customer - 2"


async def test_customer_named_like_a_customer_group_is_refused(client):
    response = await client.post("/api/resource/Customer", json={"customer_name": "Commercial"})
    assert response.status_code == 409
    assert response.json()["exc_type"] == "NameError"
    assert (await client.get("/api/resource/Customer/Commercial")).status_code == 404


async def test_select_value_outside_the_options(client):
    response = await client.post(
        "/api/resource/Customer", json={"customer_name": "X", "customer_type": "Robot"}
    )
    assert response.status_code == 417
    assert messages(response)[-1]["title"] == "Invalid Value"
    assert (
        last_message(response)
        == ' Customer Type cannot be "Robot". It should be one of "Company", "Individual", "Partnership"'
    )


async def test_user_welcome_note_and_invalid_email(client):
    created = await client.post("/api/resource/User", json={"email": "ops@acme.test", "first_name": "Ops"})
    assert created.status_code == 200
    assert [m["message"] for m in messages(created)] == ["Welcome email sent"]
    assert created.json()["data"]["user_type"] == "Website User"
    invalid = await client.post("/api/resource/User", json={"email": "not-an-email", "first_name": "X"})
    assert invalid.status_code == 417
    assert invalid.json()["exc_type"] == "InvalidEmailAddressError"
    assert last_message(invalid) == "not-an-email is not a valid Email Address"


async def test_user_creation_is_throttled():
    app = create_app(user_throttle_limit=2)
    headers = {"Authorization": "token sandbox:sandbox"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://s", headers=headers
    ) as client:
        statuses = [
            (
                await client.post(
                    "/api/resource/User",
                    json={"email": f"u{n}@acme.test", "first_name": "U", "send_welcome_email": 0},
                )
            ).status_code
            for n in range(3)
        ]
        throttled = await client.post("/api/resource/User", json={"email": "u9@acme.test", "first_name": "U"})
    assert statuses == [200, 200, 200]  # the limit counts users already created: 3 > 2 refuses the 4th
    assert throttled.status_code == 417 and last_message(throttled) == "Throttled"


async def test_names_are_case_insensitive_like_mariadb(client, acme):
    found = await client.get("/api/resource/Company/acme retail")
    assert found.json()["data"]["name"] == "Acme Retail"
    duplicate = await client.post(
        "/api/resource/Company",
        json={
            "company_name": "ACME RETAIL",
            "abbr": "AR2",
            "default_currency": "USD",
            "country": "United States",
        },
    )
    assert duplicate.status_code == 409
    linked = await insert(client, "Warehouse", {"warehouse_name": "W", "company": "acme retail"})
    assert linked["company"] == "Acme Retail" and linked["name"] == "W - AR"


async def test_names_with_slashes_spaces_and_trailing_slashes(client, acme):
    encoded = await client.get(doc_url("Account", "Exchange Gain/Loss - AR"))
    assert encoded.json()["data"]["account_name"] == "Exchange Gain/Loss"
    trailing = await client.get("/api/resource/Company/Acme Retail/")
    assert trailing.json()["data"]["name"] == "Acme Retail"
    listing = await client.get("/api/resource/Company/", params=params(fields=["abbr"]))
    assert listing.json() == {"data": [{"abbr": "AR"}]}


async def test_name_sent_on_a_non_prompt_doctype_is_ignored(client):
    data = await insert(
        client,
        "Price List",
        {"name": "Ignored", "price_list_name": "Retail", "currency": "USD", "selling": 1},
    )
    assert data["name"] == "Retail"


async def test_unknown_doctype_route_and_verbs(client):
    unknown_doctype = await client.get("/api/resource/Item")
    assert unknown_doctype.status_code == 404 and last_message(unknown_doctype) == "DocType Item not found"
    unknown_route = await client.get("/api/foo/bar")
    assert (unknown_route.status_code, unknown_route.json()) == (404, {"exc_type": "DoesNotExistError"})
    patch = await client.patch("/api/resource/Company/Acme")
    assert patch.status_code == 405 and patch.headers["content-type"].startswith("text/html")
    put_list = await client.put("/api/resource/Company", json={})
    assert put_list.status_code == 405


async def test_guest_gets_403_on_resources_with_an_error_message(guest, client, acme):
    listing = await guest.get("/api/resource/Company")
    assert listing.status_code == 403
    assert listing.json()["_error_message"] == "No permission for Company"
    reading = await guest.get("/api/resource/Company/Acme Retail")
    assert reading.status_code == 403
    assert reading.json()["_error_message"] == "Insufficient Permission for Company"


async def test_auth_header_parsing_edge_cases(guest):
    bad_base64 = await guest.get("/api/method/ping", headers={"Authorization": "Basic abc"})
    assert bad_base64.status_code == 400
    assert bad_base64.json()["exc_type"] == "InvalidAuthorizationToken"
    no_colon = await guest.get("/api/method/ping", headers={"Authorization": "token abc"})
    assert no_colon.status_code == 401
    three_parts = await guest.get("/api/method/ping", headers={"Authorization": "token a b"})
    assert three_parts.status_code == 200  # not two parts: treated as Guest


async def test_extra_api_keys_act_as_their_user():
    app = create_app(api_keys={"k2": ("s2", "ops@acme.test")})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as client:
        extra = await client.get(
            "/api/method/frappe.auth.get_logged_user", headers={"Authorization": "token k2:s2"}
        )
        demo = await client.get(
            "/api/method/frappe.auth.get_logged_user", headers={"Authorization": "token sandbox:sandbox"}
        )
    assert extra.json() == {"message": "ops@acme.test"}
    assert demo.json() == {"message": "Administrator"}


async def test_owner_is_the_user_who_created_the_document():
    """ERPNext writes the creating user as `owner` (an API key's user); the site's fixtures are Administrator's."""
    app = create_app(api_keys={"k2": ("s2", "ops@acme.test")})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s",
                                 headers={"Authorization": "token k2:s2"}) as ops:
        made = await ops.post("/api/resource/Price List", json={"price_list_name": "Ops", "currency": "USD",
                                                                "selling": 1})
        rows = await ops.get("/api/resource/Price List", params={"fields": '["name", "owner"]',
                                                                 "limit_page_length": 0})
    assert made.json()["data"]["owner"] == "ops@acme.test" and made.json()["data"]["modified_by"] == "ops@acme.test"
    owners = {row["name"]: row["owner"] for row in rows.json()["data"]}
    assert owners == {"Ops": "ops@acme.test", "Standard Buying": "Administrator", "Standard Selling": "Administrator"}


async def test_link_errors_are_joined_and_name_child_rows(client, acme):
    body = pos_profile(warehouse="Nowhere", payments=[{"mode_of_payment": "Barter", "default": 1}])
    response = await client.post("/api/resource/POS Profile", json=body)
    assert response.status_code == 417
    assert last_message(response) == "Could not find Warehouse: Nowhere, Row #1: Mode of Payment: Barter"


async def test_methods_for_versions_and_unknown_paths(client):
    versions = (await client.get("/api/method/frappe.utils.change_log.get_versions")).json()["message"]
    assert versions["frappe"]["version"].startswith("15.") and versions["erpnext"]["title"] == "ERPNext"
    assert (await client.get("/api/method/version")).json()["message"].startswith("15.")
    unknown = await client.get("/api/method/frappe.client.nope")
    assert unknown.status_code == 417
    assert (
        last_message(unknown) == "Failed to get method for command frappe.client.nope "
        "with module 'frappe.client' has no attribute 'nope'"
    )
    not_whitelisted = await client.post("/api/method/frappe.auth.validate_auth")
    assert not_whitelisted.status_code == 403


async def test_insert_many_returns_names(client):
    docs = [{"doctype": "Customer Group", "customer_group_name": name} for name in ("Retail", "Online")]
    response = await client.post("/api/method/frappe.client.insert_many", json={"docs": docs})
    assert response.json() == {"message": ["Retail", "Online"]}
    group = (await client.get("/api/resource/Customer Group/Online")).json()["data"]
    assert group["parent_customer_group"] == "All Customer Groups"


async def test_put_accepts_a_data_wrapped_body_and_form_fields(client, acme):
    wrapped = await client.put("/api/resource/Company/Acme Retail", json={"data": {"tax_id": "W-1"}})
    assert wrapped.json()["data"]["tax_id"] == "W-1"
    as_string = await client.put("/api/resource/Company/Acme Retail", json={"data": '{"tax_id": "W-2"}'})
    assert as_string.json()["data"]["tax_id"] == "W-2"
    form = await client.post(
        "/api/resource/Price List", data={"price_list_name": "Form", "currency": "USD", "buying": "1"}
    )
    assert form.status_code == 200 and form.json()["data"]["buying"] == 1
