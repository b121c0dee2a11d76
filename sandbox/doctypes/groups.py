"""Tree masters: Customer Group, Territory and Item Group (erpnext/setup/doctype/...)."""

from __future__ import annotations

from .. import trees
from ..context import Context
from ..errors import throw
from ..meta import DocType, check, data, link, table
from .base import Controller
from .customer import PARTY_ACCOUNT_META

CUSTOMER_GROUP_META = DocType(
    "Customer Group",
    (
        data("customer_group_name", "Customer Group Name", reqd=True, unique=True),
        link("parent_customer_group", "Parent Customer Group", "Customer Group"),
        check("is_group", "Is Group"),
        link("default_price_list", "Default Price List", "Price List"),
        link("payment_terms", "Default Payment Terms Template", "Payment Terms Template"),
        table("accounts", "Accounts", PARTY_ACCOUNT_META),
    ),
    autoname="field:customer_group_name",
    tree_parent="parent_customer_group",
)

TERRITORY_META = DocType(
    "Territory",
    (
        data("territory_name", "Territory Name", reqd=True, unique=True),
        link("parent_territory", "Parent Territory", "Territory"),
        check("is_group", "Is Group"),
        link("territory_manager", "Territory Manager", "Sales Person"),
    ),
    autoname="field:territory_name",
    tree_parent="parent_territory",
)

ITEM_GROUP_META = DocType(
    "Item Group",
    (
        data("item_group_name", "Item Group Name", reqd=True, unique=True),
        link("parent_item_group", "Parent Item Group", "Item Group"),
        check("is_group", "Is Group"),
    ),
    autoname="field:item_group_name",
    tree_parent="parent_item_group",
)


class TreeMaster(Controller):
    """A missing parent defaults to the root ("All Customer Groups", ...); roots cannot be deleted."""

    def validate(self, doc: dict, ctx: Context, before: dict | None) -> None:
        parent_field = self.meta.tree_parent or ""
        if not doc[parent_field]:
            root = trees.root_of(ctx.store, self.meta)
            doc[parent_field] = root if root and root != doc["name"] else None

    def on_trash(self, doc: dict, ctx: Context) -> None:
        trees.on_trash(ctx.store, self.meta, doc)


class CustomerGroup(TreeMaster):
    meta = CUSTOMER_GROUP_META

    def on_update(self, doc: dict, ctx: Context, before: dict | None) -> None:
        if ctx.store.exists("Customer", doc["name"]):
            throw("A customer with the same name already exists")


class Territory(TreeMaster):
    meta = TERRITORY_META


class ItemGroup(TreeMaster):
    meta = ITEM_GROUP_META
