"""List queries: operators, child-table filters and columns, ordering, paging and the RPC variants."""

from __future__ import annotations

import pytest
from sandbox_helpers import insert, last_message, params


async def names(client, doctype: str, **query) -> list[str]:
    response = await client.get(
        f"/api/resource/{doctype}", params=params(limit_page_length=0, order_by="name asc", **query)
    )
    assert response.status_code == 200, response.text
    return [row["name"] for row in response.json()["data"]]


@pytest.fixture
async def groups(client):
    """Customer groups with distinct names for operator tests (plus the seeded ones)."""
    for name in ("Alpha", "Beta", "Gamma"):
        await insert(
            client, "Customer Group", {"customer_group_name": name, "parent_customer_group": "Commercial"}
        )


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ([["name", "=", "alpha"]], ["Alpha"]),
        ([["name", "!=", "Alpha"], ["parent_customer_group", "=", "Commercial"]], ["Beta", "Gamma"]),
        ([["name", ">", "Beta"], ["name", "<", "H"]], ["Commercial", "Gamma", "Government"]),
        ([["name", ">=", "Beta"], ["name", "<=", "Commercial"]], ["Beta", "Commercial"]),
        ([["name", "like", "%a"]], ["Alpha", "Beta", "Gamma"]),
        ([["name", "like", "_eta"]], ["Beta"]),
        ([["name", "not like", "%o%"], ["is_group", "=", 0]], ["Alpha", "Beta", "Gamma", "Individual"]),
        ([["name", "in", ["Alpha", "Gamma", "Nope"]]], ["Alpha", "Gamma"]),
        ([["name", "in", "Alpha, Beta"]], ["Alpha", "Beta"]),
        (
            [["name", "not in", ["Alpha", "Beta", "Gamma"]], ["is_group", "=", 0]],
            ["Commercial", "Government", "Individual", "Non Profit"],
        ),
        ([["parent_customer_group", "is", "not set"]], ["All Customer Groups"]),
        ([["parent_customer_group", "is", "set"], ["name", "like", "G%"]], ["Gamma", "Government"]),
        ([["name", "between", ["Beta", "Gamma"]]], ["Beta", "Commercial", "Gamma"]),
        ([["name", "descendants of", "Commercial"]], ["Alpha", "Beta", "Gamma"]),
        ([["name", "descendants of (inclusive)", "Commercial"]], ["Alpha", "Beta", "Commercial", "Gamma"]),
        ([["name", "ancestors of", "Alpha"]], ["All Customer Groups", "Commercial"]),
        ([["name", "not descendants of", "All Customer Groups"]], ["All Customer Groups"]),
        ([["is_group", "=", "1"]], ["All Customer Groups"]),
        ({"name": ["like", "g%"], "is_group": 0}, ["Gamma", "Government"]),
        ([{"name": "Beta"}], ["Beta"]),
    ],
)
async def test_operators(client, groups, filters, expected):
    assert await names(client, "Customer Group", filters=filters) == expected


async def test_timespan_previous_and_next_on_creation(client, groups):
    assert await names(
        client, "Customer Group", filters=[["creation", "timespan", "today"], ["name", "like", "%a"]]
    ) == [
        "Alpha",
        "Beta",
        "Gamma",
    ]
    assert "Alpha" in await names(client, "Customer Group", filters=[["creation", "previous", "1 week"]])
    assert await names(client, "Customer Group", filters=[["creation", "timespan", "last year"]]) == []
    assert await names(
        client, "Customer Group", filters=[["creation", "between", ["2024-01-01", "2024-01-01"]]]
    ) == [
        "All Customer Groups",
        "Commercial",
        "Government",
        "Individual",
        "Non Profit",
    ]


async def test_or_filters_are_anded_with_filters(client, groups):
    result = await names(
        client,
        "Customer Group",
        filters=[["parent_customer_group", "=", "Commercial"]],
        or_filters=[["name", "=", "Alpha"], ["name", "=", "Gamma"], ["name", "=", "Individual"]],
    )
    assert result == ["Alpha", "Gamma"]


async def test_child_table_filters_by_doctype_and_by_field(client, beta):
    await client.put(
        "/api/resource/Mode of Payment/Credit Card",
        json={"accounts": [{"company": "Beta Foods", "default_account": "Cash - BF"}]},
    )
    by_doctype = await names(
        client, "Mode of Payment", filters=[["Mode of Payment Account", "company", "=", "Beta Foods"]]
    )
    acme_only = await names(
        client, "Mode of Payment", filters=[["Mode of Payment Account", "company", "=", "Acme Retail"]]
    )
    assert by_doctype == ["Cash", "Credit Card"]
    assert acme_only == ["Cash"]


@pytest.mark.parametrize("filters", [[["company", "=", "Beta Foods"]], {"company": "Beta Foods"}])
async def test_a_child_field_without_its_doctype_is_not_permitted_in_a_client_query(client, beta, filters):
    """reportview.validate_args looks a three-item (or dict) filter up on the DocType itself: only the
    four-item form reaches a child table (QA pass 5, finding 2)."""
    response = await client.get("/api/resource/Mode of Payment", params=params(filters=filters))
    assert response.status_code == 417
    assert response.json()["exc_type"] == "DataError"
    assert last_message(response) == "Field not permitted in query: company"


async def test_conditions_on_one_child_table_must_match_the_same_row(client, beta):
    same_row = await names(
        client,
        "Mode of Payment",
        filters=[
            ["Mode of Payment Account", "company", "=", "Beta Foods"],
            ["Mode of Payment Account", "default_account", "=", "Cash - BF"],
        ],
    )
    crossed = await names(
        client,
        "Mode of Payment",
        filters=[
            ["Mode of Payment Account", "company", "=", "Beta Foods"],
            ["Mode of Payment Account", "default_account", "=", "Cash - AR"],
        ],
    )
    assert same_row == ["Cash"]
    assert crossed == []


async def test_child_columns_return_one_row_per_joined_row(client, beta):
    response = await client.get(
        "/api/resource/Mode of Payment",
        params=params(
            fields=["name", "accounts.company", "`tabMode of Payment Account`.default_account as account"],
            filters={"name": "Cash"},
        ),
    )
    assert response.json()["data"] == [
        {"name": "Cash", "company": "Acme Retail", "account": "Cash - AR"},
        {"name": "Cash", "company": "Beta Foods", "account": "Cash - BF"},
    ]


async def test_child_doctype_needs_a_parent(client, acme):
    refused = await client.get("/api/resource/Mode of Payment Account")
    assert refused.status_code == 403
    assert "Please specify a valid parent DocType" in last_message(refused)
    rows = await client.get(
        "/api/resource/Mode of Payment Account",
        params=params(parent="Mode of Payment", fields=["parent", "company", "default_account"]),
    )
    assert rows.json()["data"] == [
        {"parent": "Cash", "company": "Acme Retail", "default_account": "Cash - AR"}
    ]


async def test_list_rows_keep_nulls_and_star_returns_all_columns(client, acme):
    rows = (
        await client.get("/api/resource/Company", params=params(fields=["name", "default_bank_account"]))
    ).json()["data"]
    assert rows == [{"name": "Acme Retail", "default_bank_account": None}]
    star = (await client.get("/api/resource/Company", params=params(fields=["*"]))).json()["data"][0]
    assert star["abbr"] == "AR" and star["parent_company"] is None and star["docstatus"] == 0


async def test_as_dict_zero_returns_arrays(client, acme):
    response = await client.get("/api/resource/Company", params=params(fields=["name", "abbr"], as_dict=0))
    assert response.json() == {"data": [["Acme Retail", "AR"]]}


async def test_order_by_and_limit_alias(client, groups):
    ordered = await client.get(
        "/api/resource/Customer Group",
        params=params(order_by="is_group desc, name desc", limit=3, fields=["name"]),
    )
    assert [row["name"] for row in ordered.json()["data"]] == [
        "All Customer Groups",
        "Non Profit",
        "Individual",
    ]
    default_order = await client.get("/api/resource/Customer Group")
    assert [row["name"] for row in default_order.json()["data"]][:3] == ["Gamma", "Beta", "Alpha"]


async def test_malformed_filters(client):
    short = await client.get("/api/resource/Company", params=params(filters=[["abbr", "="]]))
    assert short.status_code == 417
    assert (
        last_message(short)
        == "Filter must have 4 values (doctype, fieldname, operator, value): ['abbr', '=']"
    )
    bad_json = await client.get("/api/resource/Company", params={"filters": "[oops"})
    assert bad_json.status_code == 500 and bad_json.json()["exc_type"] == "JSONDecodeError"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"fields": ["name", "abbrev"]}, "abbrev"),
        ({"fields": ["count(abbrev) as n"]}, "abbrev"),
        ({"fields": ["`tabCompany`.abbrev"]}, "tabCompany.abbrev"),
        ({"filters": [["abbrev", "=", "AR"]]}, "abbrev"),
        ({"filters": {"abbrev": "AR"}}, "abbrev"),
        ({"or_filters": [["abbrev", "=", "AR"]]}, "abbrev"),
        ({"filters": [["Company", "abbrev", "=", "AR"]]}, "abbrev"),
    ],
)
@pytest.mark.parametrize(
    ("path", "extra"), [("/api/resource/Company", {}), ("/api/method/frappe.client.get_list", {"doctype": "Company"})]
)
async def test_an_unknown_field_in_a_client_query_is_a_data_error(client, query, field, path, extra):
    """reportview.validate_args refuses it before any SQL runs (QA pass 5, finding 3): 417, not 500."""
    response = await client.get(path, params=params(**query, **extra))
    assert response.status_code == 417, response.text
    assert response.json()["exc_type"] == "DataError"
    assert last_message(response) == f"Field not permitted in query: {field}"


async def test_standard_and_child_columns_stay_permitted_and_order_by_is_not_checked(client, beta):
    ok = await client.get("/api/resource/Mode of Payment", params=params(
        fields=["name", "owner", "idx", "`tabMode of Payment Account`.name as row_name", "accounts.company",
                "count(name) as n"],
        filters=[["Mode of Payment Account", "idx", "=", 1], ["docstatus", "=", 0]], group_by="name"))
    assert ok.status_code == 200, ok.text
    unknown_order = await client.get("/api/resource/Company", params=params(order_by="abbrev asc"))
    assert unknown_order.status_code == 500 and unknown_order.json()["exc_type"] == "OperationalError"


async def test_frappe_client_get_value_checks_its_fields_too(client, beta):
    response = await client.get("/api/method/frappe.client.get_value", params=params(
        doctype="Company", fieldname=["abbrev"], filters={"name": "Beta Foods"}))
    assert response.status_code == 417 and response.json()["exc_type"] == "DataError"


async def test_rpc_get_list_get_count_and_get_value(client, beta):
    listed = await client.post(
        "/api/method/frappe.client.get_list",
        json={"doctype": "Company", "fields": ["name", "abbr"], "filters": {"abbr": "BF"}},
    )
    assert listed.json() == {"message": [{"name": "Beta Foods", "abbr": "BF"}]}
    counted = await client.get(
        "/api/method/frappe.client.get_count",
        params=params(doctype="Warehouse", filters={"company": "Beta Foods"}),
    )
    assert counted.json() == {"message": 5}
    value = await client.get(
        "/api/method/frappe.client.get_value",
        params={"doctype": "Company", "fieldname": "abbr", "filters": "Beta Foods"},
    )
    assert value.json() == {"message": {"abbr": "BF"}}
    bare = await client.post(
        "/api/method/frappe.client.get_value",
        json={"doctype": "Company", "fieldname": "abbr", "filters": {"abbr": "BF"}, "as_dict": False},
    )
    assert bare.json() == {"message": "BF"}
    nothing = await client.post(
        "/api/method/frappe.client.get_value",
        json={"doctype": "Company", "fieldname": "abbr", "filters": {"abbr": "ZZ"}, "as_dict": False},
    )
    assert nothing.json() == {}
