"""Account (erpnext/accounts/doctype/account/account.py)."""

from __future__ import annotations

from .. import trees
from ..context import Context
from ..errors import throw
from ..meta import DocType, Field, check, data, link, select
from ..naming import autoname_with_number
from ..store import fold
from .base import Controller, company_abbr

ROOT_TYPES = "\nAsset\nLiability\nIncome\nExpense\nEquity"
ACCOUNT_TYPES = "\n".join(
    [
        "",
        "Accumulated Depreciation",
        "Asset Received But Not Billed",
        "Bank",
        "Cash",
        "Chargeable",
        "Capital Work in Progress",
        "Cost of Goods Sold",
        "Current Asset",
        "Current Liability",
        "Depreciation",
        "Direct Expense",
        "Direct Income",
        "Equity",
        "Expense Account",
        "Expenses Included In Asset Valuation",
        "Expenses Included In Valuation",
        "Fixed Asset",
        "Income Account",
        "Indirect Expense",
        "Indirect Income",
        "Liability",
        "Payable",
        "Receivable",
        "Round Off",
        "Round Off for Opening",
        "Stock",
        "Stock Adjustment",
        "Stock Received But Not Billed",
        "Service Received But Not Billed",
        "Tax",
        "Temporary",
    ]
)
# erpnext/accounts/doctype/account/account.py get_company_default_account_fields(): an account set
# in one of these Company fields cannot be disabled.
COMPANY_DEFAULT_ACCOUNT_FIELDS = {
    "default_bank_account": "Default Bank Account",
    "default_cash_account": "Default Cash Account",
    "default_receivable_account": "Default Receivable Account",
    "default_payable_account": "Default Payable Account",
    "default_expense_account": "Default Expense Account",
    "default_income_account": "Default Income Account",
    "stock_received_but_not_billed": "Stock Received But Not Billed Account",
    "stock_adjustment_account": "Stock Adjustment Account",
    "write_off_account": "Write Off Account",
    "default_discount_account": "Default Payment Discount Account",
    "unrealized_profit_loss_account": "Unrealized Profit / Loss Account",
    "exchange_gain_loss_account": "Exchange Gain / Loss Account",
    "unrealized_exchange_gain_loss_account": "Unrealized Exchange Gain / Loss Account",
    "round_off_account": "Round Off Account",
    "default_deferred_revenue_account": "Default Deferred Revenue Account",
    "default_deferred_expense_account": "Default Deferred Expense Account",
    "accumulated_depreciation_account": "Accumulated Depreciation Account",
    "depreciation_expense_account": "Depreciation Expense Account",
    "disposal_account": "Gain/Loss Account on Asset Disposal",
}
# Types only a parent may carry ("Only Parent can be of type ...").
PARENT_ONLY_TYPES = (
    "Direct Income",
    "Indirect Income",
    "Current Asset",
    "Current Liability",
    "Direct Expense",
    "Indirect Expense",
)

META = DocType(
    "Account",
    (
        data("account_name", "Account Name", reqd=True),
        data("account_number", "Account Number"),
        check("is_group", "Is Group"),
        link("company", "Company", "Company", reqd=True),
        select("root_type", "Root Type", ROOT_TYPES),
        select("report_type", "Report Type", "\nBalance Sheet\nProfit and Loss"),
        link("account_currency", "Currency", "Currency"),
        link("parent_account", "Parent Account", "Account", reqd=True),
        select("account_type", "Account Type", ACCOUNT_TYPES),
        Field("tax_rate", "Rate", "Float"),
        select("freeze_account", "Frozen", "No\nYes"),
        select("balance_must_be", "Balance must be", "\nDebit\nCredit"),
        check("include_in_gross", "Include in gross"),
        check("disabled", "Disable"),
    ),
    tree_parent="parent_account",
)


class Account(Controller):
    """Names "[number - ]name - ABBR"; parent must be a group of the same company."""

    meta = META
    allow_root_deletion = True

    def autoname(self, doc: dict, ctx: Context) -> str | None:
        return autoname_with_number(
            doc["account_number"], doc["account_name"], company_abbr(ctx, doc["company"])
        )

    def validate(self, doc: dict, ctx: Context, before: dict | None) -> None:
        validate_parent(doc, ctx)
        validate_parent_child_account_type(doc, ctx)
        validate_root_details(doc, before)
        validate_account_number(doc, ctx)
        validate_disabled(doc, ctx, before)
        validate_group_or_ledger(doc, ctx, before)
        set_root_and_report_type(doc, ctx)
        if not doc["root_type"]:
            throw("Root Type is mandatory")
        if not doc["report_type"]:
            throw("Report Type is mandatory")
        if not doc["account_currency"]:
            doc["account_currency"] = (ctx.store.get("Company", doc["company"]) or {}).get("default_currency")

    def on_trash(self, doc: dict, ctx: Context) -> None:
        trees.on_trash(ctx.store, META, doc, allow_root_deletion=True)


def validate_parent(doc: dict, ctx: Context) -> None:
    if not doc["parent_account"]:
        return
    name, parent_name = doc["name"], doc["parent_account"]
    parent = ctx.store.get("Account", parent_name)
    if parent is None:
        throw(f"Account {name}: Parent account {parent_name} does not exist")
    elif fold(parent["name"]) == fold(name):
        throw(f"Account {name}: You can not assign itself as parent account")
    elif not parent["is_group"]:
        throw(f"Account {name}: Parent account {parent_name} can not be a ledger")
    elif fold(parent["company"]) != fold(doc["company"] or ""):
        throw(f"Account {name}: Parent account {parent_name} does not belong to company: {doc['company']}")


def validate_parent_child_account_type(doc: dict, ctx: Context) -> None:
    if doc["parent_account"] and doc["account_type"] in PARENT_ONLY_TYPES:
        parent = ctx.store.get("Account", doc["parent_account"]) or {}
        if parent.get("account_type") == doc["account_type"]:
            throw(f"Only Parent can be of type {doc['account_type']}")


def validate_root_details(doc: dict, before: dict | None) -> None:
    if before is not None and not before["parent_account"]:
        throw("Root cannot be edited.")
    if not doc["parent_account"] and not doc["is_group"]:
        throw(f"The root account <strong>{doc['name']}</strong> must be a group")


def validate_account_number(doc: dict, ctx: Context) -> None:
    """erpnext.accounts.utils.validate_field_number: unique per company."""
    number = doc["account_number"]
    if not number:
        return
    for other in ctx.store.by_field("Account", "company", doc["company"]):
        if other["account_number"] == number and fold(other["name"]) != fold(doc["name"]):
            throw(f"Account Number {number} is already used in account {other['name']}")


def validate_disabled(doc: dict, ctx: Context, before: dict | None) -> None:
    """Disabling an account the company uses as a default is refused (Account.validate_disabled).
    Lists and reads still return disabled accounts, with `disabled` 1: only ledger entries refuse them."""
    if before is None or bool(before["disabled"]) == bool(doc["disabled"]) or not doc["disabled"]:
        return
    company = ctx.store.get("Company", doc["company"]) or {}
    for fieldname, label in COMPANY_DEFAULT_ACCOUNT_FIELDS.items():
        if company.get(fieldname) == doc["name"]:
            throw(
                f"Account <strong>{doc['name']}</strong> cannot be disabled as it is already set as "
                f"<strong>{label}</strong> for <strong>{doc['company']}</strong>."
            )


def validate_group_or_ledger(doc: dict, ctx: Context, before: dict | None) -> None:
    if before is None or doc["is_group"] or not before["is_group"]:
        return
    if trees.children(ctx.store, META, doc["name"]):
        throw("Account with child nodes cannot be converted to ledger")


def set_root_and_report_type(doc: dict, ctx: Context) -> None:
    parent = ctx.store.get("Account", doc["parent_account"]) if doc["parent_account"] else None
    if parent is None:
        return
    if parent["report_type"]:
        doc["report_type"] = parent["report_type"]
    if parent["root_type"]:
        doc["root_type"] = parent["root_type"]
