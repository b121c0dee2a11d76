"""ERPNEXT.md §7: one test per item of the simulator fidelity checklist."""

from __future__ import annotations

import base64
import json

import pytest
from sandbox_helpers import AUTH, create_company, doc_url, insert, last_message, messages, params, pos_profile

ACME = {"company_name": "Acme Retail", "default_currency": "USD", "country": "United States"}


async def test_fidelity_01_ping_without_auth(guest):
    response = await guest.get("/api/method/ping")
    assert response.status_code == 200
    assert response.json() == {"message": "pong"}


async def test_fidelity_02_token_auth_names_the_user(guest):
    response = await guest.get("/api/method/frappe.auth.get_logged_user", headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {"message": "Administrator"}


async def test_fidelity_03_basic_auth_with_the_key_pair(guest):
    token = base64.b64encode(b"sandbox:sandbox").decode()
    response = await guest.get(
        "/api/method/frappe.auth.get_logged_user", headers={"Authorization": f"Basic {token}"}
    )
    assert response.status_code == 200
    assert response.json() == {"message": "Administrator"}


@pytest.mark.parametrize("header", ["token sandbox:wrongsecret", "token nobody:sandbox"])
@pytest.mark.parametrize("path", ["/api/method/ping", "/api/resource/Company"])
async def test_fidelity_04_bad_credentials_are_401_without_messages(guest, header, path):
    response = await guest.get(path, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["exc_type"] == "AuthenticationError"
    assert "_server_messages" not in response.json()


async def test_fidelity_05_guest_cannot_call_a_non_guest_method(guest):
    response = await guest.get("/api/method/frappe.auth.get_logged_user")
    assert response.status_code == 403
    assert response.json()["exc_type"] == "PermissionError"
    assert messages(response)[0]["title"] == "Method Not Allowed"
    assert "<strong>frappe.auth.get_logged_user</strong> is not whitelisted" in last_message(response)


async def _create_25_companies(client) -> None:
    for number in range(1, 26):
        await create_company(client, f"Company {number:02d}", abbr=f"C{number:02d}")


async def test_fidelity_06_list_defaults_to_20_rows_of_names(client):
    await _create_25_companies(client)
    response = await client.get("/api/resource/Company")
    assert response.status_code == 200
    rows = response.json()["data"]
    assert len(rows) == 20
    assert all(list(row) == ["name"] for row in rows)
    assert rows[0] == {"name": "Company 25"}  # modified desc


async def test_fidelity_07_page_length_zero_means_all_and_offsets_page(client):
    await _create_25_companies(client)
    everything = await client.get("/api/resource/Company", params={"limit_page_length": 0})
    assert len(everything.json()["data"]) == 25
    second_page = await client.get(
        "/api/resource/Company", params={"limit_start": 20, "limit_page_length": 20}
    )
    assert [row["name"] for row in second_page.json()["data"]] == [
        f"Company {n:02d}" for n in range(5, 0, -1)
    ]


@pytest.mark.parametrize(
    "filters",
    [{"abbr": "AR"}, [["abbr", "=", "AR"]], [["Company", "abbr", "=", "AR"]]],
    ids=["dict", "three-item", "four-item"],
)
async def test_fidelity_08_filter_forms_agree(client, beta, filters):
    response = await client.get(
        "/api/resource/Company", params=params(fields=["name", "abbr"], filters=filters)
    )
    assert response.json() == {"data": [{"name": "Acme Retail", "abbr": "AR"}]}


async def test_fidelity_09_unknown_operator_is_refused(client, acme):
    response = await client.get("/api/resource/Company", params=params(filters=[["abbr", "equals", "AR"]]))
    assert response.status_code == 417
    assert response.json()["exc_type"] == "ValidationError"
    assert last_message(response).startswith("Operator must be one of =, !=, >, <, >=, <=, like")


async def test_fidelity_10_read_omits_nulls_and_has_standard_fields(client, acme):
    response = await client.get("/api/resource/Company/Acme Retail")
    data = response.json()["data"]
    assert response.status_code == 200
    assert data["doctype"] == "Company"
    for key in ("name", "owner", "creation", "modified", "modified_by", "docstatus", "idx"):
        assert key in data
    assert None not in data.values()
    assert "parent_company" not in data and "default_bank_account" not in data


async def test_fidelity_11_missing_document_is_404(client):
    response = await client.get("/api/resource/Company/Nope")
    assert response.status_code == 404
    assert response.json()["exc_type"] == "DoesNotExistError"
    assert messages(response)[0]["message"] == "Company Nope not found"
    assert "exception" not in response.json()  # no traceback for 404


async def test_fidelity_12_company_insert_is_200_with_derived_abbr(client):
    response = await client.post("/api/resource/Company", json=ACME)
    assert response.status_code == 200
    assert response.json()["data"]["name"] == "Acme Retail"
    assert response.json()["data"]["abbr"] == "AR"


async def test_fidelity_13_data_wrapped_body_is_the_same(client):
    response = await client.post("/api/resource/Company", json={"data": ACME})
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["name"], data["abbr"], data["default_cash_account"]) == ("Acme Retail", "AR", "Cash - AR")


async def test_fidelity_14_abbreviation_clash(client, acme):
    response = await client.post("/api/resource/Company", json={**ACME, "company_name": "Acme Rentals"})
    assert response.status_code == 417
    assert response.json()["exc_type"] == "ValidationError"
    assert last_message(response) == "Abbreviation already used for another company"


async def test_fidelity_15_mandatory_fields_listed_one_message_each(client):
    response = await client.post("/api/resource/Company", json={"company_name": "Acme Retail"})
    assert response.status_code == 417
    assert response.json()["exc_type"] == "MandatoryError"
    assert [m["message"] for m in messages(response)] == [
        "Error: Value missing for Company: Default Currency",
        "Error: Value missing for Company: Country",
    ]
    assert response.json()["exception"].endswith("[Company, Acme Retail]: default_currency, country")


async def test_fidelity_16_naming_runs_before_mandatory(client):
    response = await client.post("/api/resource/Company", json={"abbr": "X"})
    assert response.status_code == 417
    assert response.json()["exc_type"] == "ValidationError"
    assert [m["message"] for m in messages(response)] == ["Company is required"]


async def test_fidelity_17_link_to_missing_country(client):
    response = await client.post("/api/resource/Company", json={**ACME, "country": "Narnia"})
    assert response.status_code == 417
    assert response.json()["exc_type"] == "LinkValidationError"
    assert last_message(response) == "Could not find Country: Narnia"


async def test_fidelity_18_standard_chart_of_accounts(client, acme):
    response = await client.get(
        "/api/resource/Account",
        params=params(
            filters=[["company", "=", "Acme Retail"]],
            fields=["name", "account_type", "is_group"],
            limit_page_length=0,
        ),
    )
    accounts = {row["name"]: (row["account_type"], row["is_group"]) for row in response.json()["data"]}
    assert accounts["Cash - AR"] == ("Cash", 0)
    assert accounts["Debtors - AR"] == ("Receivable", 0)
    assert accounts["Creditors - AR"] == ("Payable", 0)
    assert accounts["Sales - AR"] == ("", 0)
    assert accounts["Write Off - AR"] == ("", 0)
    assert accounts["Round Off - AR"] == ("Round Off", 0)
    assert accounts["Cost of Goods Sold - AR"] == ("Cost of Goods Sold", 0)
    assert accounts["Stock In Hand - AR"] == ("Stock", 0)
    assert accounts["Bank Accounts - AR"] == ("Bank", 1)
    assert not [name for name, (kind, group) in accounts.items() if kind == "Bank" and not group]


async def test_fidelity_19_company_defaults_after_insert(client, acme):
    data = (await client.get("/api/resource/Company/Acme Retail")).json()["data"]
    expected = {
        "default_cash_account": "Cash - AR",
        "default_receivable_account": "Debtors - AR",
        "default_payable_account": "Creditors - AR",
        "default_income_account": "Sales - AR",
        "write_off_account": "Write Off - AR",
        "round_off_account": "Round Off - AR",
        "cost_center": "Main - AR",
    }
    assert {key: data[key] for key in expected} == expected
    assert "default_bank_account" not in data


async def test_fidelity_20_default_warehouses(client, acme):
    response = await client.get(
        "/api/resource/Warehouse",
        params=params(
            filters={"company": "Acme Retail"},
            fields=["name", "is_group", "parent_warehouse", "warehouse_type"],
        ),
    )
    rows = {row["name"]: row for row in response.json()["data"]}
    assert set(rows) == {
        "All Warehouses - AR",
        "Stores - AR",
        "Work In Progress - AR",
        "Finished Goods - AR",
        "Goods In Transit - AR",
    }
    assert rows["All Warehouses - AR"]["is_group"] == 1
    assert rows["Goods In Transit - AR"]["warehouse_type"] == "Transit"
    for name in set(rows) - {"All Warehouses - AR"}:
        assert rows[name]["parent_warehouse"] == "All Warehouses - AR"


async def test_fidelity_21_default_cost_centers(client, acme):
    root = (await client.get("/api/resource/Cost Center/Acme Retail - AR")).json()["data"]
    main = (await client.get("/api/resource/Cost Center/Main - AR")).json()["data"]
    assert root["is_group"] == 1 and "parent_cost_center" not in root
    assert main["is_group"] == 0 and main["parent_cost_center"] == "Acme Retail - AR"


async def test_fidelity_22_warehouse_suffix_is_not_doubled(client, acme):
    first = await insert(
        client,
        "Warehouse",
        {"warehouse_name": "Store 1", "company": "Acme Retail", "parent_warehouse": "All Warehouses - AR"},
    )
    second = await insert(
        client,
        "Warehouse",
        {
            "warehouse_name": "Store 2 - AR",
            "company": "Acme Retail",
            "parent_warehouse": "All Warehouses - AR",
        },
    )
    assert first["name"] == "Store 1 - AR"
    assert second["name"] == "Store 2 - AR"


async def test_fidelity_23_duplicate_warehouse_is_409(client, acme):
    body = {"warehouse_name": "Store 1", "company": "Acme Retail", "parent_warehouse": "All Warehouses - AR"}
    await insert(client, "Warehouse", body)
    response = await client.post("/api/resource/Warehouse", json=body)
    assert response.status_code == 409
    assert response.json()["exc_type"] == "DuplicateEntryError"
    assert messages(response)[0] == {
        "message": "Warehouse <strong>Store 1 - AR</strong> already exists",
        "title": "Duplicate Name",
        "indicator": "red",
    }


async def test_fidelity_24_account_parent_must_be_a_group(client, acme):
    body = {"account_name": "Petty Cash", "company": "Acme Retail", "parent_account": "Cash - AR"}
    response = await client.post("/api/resource/Account", json=body)
    assert response.status_code == 417
    assert last_message(response) == "Account Petty Cash - AR: Parent account Cash - AR can not be a ledger"


async def test_fidelity_25_cost_center_needs_a_group_parent(client, acme):
    no_parent = await client.post(
        "/api/resource/Cost Center", json={"cost_center_name": "Shop", "company": "Acme Retail"}
    )
    assert no_parent.status_code == 417
    assert last_message(no_parent) == "Please enter parent cost center"
    ledger_parent = await client.post(
        "/api/resource/Cost Center",
        json={"cost_center_name": "Shop", "company": "Acme Retail", "parent_cost_center": "Main - AR"},
    )
    assert ledger_parent.status_code == 417
    assert last_message(ledger_parent) == (
        "<strong>Main - AR</strong> is not a group node. Please select a group node as parent cost center"
    )


async def test_fidelity_26_mode_of_payment_named_by_field_then_409(client):
    body = {"mode_of_payment": "Bank Transfer", "type": "Bank"}
    assert (await insert(client, "Mode of Payment", body))["name"] == "Bank Transfer"
    again = await client.post("/api/resource/Mode of Payment", json=body)
    assert again.status_code == 409
    assert again.json()["exc_type"] == "DuplicateEntryError"


async def test_fidelity_27_mode_of_payment_account_rows_are_checked(client, beta):
    foreign = await client.put(
        "/api/resource/Mode of Payment/Credit Card",
        json={"accounts": [{"company": "Acme Retail", "default_account": "Cash - BF"}]},
    )
    assert foreign.status_code == 417
    assert (
        last_message(foreign)
        == "Account Cash - BF does not match with Company Acme Retail in Mode of Account: Credit Card"
    )
    twice = await client.put(
        "/api/resource/Mode of Payment/Credit Card",
        json={"accounts": [{"company": "Acme Retail", "default_account": "Cash - AR"}] * 2},
    )
    assert twice.status_code == 417
    assert last_message(twice) == "Same Company is entered more than once"


async def test_fidelity_28_pos_profile_needs_a_name(client, acme):
    body = pos_profile()
    del body["name"]
    response = await client.post("/api/resource/POS Profile", json=body)
    assert response.status_code == 417
    assert last_message(response) == "Please set the document name"


async def test_fidelity_29_pos_profile_needs_exactly_one_default_payment(client, acme):
    none = await client.post(
        "/api/resource/POS Profile", json=pos_profile(payments=[{"mode_of_payment": "Cash"}])
    )
    assert none.status_code == 417
    assert last_message(none) == "Please select a default mode of payment"
    two = [{"mode_of_payment": "Cash", "default": 1}, {"mode_of_payment": "Credit Card", "default": 1}]
    many = await client.post("/api/resource/POS Profile", json=pos_profile(payments=two))
    assert many.status_code == 417
    assert last_message(many) == "You can only select one mode of payment as default"


async def test_fidelity_30_payment_modes_need_an_account_for_the_company(client, acme):
    payments = [{"mode_of_payment": "Cash", "default": 1}, {"mode_of_payment": "Credit Card"}]
    response = await client.post("/api/resource/POS Profile", json=pos_profile(payments=payments))
    assert response.status_code == 417
    note = messages(response)[-1]
    assert note["message"].startswith("Please set default Cash or Bank account in Mode of Payments")
    assert "Credit Card" in note["message"] and "/app/mode-of-payment/Credit%20Card" in note["message"]
    assert "Cash<" not in note["message"]
    assert note["title"] == "Missing Account"


async def test_fidelity_31_pos_warehouse_must_belong_to_the_company(client, beta):
    response = await client.post("/api/resource/POS Profile", json=pos_profile(warehouse="Stores - BF"))
    assert response.status_code == 417
    assert last_message(response) == "Stores - BF does not belong to Company Acme Retail"


async def test_fidelity_32_pos_write_off_fields_are_mandatory(client, acme):
    body = pos_profile()
    del body["write_off_account"], body["write_off_cost_center"]
    response = await client.post("/api/resource/POS Profile", json=body)
    assert response.status_code == 417
    assert response.json()["exc_type"] == "MandatoryError"
    assert [m["message"] for m in messages(response)] == [
        "Error: Value missing for POS Profile: Write Off Account",
        "Error: Value missing for POS Profile: Write Off Cost Center",
    ]
    assert response.json()["exception"].endswith("write_off_account, write_off_cost_center")


async def test_fidelity_33_valid_pos_profile_has_proper_child_rows(client, acme):
    data = await insert(client, "POS Profile", pos_profile())
    assert data["name"] == "AR Store 1"
    row = data["payments"][0]
    assert (row["parenttype"], row["parentfield"], row["idx"], row["parent"]) == (
        "POS Profile",
        "payments",
        1,
        "AR Store 1",
    )
    assert row["doctype"] == "POS Payment Method" and len(row["name"]) == 10


async def test_fidelity_34_price_list_must_buy_or_sell(client):
    refused = await client.post(
        "/api/resource/Price List", json={"price_list_name": "AR Selling", "currency": "USD"}
    )
    assert refused.status_code == 417
    assert last_message(refused) == "Price List must be applicable for Buying or Selling"
    created = await insert(
        client, "Price List", {"price_list_name": "AR Selling", "currency": "USD", "selling": 1}
    )
    assert created["name"] == "AR Selling"


async def test_fidelity_35_user_named_by_lower_cased_email(client):
    body = {"email": "Admin@Acme.test", "first_name": "Ada", "send_welcome_email": 0}
    assert (await insert(client, "User", body))["name"] == "admin@acme.test"
    again = await client.post("/api/resource/User", json=body)
    assert again.status_code == 409
    assert again.json()["exc_type"] == "DuplicateEntryError"
    assert messages(again)[0]["message"] == "User <strong>admin@acme.test</strong> already exists"


async def test_fidelity_36_user_permission_rules(client, acme):
    await insert(client, "User", {"email": "admin@acme.test", "first_name": "Ada", "send_welcome_email": 0})
    body = {"user": "admin@acme.test", "allow": "Company", "for_value": "Acme Retail"}
    created = await insert(client, "User Permission", body)
    assert len(created["name"]) == 10 and created["apply_to_all_doctypes"] == 1
    again = await client.post("/api/resource/User Permission", json=body)
    assert again.status_code == 409
    assert again.json()["exc_type"] == "DuplicateEntryError"
    assert last_message(again) == "User permission already exists"
    missing = await client.post("/api/resource/User Permission", json={**body, "for_value": "Nope"})
    assert missing.status_code == 417
    assert last_message(missing) == "Could not find For Value: Nope"


async def test_fidelity_37_abbr_is_set_only_once(client, acme):
    response = await client.put("/api/resource/Company/Acme Retail", json={"abbr": "XX"})
    assert response.status_code == 417
    assert response.json()["exc_type"] == "CannotChangeConstantError"
    assert last_message(response) == "Value cannot be changed for <strong>Abbr</strong>"


async def test_fidelity_38_insert_many_refuses_get(client):
    response = await client.get("/api/method/frappe.client.insert_many")
    assert response.status_code == 403
    assert response.json()["exc_type"] == "PermissionError"
    assert last_message(response) == "Not permitted"


async def test_fidelity_39_insert_many_limit_and_all_or_nothing(client):
    too_many = [{"doctype": "Customer Group", "customer_group_name": f"G{n}"} for n in range(201)]
    refused = await client.post("/api/method/frappe.client.insert_many", json={"docs": too_many})
    assert refused.status_code == 417
    assert last_message(refused) == "Only 200 inserts allowed in one request"
    batch = [
        {"doctype": "Customer Group", "customer_group_name": "Retail"},
        {"doctype": "Customer Group", "customer_group_name": "Wholesale"},
        {"doctype": "Customer Group", "customer_group_name": "Bad", "parent_customer_group": "Nope"},
    ]
    failed = await client.post("/api/method/frappe.client.insert_many", json={"docs": json.dumps(batch)})
    assert 400 <= failed.status_code < 500
    for name in ("Retail", "Wholesale"):
        assert (await client.get(doc_url("Customer Group", name))).status_code == 404


async def test_fidelity_40_get_value_without_a_match_is_empty(client):
    response = await client.get(
        "/api/method/frappe.client.get_value",
        params={"doctype": "Company", "fieldname": '["abbr"]', "filters": '{"name":"Nope"}'},
    )
    assert response.status_code == 200
    assert response.json() == {"message": {}}
