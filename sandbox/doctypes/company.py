"""Company (erpnext/setup/doctype/company/company.py): abbreviation rules, defaults, cascade delete."""

from __future__ import annotations

from .. import trees
from ..context import Context
from ..errors import throw
from ..meta import DocType, check, data, email, link, phone, select
from ..store import fold
from . import company_setup
from .base import Controller

ACCOUNT_DEFAULTS = (
    ("default_bank_account", "Default Bank Account"),
    ("default_cash_account", "Default Cash Account"),
    ("default_receivable_account", "Default Receivable Account"),
    ("round_off_account", "Round Off Account"),
    ("write_off_account", "Write Off Account"),
    ("exchange_gain_loss_account", "Exchange Gain / Loss Account"),
    ("default_payable_account", "Default Payable Account"),
    ("default_expense_account", "Default Cost of Goods Sold Account"),
    ("default_income_account", "Default Income Account"),
    ("default_inventory_account", "Default Inventory Account"),
    ("stock_adjustment_account", "Stock Adjustment Account"),
    ("stock_received_but_not_billed", "Stock Received But Not Billed"),
    ("expenses_included_in_valuation", "Expenses Included In Valuation"),
    ("accumulated_depreciation_account", "Accumulated Depreciation Account"),
    ("depreciation_expense_account", "Depreciation Expense Account"),
    ("expenses_included_in_asset_valuation", "Expenses Included In Asset Valuation"),
    ("disposal_account", "Gain/Loss Account on Asset Disposal"),
    ("capital_work_in_progress_account", "Capital Work In Progress Account"),
    ("asset_received_but_not_billed", "Asset Received But Not Billed"),
)
COST_CENTER_DEFAULTS = (
    ("cost_center", "Default Cost Center"),
    ("round_off_cost_center", "Round Off Cost Center"),
    ("depreciation_cost_center", "Asset Depreciation Cost Center"),
)
# validate_default_accounts: these must be accounts of this company, in its currency.
CHECKED_DEFAULTS = (
    ("Default Bank Account", "default_bank_account"),
    ("Default Cash Account", "default_cash_account"),
    ("Default Receivable Account", "default_receivable_account"),
    ("Default Payable Account", "default_payable_account"),
    ("Default Expense Account", "default_expense_account"),
    ("Default Income Account", "default_income_account"),
    ("Stock Received But Not Billed Account", "stock_received_but_not_billed"),
    ("Stock Adjustment Account", "stock_adjustment_account"),
    ("Expense Included In Valuation Account", "expenses_included_in_valuation"),
)

META = DocType(
    "Company",
    (
        data("company_name", "Company", reqd=True, unique=True),
        data("abbr", "Abbr", reqd=True, set_only_once=True),
        link("default_currency", "Default Currency", "Currency", reqd=True),
        link("country", "Country", "Country", reqd=True),
        check("is_group", "Is Group"),
        link("parent_company", "Parent Company", "Company"),
        select(
            "create_chart_of_accounts_based_on",
            "Create Chart Of Accounts Based On",
            "Standard Template\nExisting Company",
        ),
        data("chart_of_accounts", "Chart Of Accounts Template", default="Standard"),
        link("existing_company", "Existing Company", "Company"),
        data("tax_id", "Tax ID"),
        data("domain", "Domain"),
        data("date_of_establishment", "Date of Establishment"),
        email("email", "Email"),
        phone("phone_no", "Phone No"),
        data("website", "Website"),
        *(link(fieldname, label, "Account") for fieldname, label in ACCOUNT_DEFAULTS),
        *(link(fieldname, label, "Cost Center") for fieldname, label in COST_CENTER_DEFAULTS),
        check("enable_perpetual_inventory", "Enable Perpetual Inventory", default=1),
        link("default_in_transit_warehouse", "Default In-Transit Warehouse", "Warehouse"),
        check("allow_account_creation_against_child_company", "Allow Account Creation Against Child Company"),
    ),
    autoname="field:company_name",
    tree_parent="parent_company",
)


class Company(Controller):
    """Abbreviation rules on validate; the chart, warehouses and cost centers on the first save."""

    meta = META
    allow_root_deletion = True

    def validate(self, doc: dict, ctx: Context, before: dict | None) -> None:
        validate_abbr(doc, ctx)
        validate_default_accounts(doc, ctx)
        validate_coa_input(doc)
        parent = doc["parent_company"]
        if parent and not (ctx.store.get("Company", parent) or {}).get("is_group"):
            throw("Parent Company must be a group company")

    def on_update(self, doc: dict, ctx: Context, before: dict | None) -> None:
        company_setup.on_update(doc, ctx, is_new=before is None)

    def on_trash(self, doc: dict, ctx: Context) -> None:
        trees.validate_if_child_exists(ctx.store, META, doc)
        company_setup.delete_company_records(doc, ctx)


def validate_abbr(doc: dict, ctx: Context) -> None:
    """Initials when empty, stripped, and unique among other companies (not a DB constraint)."""
    if not doc["abbr"]:
        doc["abbr"] = "".join(word[0] for word in doc["company_name"].split()).upper()
    doc["abbr"] = doc["abbr"].strip()
    if not doc["abbr"]:
        throw("Abbreviation is mandatory")
    others = [
        c for c in ctx.store.by_field("Company", "abbr", doc["abbr"]) if fold(c["name"]) != fold(doc["name"])
    ]
    if others:
        throw("Abbreviation already used for another company")


def validate_default_accounts(doc: dict, ctx: Context) -> None:
    for label, fieldname in CHECKED_DEFAULTS:
        value = doc[fieldname]
        if not value:
            continue
        account = ctx.store.get("Account", value) or {}
        if account.get("company") != doc["name"]:
            throw(f"Account {value} does not belong to company: {doc['name']}")
        if account.get("account_currency") != doc["default_currency"]:
            throw(
                f"<strong>{label}</strong> currency must be same as company's default currency. "
                "Please select another account."
            )


def validate_coa_input(doc: dict) -> None:
    if doc["create_chart_of_accounts_based_on"] == "Existing Company":
        doc["chart_of_accounts"] = None
        if not doc["existing_company"]:
            throw("Please select Existing Company for creating Chart of Accounts")
    else:
        doc["existing_company"] = None
        doc["create_chart_of_accounts_based_on"] = "Standard Template"
        doc["chart_of_accounts"] = doc["chart_of_accounts"] or "Standard"
