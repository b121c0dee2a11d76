"""Customer (erpnext/selling/doctype/customer/customer.py), with Selling Settings "Customer Name" naming."""

from __future__ import annotations

import re

from .. import trees
from ..context import Context
from ..errors import NameError, throw
from ..meta import DocType, check, data, email, link, select, table
from ..store import fold
from .base import Controller

PARTY_ACCOUNT_META = DocType(
    "Party Account",
    (
        link("company", "Company", "Company", reqd=True),
        link("account", "Default Account", "Account"),
        link("advance_account", "Advance Account", "Account"),
    ),
    istable=True,
)

META = DocType(
    "Customer",
    (
        data("customer_name", "Customer Name", reqd=True),
        select(
            "customer_type", "Customer Type", "Company\nIndividual\nPartnership", reqd=True, default="Company"
        ),
        link("customer_group", "Customer Group", "Customer Group", reqd=True),
        link("territory", "Territory", "Territory", reqd=True),
        link("account_manager", "Account Manager", "User"),
        link("default_currency", "Billing Currency", "Currency"),
        link("default_price_list", "Default Price List", "Price List"),
        check("is_internal_customer", "Is Internal Customer"),
        link("represents_company", "Represents Company", "Company"),
        data("website", "Website"),
        data("tax_id", "Tax ID"),
        link("tax_category", "Tax Category", "Tax Category"),
        email("email_id", "Email Id"),
        data("mobile_no", "Mobile No"),
        link("payment_terms", "Default Payment Terms Template", "Payment Terms Template"),
        table("accounts", "Accounts", PARTY_ACCOUNT_META),
        check("disabled", "Disabled"),
        check("is_frozen", "Is Frozen"),
    ),
)

_TRAILING_NUMBER = re.compile(r"^\d+")


class Customer(Controller):
    """A taken customer_name is renamed "<name> - <n+1>" with a note, never refused."""

    meta = META

    def site_defaults(self, ctx: Context) -> dict:
        """Selling Settings' customer_group / territory (the tree roots after the setup wizard)."""
        return {
            fieldname: root
            for fieldname, doctype in (("customer_group", "Customer Group"), ("territory", "Territory"))
            if (root := trees.root_of(ctx.store, meta_of_tree(doctype))) is not None
        }

    def autoname(self, doc: dict, ctx: Context) -> str | None:
        name = doc["customer_name"]
        if name is None or not ctx.store.exists("Customer", name):
            return name
        new_name = f"{name} - {_highest_suffix(ctx, name) + 1}"
        ctx.msgprint(
            f"Changed customer name to '{new_name}' as '{name}' already exists.",
            title="Note",
            indicator="yellow",
        )
        return new_name

    def validate(self, doc: dict, ctx: Context, before: dict | None) -> None:
        validate_party_accounts(doc, ctx)

    def on_update(self, doc: dict, ctx: Context, before: dict | None) -> None:
        if ctx.store.exists("Customer Group", doc["name"]):
            throw(
                "A Customer Group exists with same name please change the Customer name "
                "or rename the Customer Group",
                NameError,
            )


def validate_party_accounts(doc: dict, ctx: Context) -> None:
    """erpnext.accounts.party.validate_party_accounts: one row per company, accounts of that company."""
    companies: list[str] = []
    for row in doc["accounts"]:
        if fold(row["company"] or "") in companies:
            throw(f"There can only be 1 Account per Company in {doc['doctype']} {doc['name']}")
        companies.append(fold(row["company"] or ""))
        for fieldname, context in (("account", ""), ("advance_account", "Advance Account")):
            if row[fieldname]:
                validate_account_head(ctx, row["idx"], row[fieldname], row["company"], context)


def validate_account_head(ctx: Context, idx: int, account: str, company: str | None, context: str) -> None:
    """erpnext.controllers.accounts_controller.validate_account_head."""
    record = ctx.store.get("Account", account) or {}
    if record.get("company") != company:
        throw(
            f"Row {idx}: {context} Account <strong>{account}</strong> does not belong to Company "
            f"<strong>{company}</strong>",
            title="Invalid Account",
        )
    if record.get("is_group"):
        throw(f"Row {idx}: Account <strong>{account}</strong> is a Group Account", title="Invalid Account")


def meta_of_tree(doctype: str) -> DocType:
    from .groups import CUSTOMER_GROUP_META, TERRITORY_META  # groups imports this module

    return CUSTOMER_GROUP_META if doctype == "Customer Group" else TERRITORY_META


def _highest_suffix(ctx: Context, name: str) -> int:
    """MAX(CAST(SUBSTRING_INDEX(name, ' ', -1) AS UNSIGNED)) over names LIKE '%<name> - %'."""
    needle = fold(f"{name} - ")
    highest = 0
    for other in ctx.store.all("Customer"):
        if needle in fold(other["name"]):
            digits = _TRAILING_NUMBER.match(other["name"].split(" ")[-1])
            highest = max(highest, int(digits.group()) if digits else 0)
    return highest
