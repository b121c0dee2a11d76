"""Department (erpnext/setup/doctype/department/department.py): a tree named "<name> - ABBR"."""

from __future__ import annotations

from .. import trees
from ..context import Context
from ..meta import DocType, check, data, link
from .base import Controller, company_abbr

META = DocType(
    "Department",
    (
        data("department_name", "Department", reqd=True),
        link("parent_department", "Parent Department", "Department"),
        link("company", "Company", "Company", reqd=True),
        check("is_group", "Is Group"),
        check("disabled", "Disabled"),
    ),
    tree_parent="parent_department",
)


class Department(Controller):
    """The root keeps its plain name; every other department gets the company's ABBR appended."""

    meta = META

    def autoname(self, doc: dict, ctx: Context) -> str | None:
        root = trees.root_of(ctx.store, META)
        if root and doc["department_name"] != root:
            return f"{doc['department_name']} - {company_abbr(ctx, doc['company'])}"
        return doc["department_name"]

    def validate(self, doc: dict, ctx: Context, before: dict | None) -> None:
        if not doc["parent_department"]:
            root = trees.root_of(ctx.store, META)
            doc["parent_department"] = root if root and root != doc["name"] else None

    def on_trash(self, doc: dict, ctx: Context) -> None:
        trees.on_trash(ctx.store, META, doc)
