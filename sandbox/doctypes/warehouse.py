"""Warehouse and Warehouse Type (erpnext/stock/doctype/warehouse/)."""

from __future__ import annotations

from .. import trees
from ..context import Context
from ..errors import throw
from ..meta import DocType, Field, check, data, email, link, phone
from .base import Controller, company_abbr

META = DocType(
    "Warehouse",
    (
        data("warehouse_name", "Warehouse Name", reqd=True),
        check("is_group", "Is Group Warehouse"),
        link("parent_warehouse", "Parent Warehouse", "Warehouse"),
        check("is_rejected_warehouse", "Is Rejected Warehouse"),
        link("account", "Account", "Account"),
        link("company", "Company", "Company", reqd=True),
        check("disabled", "Disabled"),
        link("warehouse_type", "Warehouse Type", "Warehouse Type"),
        link("default_in_transit_warehouse", "Default In-Transit Warehouse", "Warehouse"),
        email("email_id", "Email Address"),
        phone("phone_no", "Phone No"),
        phone("mobile_no", "Mobile No"),
        data("address_line_1", "Address Line 1"),
        data("address_line_2", "Address Line 2"),
        data("city", "City"),
        data("state", "State/Province"),
        data("pin", "PIN"),
    ),
    tree_parent="parent_warehouse",
)

TYPE_META = DocType("Warehouse Type", (Field("description", "Description", "Small Text"),), autoname="Prompt")


class Warehouse(Controller):
    """Named "<warehouse_name> - ABBR" unless it already ends so; the parent is not checked (v15)."""

    meta = META

    def autoname(self, doc: dict, ctx: Context) -> str | None:
        if doc["company"]:
            suffix = " - " + company_abbr(ctx, doc["company"])  # type: ignore[operator]
            if not doc["warehouse_name"].endswith(suffix):  # case-sensitive, as in ERPNext
                return doc["warehouse_name"] + suffix
        return doc["warehouse_name"]

    def on_trash(self, doc: dict, ctx: Context) -> None:
        if trees.children(ctx.store, META, doc["name"]):
            throw("Child warehouse exists for this warehouse. You can not delete this warehouse.")


class WarehouseType(Controller):
    """Prompt-named; the Company insert needs "Transit"."""

    meta = TYPE_META
