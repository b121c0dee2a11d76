"""The controller interface every DocType implements, and helpers controllers share."""

from __future__ import annotations

from ..context import Context
from ..errors import duplicate_entry
from ..meta import DocType
from ..records import adopt_children, new_record, stored_copy


class Controller:
    """A DocType's server-side hooks, like a Frappe controller class. The defaults do nothing.

    `before` is the stored document on a save and None on an insert.
    """

    meta: DocType
    allow_root_deletion = False  # NestedSet.on_trash(allow_root_deletion=...) for tree DocTypes

    def autoname(self, doc: dict, ctx: Context) -> str | None:
        """The name for a controller-named DocType; None falls back to the DocType's autoname."""
        return None

    def site_defaults(self, ctx: Context) -> dict:
        """Values new_doc takes from site defaults (Selling Settings, ...) for fields the body leaves out."""
        return {}

    def before_insert(self, doc: dict, ctx: Context) -> None:
        """Runs after link validation and before naming."""

    def validate(self, doc: dict, ctx: Context, before: dict | None) -> None:
        """Controller checks; they run before the framework's mandatory/select checks."""

    def on_update(self, doc: dict, ctx: Context, before: dict | None) -> None:
        """Side effects after the document is written (after_insert + on_update)."""

    def on_trash(self, doc: dict, ctx: Context) -> None:
        """Runs before the document is removed; may refuse or cascade."""


def db_set(ctx: Context, doc: dict, values: dict) -> None:
    """Document.db_set: write fields straight to the stored document, bumping `modified`."""
    doc.update(values)
    doc["modified"] = ctx.now()
    ctx.store.put(stored_copy(doc))


def company_abbr(ctx: Context, company: object) -> str | None:
    """frappe.get_cached_value("Company", company, "abbr")."""
    found = ctx.store.get("Company", company)
    return found["abbr"] if found else None


def insert_record(ctx: Context, meta: DocType, name: str, values: dict) -> dict:
    """Insert a record a controller builds itself (chart accounts, default warehouses, ...).

    Like Frappe's inserts with ignore_permissions/ignore_mandatory: the values are known to be
    valid, so only the primary key is checked.
    """
    if ctx.store.exists(meta.name, name):
        raise duplicate_entry(meta.name, name)
    record = new_record(meta, values, user=ctx.user, now=ctx.now())
    record["name"] = name
    adopt_children(record, meta)
    ctx.store.put(record)
    return record
