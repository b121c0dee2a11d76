"""Insert, save and delete, in the order Frappe's Document runs its steps (ERPNEXT.md §2.5, §1.7, §1.8)."""

from __future__ import annotations

from . import checks, trees
from .context import Context
from .doctypes import Controller, controller_of, is_child_table
from .errors import DoesNotExistError, PermissionError, TimestampMismatchError, duplicate_entry, throw
from .linkage import check_not_linked
from .meta import DocType, Field
from .naming import name_from_field, validate_name
from .records import adopt_children, build_row, coerce, new_record, random_name, stored_copy, table_rows
from .store import fold


def insert_document(ctx: Context, doctype: str, values: dict) -> dict:
    """Document.insert: links, permission, naming, validate, framework checks, write, on_update."""
    controller = controller_for_write(doctype)
    meta = controller.meta
    doc = new_record(meta, {**controller.site_defaults(ctx), **values}, user=ctx.user, now=ctx.now())
    checks.validate_links(doc, meta, ctx.store)
    ctx.require_user(doctype)
    controller.before_insert(doc, ctx)
    doc["name"] = new_name(doc, controller, values, ctx)
    adopt_children(doc, meta)
    controller.validate(doc, ctx, None)
    checks.run_framework_checks(doc, meta, before=None)
    if ctx.store.exists(doctype, doc["name"]):
        raise duplicate_entry(doctype, doc["name"])
    checks.validate_unique(doc, meta, ctx.store)
    ctx.store.put(stored_copy(doc))
    controller.on_update(doc, ctx, None)
    return doc


def save_document(ctx: Context, doctype: str, name: str, values: dict, *, whole: bool = False) -> dict:
    """Document.save after doc.update(body): partial update; a table key replaces the whole table.

    `whole`: the body is the entire document (frappe.client.save builds it from the dict alone):
    fields left out become empty, tables left out lose their rows, and `modified` must match.
    """
    if whole:
        meta = controller_for_write(doctype).meta
        values = {f.fieldname: values.get(f.fieldname) for f in meta.fields} | {
            "modified": values.get("modified") or "None"
        }
    controller = controller_for_write(doctype)
    meta = controller.meta
    stored = read_document(ctx, doctype, name, check_permission=False)
    ctx.require_user(doctype)
    doc, lost_rows = apply_update(stored, values, meta)
    before = check_if_latest(ctx, doctype, doc, sent=values.get("modified"))
    doc.update(modified=ctx.now(), modified_by=ctx.user)
    adopt_children(doc, meta)
    checks.validate_links(doc, meta, ctx.store)
    controller.validate(doc, ctx, before)
    checks.run_framework_checks(doc, meta, before=before)
    checks.validate_unique(doc, meta, ctx.store)
    if meta.tree_parent:
        trees.validate_loop(ctx.store, meta, doc)
        trees.validate_ledger(ctx.store, meta, doc)
    ctx.store.put(without_rows(doc, lost_rows))
    controller.on_update(doc, ctx, before)
    return doc


def delete_document(ctx: Context, doctype: str, name: str) -> None:
    """frappe.delete_doc: on_trash (may cascade), remove, then refuse if anything still links here."""
    controller = controller_for_write(doctype)
    stored = read_document(ctx, doctype, name, check_permission=False)
    ctx.require_user(doctype)
    controller.on_trash(stored, ctx)
    ctx.store.remove(doctype, stored["name"])
    check_not_linked(ctx.store, doctype, stored["name"])


def read_document(ctx: Context, doctype: str, name: str, *, check_permission: bool = True) -> dict:
    """frappe.get_doc + check_permission("read"): 404 "<DocType> <name> not found" first."""
    if is_child_table(doctype):
        ctx.require_user(doctype)
        raise PermissionError(error_message=f"Insufficient Permission for {doctype}")
    controller_of(doctype)
    stored = ctx.store.get(doctype, name)
    if stored is None:
        throw(f"{doctype} {name} not found", DoesNotExistError)
    if check_permission:
        ctx.require_user(doctype)
    return stored  # type: ignore[return-value]


def controller_for_write(doctype: str) -> Controller:
    if is_child_table(doctype):
        raise PermissionError(error_message=f"Insufficient Permission for {doctype}")
    return controller_of(doctype)


def new_name(doc: dict, controller: Controller, values: dict, ctx: Context) -> str:
    """set_new_name: a sent name counts only for Prompt DocTypes; then controller, field, hash."""
    meta = controller.meta
    if meta.autoname.lower() == "prompt":
        name = values.get("name") or values.get("__newname")
        if not name:
            throw("Please set the document name")
        return validate_name(meta.name, name)
    name = controller.autoname(doc, ctx)
    if not name and meta.autoname.startswith("field:"):
        name = name_from_field(doc, meta, meta.autoname.removeprefix("field:"))
    return validate_name(meta.name, name or random_name())


def apply_update(stored: dict, values: dict, meta: DocType) -> tuple[dict, set[str]]:
    """doc.update(body) on a copy; returns it and the rows that carried names unknown to the table."""
    doc = stored_copy(stored)
    lost: set[str] = set()
    for key, value in values.items():
        field = meta.field(key)
        if field is None:
            continue
        if field.is_table:
            doc[key], lost_here = replace_rows(field, value, doc, stored[key])
            lost |= lost_here
        else:
            doc[key] = coerce(field, value)
    if values.get("name") and fold(values["name"]) != fold(stored["name"]):
        doc["name"] = str(values["name"])  # re-targets the save (clients must not send it)
    return doc, lost


def replace_rows(
    field: Field, rows: object, parent: dict, old_rows: list[dict]
) -> tuple[list[dict], set[str]]:
    """The sent rows become the table: named rows are updated in full, unnamed rows inserted.

    A row whose `name` is not in the stored table is kept in the response but never written
    (Frappe runs an UPDATE that matches nothing) — the same silent loss a real site shows.
    """
    known = {fold(row["name"]) for row in old_rows}
    new_rows, lost = [], set()
    for idx, row in enumerate(table_rows(field, rows, parent), start=1):
        given = row.get("name") or None
        new_rows.append(build_row(field, row, parent, idx, defaults=False, name=given))
        if given and fold(given) not in known:
            lost.add(fold(given))
    return new_rows, lost


def check_if_latest(ctx: Context, doctype: str, doc: dict, sent: object) -> dict:
    """Optimistic locking: a sent `modified` (or a re-targeted name) must match the stored row."""
    stored = ctx.store.get(doctype, doc["name"])
    if stored is None:
        throw("Record does not exist")
    modified = str(sent) if sent not in (None, "") else doc["modified"]
    if modified != stored["modified"]:  # type: ignore[index]
        throw(
            f"Error: Document has been modified after you have opened it ({stored['modified']}, {modified}). "  # type: ignore[index]
            "Please refresh to get the latest document.",
            TimestampMismatchError,
        )
    return stored  # type: ignore[return-value]


def without_rows(doc: dict, lost: set[str]) -> dict:
    copy = stored_copy(doc)
    if lost:
        for key, value in copy.items():
            if isinstance(value, list):
                copy[key] = [row for row in value if fold(row["name"]) not in lost]
    return copy
