"""Fidelity gaps found by the audit of the sandbox against ERPNEXT.md (beyond the §7 checklist).

Each test names the behaviour of real Frappe/ERPNext it pins down; each failed before its fix.
"""

from __future__ import annotations

import httpx
from sandbox_helpers import AUTH, create_company, doc_url, insert, last_message, messages, params

from sandbox import create_app

# -- Customer (§4.9): Selling Settings defaults, mandatory group/territory, party accounts ---------


async def test_customer_group_and_territory_come_from_selling_settings(client):
    saved = await insert(client, "Customer", {"customer_name": "Walk-in"})
    assert (saved["customer_group"], saved["territory"]) == ("All Customer Groups", "All Territories")

    sent = await insert(client, "Customer", {"customer_name": "Ada", "customer_group": "Commercial"})
    assert sent["customer_group"] == "Commercial"


async def test_customer_group_and_territory_are_mandatory(client):
    response = await client.post(
        "/api/resource/Customer", json={"customer_name": "Bob", "customer_group": "", "territory": None}
    )
    assert response.status_code == 417
    assert response.json()["exc_type"] == "MandatoryError"
    assert [m["message"] for m in messages(response)] == [
        "Error: Value missing for Customer: Customer Group",
        "Error: Value missing for Customer: Territory",
    ]


async def test_customer_account_rows_must_belong_to_their_company(client, beta):
    body = {"customer_name": "Carol", "accounts": [{"company": "Acme Retail", "account": "Debtors - BF"}]}
    response = await client.post("/api/resource/Customer", json=body)
    assert response.status_code == 417
    assert "Account <strong>Debtors - BF</strong> does not belong to Company <strong>Acme Retail" in (
        last_message(response)
    )

    body["accounts"] = [{"company": "Acme Retail", "account": "Accounts Receivable - AR"}]
    response = await client.post("/api/resource/Customer", json=body)
    assert response.status_code == 417
    group = "Accounts Receivable - AR"
    assert last_message(response) == f"Row 1: Account <strong>{group}</strong> is a Group Account"

    body["accounts"] = [{"company": "Acme Retail", "account": "Debtors - AR"}]
    assert (await client.post("/api/resource/Customer", json=body)).status_code == 200


# -- Trees (NestedSet.validate_ledger) ------------------------------------------------------------


async def test_tree_node_with_children_cannot_become_a_ledger(client, acme):
    group = {"cost_center_name": "Retail", "company": "Acme Retail", "is_group": 1}
    await insert(client, "Cost Center", {**group, "parent_cost_center": "Acme Retail - AR"})
    leaf = {"cost_center_name": "Shop", "company": "Acme Retail", "parent_cost_center": "Retail - AR"}
    await insert(client, "Cost Center", leaf)
    for doctype, name in (
        ("Warehouse", "All Warehouses - AR"),
        ("Cost Center", "Retail - AR"),
        ("Customer Group", "All Customer Groups"),
    ):
        response = await client.put(doc_url(doctype, name), json={"is_group": 0})
        assert response.status_code == 417, doctype
        assert last_message(response) == f"{doctype} {name} cannot be a leaf node as it has children"
        assert (await client.get(doc_url(doctype, name))).json()["data"]["is_group"] == 1

    leafless = await insert(
        client, "Warehouse", {"warehouse_name": "Empty", "company": "Acme Retail", "is_group": 1}
    )
    response = await client.put(doc_url("Warehouse", leafless["name"]), json={"is_group": 0})
    assert response.status_code == 200


# -- Departments (§5.5, §4.1) --------------------------------------------------------------------


async def test_company_insert_creates_its_departments_and_delete_removes_them(client, acme):
    response = await client.get(
        "/api/resource/Department",
        params=params(fields=["name", "parent_department", "company"], limit_page_length=0),
    )
    rows = {row["name"]: row for row in response.json()["data"]}
    assert rows["All Departments"] == {"name": "All Departments", "parent_department": None, "company": None}
    assert rows["Research & Development - AR"]["parent_department"] == "All Departments"
    assert {name for name, row in rows.items() if row["company"] == "Acme Retail"} == {
        f"{d} - AR"
        for d in (
            "Accounts", "Marketing", "Sales", "Purchase", "Operations", "Production", "Dispatch",
            "Customer Service", "Human Resources", "Management", "Quality Management",
            "Research & Development", "Legal",
        )
    }  # fmt: skip

    mine = await insert(client, "Department", {"department_name": "Stores", "company": "Acme Retail"})
    assert (mine["name"], mine["parent_department"]) == ("Stores - AR", "All Departments")

    assert (await client.delete(doc_url("Company", "Acme Retail"))).status_code == 202
    left = (await client.get("/api/resource/Department", params=params(limit_page_length=0))).json()["data"]
    assert left == [{"name": "All Departments"}]


# -- List queries: group_by and aggregate columns (§1.4) -----------------------------------------


async def test_group_by_with_aggregate_columns(client, beta):
    await insert(client, "Warehouse", {"warehouse_name": "Store 1", "company": "Acme Retail"})
    response = await client.get(
        "/api/resource/Warehouse",
        params=params(
            fields=["company", "count(name) as n", "max(name) as last", "sum(is_group)"],
            group_by="company",
            order_by="company asc",
        ),
    )
    assert response.status_code == 200
    assert response.json()["data"] == [
        {"company": "Acme Retail", "n": 6, "last": "Work In Progress - AR", "sum(is_group)": 1.0},
        {"company": "Beta Foods", "n": 5, "last": "Work In Progress - BF", "sum(is_group)": 1.0},
    ]


async def test_aggregate_without_group_by_is_one_row_even_over_nothing(client, acme):
    response = await client.get(
        "/api/resource/Warehouse",
        params=params(fields=["count(*) as total"], filters={"company": "Acme Retail"}),
    )
    assert response.json()["data"] == [{"total": 5}]

    response = await client.get(
        "/api/resource/Warehouse",
        params=params(fields=["count(name) as n", "min(warehouse_name) as f"], filters={"company": "Nope"}),
    )
    assert response.json()["data"] == [{"n": 0, "f": None}]


async def test_group_by_an_unknown_column_is_a_database_error(client):
    response = await client.get("/api/resource/Company", params=params(group_by="nope"))
    assert response.status_code == 500
    assert response.json()["exc_type"] == "OperationalError"


# -- frappe.client write helpers (§6.2, §1.9) ----------------------------------------------------


async def test_client_insert_set_value_save_and_delete(client, acme):
    doc = {"doctype": "Price List", "price_list_name": "AR Selling", "currency": "USD", "selling": 1}
    response = await client.post("/api/method/frappe.client.insert", json={"doc": doc})
    assert response.status_code == 200
    saved = response.json()["message"]
    assert saved["name"] == "AR Selling" and saved["buying"] == 0
    assert "price_not_uom_dependent" in saved  # as_dict(): nulls and zeros kept

    response = await client.post(
        "/api/method/frappe.client.set_value",
        json={"doctype": "Price List", "name": "AR Selling", "fieldname": "enabled", "value": 0},
    )
    assert response.status_code == 200 and response.json()["message"]["enabled"] == 0
    response = await client.post(
        "/api/method/frappe.client.set_value",
        json={"doctype": "Price List", "name": "AR Selling", "fieldname": "modified", "value": "x"},
    )
    assert response.status_code == 417 and last_message(response) == "Cannot edit standard fields"

    stale = {**saved, "buying": 1}
    response = await client.post("/api/method/frappe.client.save", json={"doc": stale})
    assert response.status_code == 417 and response.json()["exc_type"] == "TimestampMismatchError"
    current = (await client.get(doc_url("Price List", "AR Selling"))).json()["data"]
    response = await client.post("/api/method/frappe.client.save", json={"doc": {**current, "buying": 1}})
    assert response.status_code == 200 and response.json()["message"]["buying"] == 1

    assert (await client.get("/api/method/frappe.client.delete")).status_code == 403
    response = await client.delete(
        "/api/method/frappe.client.delete", params={"doctype": "Price List", "name": "AR Selling"}
    )
    assert (response.status_code, response.json()) == (200, {})
    assert (await client.get(doc_url("Price List", "AR Selling"))).status_code == 404


async def test_client_insert_of_a_child_row_appends_it_to_its_parent(client, beta):
    row = {
        "doctype": "Mode of Payment Account",
        "parenttype": "Mode of Payment",
        "parent": "Credit Card",
        "parentfield": "accounts",
        "company": "Beta Foods",
        "default_account": "Cash - BF",
    }
    response = await client.post("/api/method/frappe.client.insert", json={"doc": row})
    assert response.status_code == 200
    parent = response.json()["message"]
    assert parent["name"] == "Credit Card"
    assert [(r["company"], r["idx"]) for r in parent["accounts"]] == [("Beta Foods", 1)]

    response = await client.post(
        "/api/method/frappe.client.delete",
        json={"doctype": "Mode of Payment Account", "name": parent["accounts"][0]["name"]},
    )
    assert response.status_code == 200
    assert (await client.get(doc_url("Mode of Payment", "Credit Card"))).json()["data"]["accounts"] == []


async def test_insert_many_appends_child_rows_to_their_parents_in_one_transaction(client, beta, acme):
    def row(mode: str, company: str, account: str, **extra) -> dict:
        return {"doctype": "Mode of Payment Account", "parenttype": "Mode of Payment", "parent": mode,
                "parentfield": "accounts", "company": company, "default_account": account, **extra}

    batch = [row("Credit Card", "Beta Foods", "Cash - BF"), row("Cheque", "Beta Foods", "Cash - BF")]
    response = await client.post("/api/method/frappe.client.insert_many", json={"docs": batch})
    assert response.json() == {"message": ["Credit Card", "Cheque"]}  # the parents' names
    second = [row("Credit Card", "Acme Retail", "Cash - AR"), row("Cheque", "Acme Retail", "Cash - BF")]
    refused = await client.post("/api/method/frappe.client.insert_many", json={"docs": second})
    assert refused.status_code == 417  # Cash - BF is not Acme's: the whole batch is undone
    card = (await client.get(doc_url("Mode of Payment", "Credit Card"))).json()["data"]
    assert [(r["company"], r["idx"]) for r in card["accounts"]] == [("Beta Foods", 1)]

    incomplete = await client.post("/api/method/frappe.client.insert_many",
                                   json={"docs": [{k: v for k, v in batch[0].items() if k != "parentfield"}]})
    assert incomplete.status_code == 417
    assert last_message(incomplete) == "Parenttype, Parent and Parentfield are required to insert a child record"
    orphan = await client.post("/api/method/frappe.client.insert_many",
                               json={"docs": [row("Barter", "Acme Retail", "Cash - AR")]})
    assert orphan.status_code == 404


# -- Users (§4.11) -------------------------------------------------------------------------------


async def test_standard_users_cannot_be_disabled(client):
    for user in ("Administrator", "Guest"):
        response = await client.put(doc_url("User", user), json={"enabled": 0})
        assert response.status_code == 417
        assert last_message(response) == f"User {user} cannot be disabled"


# -- Data formats (§2.5 step 7) ------------------------------------------------------------------


async def test_phone_fields_must_hold_phone_numbers(client, acme):
    response = await client.put(doc_url("Company", "Acme Retail"), json={"phone_no": "call me maybe"})
    assert response.status_code == 417
    assert response.json()["exc_type"] == "InvalidPhoneNumberError"
    assert last_message(response) == "call me maybe is not a valid Phone Number"

    response = await client.put(doc_url("Company", "Acme Retail"), json={"phone_no": "+1 (555) 010-0200"})
    assert response.status_code == 200


# -- Request bodies (§1.3) -----------------------------------------------------------------------


async def test_json_array_body_on_create_fails_like_list_pop(client):
    response = await client.post("/api/resource/Company", json=[{"company_name": "X"}])
    assert response.status_code == 500
    body = response.json()
    assert body["exc_type"] == "TypeError"
    assert body["exception"] == "TypeError: pop expected at most 1 argument, got 2"


# -- Site-wide rate limiter (§6.6) ---------------------------------------------------------------


async def test_rate_limiter_headers_then_429_with_retry_after():
    app = create_app(rate_limit={"limit": 0.000001, "window": 86400})  # a budget of 1 µs of request time
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as guest:
        first = await guest.get("/api/method/ping")
        assert first.status_code == 200
        assert first.headers["X-RateLimit-Limit"] == "1"
        assert first.headers["X-RateLimit-Remaining"] == "1"
        assert int(first.headers["X-RateLimit-Used"]) >= 1
        assert 0 < int(first.headers["X-RateLimit-Reset"]) <= 86400
        assert "Retry-After" not in first.headers

        refused = await guest.get("/api/resource/Company", headers=AUTH)
        assert refused.status_code == 429
        assert refused.json()["exc_type"] == "TooManyRequestsError"
        assert "_server_messages" not in refused.json()
        assert refused.headers["X-RateLimit-Remaining"] == "0"
        assert refused.headers["Retry-After"] == refused.headers["X-RateLimit-Reset"]
        assert "X-RateLimit-Used" not in refused.headers


async def test_no_rate_limit_headers_unless_configured(client):
    response = await client.get("/api/method/ping")
    assert not [h for h in response.headers if h.lower().startswith("x-ratelimit")]


async def test_departments_follow_the_company_abbreviation(client):
    await create_company(client, "Zeta Labs", abbr="ZL9")
    found = await client.get(doc_url("Department", "Legal - ZL9"))
    assert found.status_code == 200
    assert found.json()["data"]["company"] == "Zeta Labs"
