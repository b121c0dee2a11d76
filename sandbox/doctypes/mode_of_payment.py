"""Mode of Payment and its child Mode of Payment Account (erpnext/accounts/doctype/mode_of_payment/)."""

from __future__ import annotations

from ..context import Context
from ..errors import throw
from ..meta import DocType, check, data, link, select, table
from ..store import fold
from .base import Controller

ACCOUNT_META = DocType(
    "Mode of Payment Account",
    (
        link("company", "Company", "Company"),
        link("default_account", "Default Account", "Account"),
    ),
    istable=True,
)

META = DocType(
    "Mode of Payment",
    (
        data("mode_of_payment", "Mode of Payment", reqd=True, unique=True),
        check("enabled", "Enabled", default=1),
        select("type", "Type", "Cash\nBank\nGeneral\nPhone"),
        table("accounts", "Accounts", ACCOUNT_META),
    ),
    autoname="field:mode_of_payment",
)


class ModeOfPayment(Controller):
    """Each account row must match its company; a company appears once; POS-used modes stay enabled."""

    meta = META

    def validate(self, doc: dict, ctx: Context, before: dict | None) -> None:
        validate(doc, ctx)


def validate(doc: dict, ctx: Context) -> None:
    """Also run by the Company insert when it appends its Cash row."""
    validate_accounts(doc, ctx)
    validate_repeating_companies(doc)
    validate_pos_mode_of_payment(doc, ctx)


def validate_accounts(doc: dict, ctx: Context) -> None:
    for row in doc["accounts"]:
        account = ctx.store.get("Account", row["default_account"])
        if (account["company"] if account else None) != row["company"]:  # links hold canonical names
            throw(
                f"Account {row['default_account']} does not match with Company {row['company']} "
                f"in Mode of Account: {doc['name']}"
            )


def validate_repeating_companies(doc: dict) -> None:
    companies = [row["company"] for row in doc["accounts"]]
    if len(companies) != len(set(companies)):
        throw("Same Company is entered more than once")


def validate_pos_mode_of_payment(doc: dict, ctx: Context) -> None:
    if doc["enabled"]:
        return
    profiles = [
        profile["name"]
        for profile in ctx.store.all("POS Profile")
        if any(fold(row["mode_of_payment"] or "") == fold(doc["name"]) for row in profile["payments"])
    ]
    if profiles:
        throw(
            f"POS Profile <strong>{', '.join(profiles)}</strong> contains Mode of Payment "
            f"<strong>{doc['name']}</strong>. Please remove them to disable this mode.",
            title="Not Allowed",
        )
