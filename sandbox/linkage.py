"""Which documents link to a document, so a delete can be refused with LinkExistsError (§1.8)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from .doctypes import CONTROLLERS
from .errors import LinkExistsError, throw
from .store import Store, fold


@dataclass(frozen=True)
class LinkRef:
    """A Link field of `source` (inside child table `table` when set) that can point at a DocType."""

    source: str
    fieldname: str
    table: str | None = None
    dynamic: str | None = None  # for Dynamic Links: the field holding the target DocType


@cache
def incoming_links(target: str) -> tuple[LinkRef, ...]:
    refs = []
    for controller in CONTROLLERS.values():
        meta = controller.meta
        refs += [
            LinkRef(meta.name, f.fieldname)
            for f in meta.fields
            if f.fieldtype == "Link" and f.options == target
        ]
        refs += [
            LinkRef(meta.name, f.fieldname, dynamic=f.options)
            for f in meta.fields
            if f.fieldtype == "Dynamic Link"
        ]
        for table in meta.table_fields:
            assert table.child is not None
            refs += [
                LinkRef(meta.name, f.fieldname, table=table.fieldname)
                for f in table.child.fields
                if f.fieldtype == "Link" and f.options == target
            ]
    return tuple(refs)


def check_not_linked(store: Store, doctype: str, name: str) -> None:
    """check_if_doc_is_linked + check_if_doc_is_dynamically_linked, run after on_trash."""
    for ref in incoming_links(doctype):
        found = _first_reference(store, ref, doctype, name)
        if found is not None:
            source_name, row = found
            where = f"at Row: {row}" if row else ""
            throw(
                f"Cannot delete or cancel because {doctype} {_desk_link(doctype, name)} is linked with "
                f"{ref.source} {_desk_link(ref.source, source_name)} {where}",
                LinkExistsError,
            )


def _first_reference(store: Store, ref: LinkRef, doctype: str, name: str) -> tuple[str, int | None] | None:
    key = fold(name)
    if ref.table is None:
        for doc in store.by_field(ref.source, ref.fieldname, name):
            if ref.dynamic is None or doc[ref.dynamic] == doctype:
                return doc["name"], None
        return None
    for doc in store.all(ref.source):
        for row in doc[ref.table]:
            if row[ref.fieldname] is not None and fold(row[ref.fieldname]) == key:
                return doc["name"], row["idx"]
    return None


def _desk_link(doctype: str, name: str) -> str:
    return f'<a href="/app/{doctype.lower().replace(" ", "-")}/{name}">{name}</a>'
