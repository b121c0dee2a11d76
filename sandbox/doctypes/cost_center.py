"""Cost Center (erpnext/accounts/doctype/cost_center/cost_center.py)."""

from __future__ import annotations

from .. import trees
from ..context import Context
from ..errors import throw
from ..meta import DocType, check, data, link
from ..naming import autoname_with_number
from ..store import fold
from .base import Controller, company_abbr

META = DocType(
    "Cost Center",
    (
        data("cost_center_name", "Cost Center Name", reqd=True),
        data("cost_center_number", "Cost Center Number"),
        link("parent_cost_center", "Parent Cost Center", "Cost Center", reqd=True),
        link("company", "Company", "Company", reqd=True),
        check("is_group", "Is Group"),
        check("disabled", "Disabled"),
    ),
    tree_parent="parent_cost_center",
)


class CostCenter(Controller):
    """Names "[number - ]name - ABBR"; only the company root may lack a parent, parents are groups."""

    meta = META

    def autoname(self, doc: dict, ctx: Context) -> str | None:
        return autoname_with_number(
            doc["cost_center_number"], doc["cost_center_name"], company_abbr(ctx, doc["company"])
        )

    def validate(self, doc: dict, ctx: Context, before: dict | None) -> None:
        validate_mandatory(doc)
        validate_parent_cost_center(doc, ctx)
        validate_cost_center_number(doc, ctx)

    def on_trash(self, doc: dict, ctx: Context) -> None:
        trees.on_trash(ctx.store, META, doc, allow_root_deletion=True)


def validate_mandatory(doc: dict) -> None:
    is_root = doc["cost_center_name"] == doc["company"]
    if not is_root and not doc["parent_cost_center"]:
        throw("Please enter parent cost center")
    elif is_root and doc["parent_cost_center"]:
        throw("Root cannot have a parent cost center")


def validate_parent_cost_center(doc: dict, ctx: Context) -> None:
    parent_name = doc["parent_cost_center"]
    if parent_name and not (ctx.store.get("Cost Center", parent_name) or {}).get("is_group"):
        throw(
            f"<strong>{parent_name}</strong> is not a group node. "
            "Please select a group node as parent cost center"
        )


def validate_cost_center_number(doc: dict, ctx: Context) -> None:
    number = doc["cost_center_number"]
    if not number:
        return
    for other in ctx.store.by_field("Cost Center", "company", doc["company"]):
        if other["cost_center_number"] == number and fold(other["name"]) != fold(doc["name"]):
            throw(f"Cost Center Number {number} is already used in cost center {other['name']}")
