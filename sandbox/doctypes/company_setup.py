"""What inserting (and deleting) a Company does to other DocTypes (ERPNEXT.md §5, §4.1).

Source: Company.on_update / create_default_accounts / create_default_warehouses /
create_default_cost_center / set_default_accounts / set_mode_of_payment_account / on_trash.
"""

from __future__ import annotations

from ..chart import ChartAccount, standard_accounts
from ..context import Context
from ..errors import LinkValidationError, throw
from ..records import build_row, stored_copy
from ..store import fold
from . import mode_of_payment
from .account import META as ACCOUNT_META
from .base import db_set, insert_record
from .cost_center import META as COST_CENTER_META
from .department import META as DEPARTMENT_META
from .warehouse import META as WAREHOUSE_META

DEFAULT_WAREHOUSES = (
    ("All Warehouses", 1, None),
    ("Stores", 0, None),
    ("Work In Progress", 0, None),
    ("Finished Goods", 0, None),
    ("Goods In Transit", 0, "Transit"),
)
ROOT_DEPARTMENT = "All Departments"
DEFAULT_DEPARTMENTS = (
    "Accounts", "Marketing", "Sales", "Purchase", "Operations", "Production", "Dispatch", "Customer Service",
    "Human Resources", "Management", "Quality Management", "Research & Development", "Legal",
)  # fmt: skip
# _set_default_account on a new company: the first ledger of this account_type.
DEFAULTS_BY_TYPE = {
    "default_cash_account": "Cash",
    "default_bank_account": "Bank",
    "round_off_account": "Round Off",
    "accumulated_depreciation_account": "Accumulated Depreciation",
    "depreciation_expense_account": "Depreciation",
    "capital_work_in_progress_account": "Capital Work in Progress",
    "asset_received_but_not_billed": "Asset Received But Not Billed",
    "expenses_included_in_asset_valuation": "Expenses Included In Asset Valuation",
    "default_expense_account": "Cost of Goods Sold",
}
PERPETUAL_DEFAULTS_BY_TYPE = {
    "stock_received_but_not_billed": "Stock Received But Not Billed",
    "default_inventory_account": "Stock",
    "stock_adjustment_account": "Stock Adjustment",
    "expenses_included_in_valuation": "Expenses Included In Valuation",
}
# Filled on every save while empty, found by account name.
DEFAULTS_BY_NAME = {
    "write_off_account": ("Write Off",),
    "exchange_gain_loss_account": ("Exchange Gain/Loss",),
    "disposal_account": ("Gain/Loss on Asset Disposal",),
}


def on_update(doc: dict, ctx: Context, *, is_new: bool) -> None:
    """Company.on_update, in ERPNext's order."""
    if not ctx.store.by_field("Account", "company", doc["name"]):
        create_default_accounts(doc, ctx)
        create_default_warehouses(doc, ctx)
    set_default_accounts(doc, ctx, is_new=is_new)
    if doc["default_cash_account"]:
        set_mode_of_payment_account(doc, ctx)
    enable_currency(doc["default_currency"], ctx)
    if not any(not cc["is_group"] for cc in ctx.store.by_field("Cost Center", "company", doc["name"])):
        create_default_cost_center(doc, ctx)
    if not ctx.store.by_field("Department", "company", doc["name"]):
        create_default_departments(doc, ctx)


def create_default_accounts(doc: dict, ctx: Context) -> None:
    chart = copied_chart(doc, ctx) if doc["existing_company"] else standard_accounts()
    names: dict[str, str] = {}
    for account in chart:
        names[account.account_name] = insert_account(doc, ctx, account, names.get(account.parent_name or ""))
    ledgers = _ledgers(doc, ctx)
    db_set(
        ctx,
        doc,
        {
            "default_receivable_account": _first_of_type(ledgers, "Receivable"),
            "default_payable_account": _first_of_type(ledgers, "Payable"),
        },
    )


def insert_account(doc: dict, ctx: Context, account: ChartAccount, parent: str | None) -> str:
    number = f"{account.account_number} - " if account.account_number else ""
    name = f"{number}{account.account_name} - {doc['abbr']}"
    values = {
        "account_name": account.account_name,
        "account_number": account.account_number,
        "company": doc["name"],
        "parent_account": parent,
        "is_group": account.is_group,
        "root_type": account.root_type,
        "report_type": account.report_type,
        "account_type": account.account_type,
        "account_currency": doc["default_currency"],
    }
    return insert_record(ctx, ACCOUNT_META, name, values)["name"]


def copied_chart(doc: dict, ctx: Context) -> list[ChartAccount]:
    """Chart "based on Existing Company": that company's accounts, parents first."""
    accounts = sorted(
        ctx.store.by_field("Account", "company", doc["existing_company"]), key=lambda a: a["creation"]
    )
    by_name = {fold(a["name"]): a["account_name"] for a in accounts}
    return [
        ChartAccount(
            a["account_name"],
            by_name.get(fold(a["parent_account"] or "")),
            a["is_group"],
            a["root_type"],
            a["account_type"],
            a["account_number"],
        )
        for a in accounts
    ]


def create_default_warehouses(doc: dict, ctx: Context) -> None:
    abbr = doc["abbr"]
    for warehouse_name, is_group, warehouse_type in DEFAULT_WAREHOUSES:
        name = f"{warehouse_name} - {abbr}"
        if ctx.store.exists("Warehouse", name):
            continue
        if warehouse_type and not ctx.store.exists("Warehouse Type", warehouse_type):
            throw(f"Could not find Warehouse Type: {warehouse_type}", LinkValidationError)
        insert_record(
            ctx,
            WAREHOUSE_META,
            name,
            {
                "warehouse_name": warehouse_name,
                "is_group": is_group,
                "company": doc["name"],
                "parent_warehouse": None if is_group else f"All Warehouses - {abbr}",
                "warehouse_type": warehouse_type,
            },
        )


def create_default_cost_center(doc: dict, ctx: Context) -> None:
    root, main = f"{doc['name']} - {doc['abbr']}", f"Main - {doc['abbr']}"
    insert_record(
        ctx, COST_CENTER_META, root, {"cost_center_name": doc["name"], "company": doc["name"], "is_group": 1}
    )
    insert_record(
        ctx,
        COST_CENTER_META,
        main,
        {
            "cost_center_name": "Main",
            "company": doc["name"],
            "is_group": 0,
            "parent_cost_center": root,
        },
    )
    db_set(ctx, doc, {"cost_center": main, "round_off_cost_center": main, "depreciation_cost_center": main})


def create_default_departments(doc: dict, ctx: Context) -> None:
    """The shared root "All Departments" (once per site), then "<department> - ABBR" under it."""
    if not ctx.store.exists("Department", ROOT_DEPARTMENT):
        insert_record(
            ctx, DEPARTMENT_META, ROOT_DEPARTMENT, {"department_name": ROOT_DEPARTMENT, "is_group": 1}
        )
    for department in DEFAULT_DEPARTMENTS:
        name = f"{department} - {doc['abbr']}"
        if not ctx.store.exists("Department", name):
            values = {"department_name": department, "parent_department": ROOT_DEPARTMENT}
            insert_record(ctx, DEPARTMENT_META, name, {**values, "company": doc["name"]})


def set_default_accounts(doc: dict, ctx: Context, *, is_new: bool) -> None:
    ledgers = _ledgers(doc, ctx)
    values: dict[str, str | None] = {}
    if is_new:
        by_type = DEFAULTS_BY_TYPE | (PERPETUAL_DEFAULTS_BY_TYPE if doc["enable_perpetual_inventory"] else {})
        for fieldname, account_type in by_type.items():
            found = _first_of_type(ledgers, account_type)
            if not doc[fieldname] and found:
                values[fieldname] = found
    if not doc["default_income_account"]:
        values["default_income_account"] = _first_income(ledgers)
    for fieldname, account_names in DEFAULTS_BY_NAME.items():
        if not doc[fieldname]:
            values[fieldname] = next((a["name"] for a in ledgers if a["account_name"] in account_names), None)
    if values:
        db_set(ctx, doc, values)


def set_mode_of_payment_account(doc: dict, ctx: Context) -> None:
    """Give the first Cash-type Mode of Payment a row for this company (so "Cash" works in POS)."""
    cash_modes = sorted(
        (m for m in ctx.store.all("Mode of Payment") if m["type"] == "Cash"),
        key=lambda m: m["modified"],
        reverse=True,
    )
    if not cash_modes or any(
        fold(r["company"] or "") == fold(doc["name"]) for r in cash_modes[0]["accounts"]
    ):
        return
    mode = stored_copy(cash_modes[0])
    mode["modified"], mode["modified_by"] = ctx.now(), ctx.user
    accounts_field = mode_of_payment.META.field("accounts")
    assert accounts_field is not None
    row = {"company": doc["name"], "default_account": doc["default_cash_account"]}
    mode["accounts"].append(
        build_row(accounts_field, row, mode, len(mode["accounts"]) + 1, defaults=False, name=None)
    )
    mode_of_payment.validate(mode, ctx)
    ctx.store.put(mode)


def enable_currency(currency: str, ctx: Context) -> None:
    record = ctx.store.get("Currency", currency)
    if record is not None and not record["enabled"]:
        ctx.store.put({**record, "enabled": 1, "modified": ctx.now(), "modified_by": ctx.user})


def delete_company_records(doc: dict, ctx: Context) -> None:
    """Company.on_trash with no GL or stock entries: a raw delete that leaves parents' `modified` alone."""
    for doctype in ("Account", "Cost Center", "Warehouse", "Department"):
        for record in ctx.store.by_field(doctype, "company", doc["name"]):
            ctx.store.remove(doctype, record["name"])
    for doctype, fieldname in (
        ("Mode of Payment", "accounts"),
        ("Customer", "accounts"),
        ("Customer Group", "accounts"),
    ):
        _drop_rows(ctx, doctype, fieldname, doc["name"])


def _drop_rows(ctx: Context, doctype: str, fieldname: str, company: str) -> None:
    for record in ctx.store.all(doctype):
        kept = [row for row in record[fieldname] if fold(row["company"] or "") != fold(company)]
        if len(kept) != len(record[fieldname]):
            ctx.store.put({**record, fieldname: [dict(row) for row in kept]})


def _ledgers(doc: dict, ctx: Context) -> list[dict]:
    accounts = ctx.store.by_field("Account", "company", doc["name"])
    return sorted((a for a in accounts if not a["is_group"]), key=lambda a: a["creation"])


def _first_of_type(ledgers: list[dict], account_type: str) -> str | None:
    return next((a["name"] for a in ledgers if a["account_type"] == account_type), None)


def _first_income(ledgers: list[dict]) -> str | None:
    found = (
        a
        for a in ledgers
        if a["account_name"] in ("Sales", "Sales Account") or a["account_type"] == "Income Account"
    )
    return next((a["name"] for a in found), None)
