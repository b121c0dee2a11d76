"""POS Profile and its child tables (erpnext/accounts/doctype/pos_profile/pos_profile.py)."""

from __future__ import annotations

from urllib.parse import quote

from ..context import Context
from ..errors import throw
from ..meta import DocType, Field, check, link, select, table
from ..store import fold
from .base import Controller

PAYMENT_META = DocType(
    "POS Payment Method",
    (
        check("default", "Default"),
        check("allow_in_returns", "Allow In Returns"),
        link("mode_of_payment", "Mode of Payment", "Mode of Payment", reqd=True),
    ),
    istable=True,
)
USER_META = DocType(
    "POS Profile User", (check("default", "Default"), link("user", "User", "User")), istable=True
)
ITEM_GROUP_META = DocType(
    "POS Item Group", (link("item_group", "Item Group", "Item Group", reqd=True),), istable=True
)
CUSTOMER_GROUP_META = DocType(
    "POS Customer Group",
    (link("customer_group", "Customer Group", "Customer Group", reqd=True),),
    istable=True,
)

# Field order follows pos_profile.json (mandatory errors list fields in this order).
META = DocType(
    "POS Profile",
    (
        link("company", "Company", "Company", reqd=True),
        link("customer", "Customer", "Customer"),
        Field("country", "Country", "Read Only"),
        check("disabled", "Disabled"),
        link("warehouse", "Warehouse", "Warehouse", reqd=True),
        link("campaign", "Campaign", "Campaign"),
        link("company_address", "Company Address", "Address"),
        table("applicable_for_users", "Applicable for Users", USER_META),
        table("payments", None, PAYMENT_META, reqd=True),
        check("hide_images", "Hide Images"),
        check("hide_unavailable_items", "Hide Unavailable Items"),
        check("auto_add_item_to_cart", "Automatically Add Filtered Item To Cart"),
        check("update_stock", "Update Stock", default=1),
        check("ignore_pricing_rule", "Ignore Pricing Rule"),
        check("allow_rate_change", "Allow User to Edit Rate"),
        check("allow_discount_change", "Allow User to Edit Discount"),
        table("item_groups", "Item Groups", ITEM_GROUP_META),
        table("customer_groups", "Customer Groups", CUSTOMER_GROUP_META),
        link("print_format", "Print Format", "Print Format"),
        link("letter_head", "Letter Head", "Letter Head"),
        link("tc_name", "Terms and Conditions", "Terms and Conditions"),
        link("select_print_heading", "Print Heading", "Print Heading"),
        link("selling_price_list", "Price List", "Price List"),
        link("currency", "Currency", "Currency", reqd=True),
        link("account_for_change_amount", "Account for Change Amount", "Account"),
        link("income_account", "Income Account", "Account"),
        link("expense_account", "Expense Account", "Account"),
        link("taxes_and_charges", "Taxes and Charges", "Sales Taxes and Charges Template"),
        link("tax_category", "Tax Category", "Tax Category"),
        select("apply_discount_on", "Apply Discount On", "Grand Total\nNet Total", default="Grand Total"),
        link("write_off_account", "Write Off Account", "Account", reqd=True),
        link("write_off_cost_center", "Write Off Cost Center", "Cost Center", reqd=True),
        check("write_off_outstanding_amount_automatically", "Write Off Outstanding Amount Automatically"),
        link("cost_center", "Cost Center", "Cost Center"),
    ),
    autoname="Prompt",
)


class POSProfile(Controller):
    """Validation order of ERPNEXT.md §4.6; all of it runs before the mandatory check."""

    meta = META

    def validate(self, doc: dict, ctx: Context, before: dict | None) -> None:
        doc["country"] = (ctx.store.get("Company", doc["company"]) or {}).get("country")  # fetch_from
        validate_default_profile(doc, ctx)
        validate_all_link_fields(doc, ctx)
        validate_duplicate_groups(doc)
        validate_payment_methods(doc, ctx)


def validate_default_profile(doc: dict, ctx: Context) -> None:
    """A user may have only one default POS Profile per company."""
    for row in doc["applicable_for_users"]:
        if not row["default"] or not row["user"]:
            continue
        for other in ctx.store.by_field("POS Profile", "company", doc["company"] or ""):
            if (
                fold(other["name"]) != fold(doc["name"])
                and not other["disabled"]
                and _is_default_for(other, row["user"])
            ):
                throw(
                    f"Already set default in pos profile {other['name']} "
                    f"for user <strong>{row['user']}</strong>, kindly disabled default",
                    title="Default Set",
                )


def _is_default_for(profile: dict, user: str) -> bool:
    return any(
        row["default"] and fold(row["user"] or "") == fold(user) for row in profile["applicable_for_users"]
    )


def validate_all_link_fields(doc: dict, ctx: Context) -> None:
    """Income/expense account, cost center and warehouse must belong to the profile's company."""
    checks = (
        ("Account", doc["income_account"]),
        ("Account", doc["expense_account"]),
        ("Cost Center", doc["cost_center"]),
        ("Warehouse", doc["warehouse"]),
    )
    for doctype, value in checks:
        if value and not _belongs_to(ctx.store.get(doctype, value), doc["company"]):
            throw(f"{value} does not belong to Company {doc['company']}")


def _belongs_to(record: dict | None, company: str | None) -> bool:
    return record is not None and company is not None and fold(record["company"] or "") == fold(company)


def validate_duplicate_groups(doc: dict) -> None:
    item_groups = [row["item_group"] for row in doc["item_groups"]]
    customer_groups = [row["customer_group"] for row in doc["customer_groups"]]
    if len(item_groups) != len(set(item_groups)):
        throw("Duplicate item group found in the item group table", title="Duplicate Item Group")
    if len(customer_groups) != len(set(customer_groups)):
        throw("Duplicate customer group found in the cutomer group table", title="Duplicate Customer Group")


def validate_payment_methods(doc: dict, ctx: Context) -> None:
    payments = doc["payments"]
    if not payments:
        throw("Payment methods are mandatory. Please add at least one payment method.")
    defaults = [row for row in payments if row["default"]]
    if not defaults:
        throw("Please select a default mode of payment")
    if len(defaults) > 1:
        throw("You can only select one mode of payment as default")
    missing = [
        row["mode_of_payment"]
        for row in payments
        if not _has_account(ctx, row["mode_of_payment"], doc["company"])
    ]
    if missing:
        links = ", ".join(_link_to_form(ctx, mode) for mode in missing)
        # v15 compares the list with 1, so the plural wording is always used.
        throw(f"Please set default Cash or Bank account in Mode of Payments {links}", title="Missing Account")


def _has_account(ctx: Context, mode: str | None, company: str | None) -> bool:
    """A Mode of Payment Account row for this company with a default_account."""
    record = ctx.store.get("Mode of Payment", mode)
    if record is None or not company:
        return False
    return any(
        fold(row["company"] or "") == fold(company) and row["default_account"] for row in record["accounts"]
    )


def _link_to_form(ctx: Context, mode: str | None) -> str:
    """frappe.utils.get_link_to_form: a row without a mode links to `.../mode-of-payment/`, label "None"."""
    return f'<a href="{ctx.site_url}/app/mode-of-payment/{quote(mode or "")}">{mode}</a>'
