"""The field check of a client list query (frappe/desk/reportview.py `validate_args`, v15).

`frappe.client.get_list` (so `GET /api/resource/<DocType>` and `frappe.client.get_value`) checks every
field named in `fields`, `filters` and `or_filters` against the DocType's own fields before any SQL
runs: a field that is neither standard nor on the DocType is 417 DataError "Field not permitted in
query: <field>". A three-item filter (or a dict key) is looked up on the DocType itself, so only the
four-item form `[ChildDocType, field, op, value]` (or a `tabChild.field` / `table_field.field`
column) reaches a child table. `order_by` and `group_by` are not checked here: an unknown column
there still fails in the database (500). Queries Frappe runs internally (DatabaseQuery) skip this
check, and still resolve a bare field to a child table.
"""

from __future__ import annotations

import re

from .doctypes import meta_of
from .errors import DataError, throw
from .filters import parse_json
from .meta import CHILD_FIELDS, STANDARD_FIELDS, DocType

OPTIONAL_FIELDS = ("_user_tags", "_comments", "_assign", "_liked_by", "_seen")
STANDARD = frozenset((*STANDARD_FIELDS, "doctype", *OPTIONAL_FIELDS, *CHILD_FIELDS))
AGGREGATE = re.compile(r"^\s*(?:count|sum|avg|min|max)\s*\(\s*(?:distinct\s+)?(.+?)\s*\)\s*$", re.IGNORECASE)


def validate_args(meta: DocType, fields: list, filters: object, or_filters: object) -> None:
    """Raise DataError for the first field that is not permitted (fields first, then filters)."""
    if not (len(fields) == 1 and str(fields[0]).strip() == "*"):  # the wildcard: the permitted fields
        for item in fields:
            _check_column(meta, _fieldname_of(str(item)))
    for raw in (filters, or_filters):
        parsed = parse_json(raw) if raw not in (None, "") else None
        if parsed:
            _check_filters(meta, parsed)


def _fieldname_of(item: str) -> str:
    """The column a `fields` item reads: the alias dropped, an aggregate's argument, quotes removed."""
    expression = re.split(r"\s+as\s+", item.strip(), maxsplit=1, flags=re.IGNORECASE)[0]
    aggregate = AGGREGATE.match(expression)
    if aggregate is not None:
        expression = aggregate.group(1)
    return expression.replace("`", "").strip()


def _check_column(meta: DocType, column: str) -> None:
    if column == "*":  # count(*) and the like (not a named field)
        return
    table, _, fieldname = column.rpartition(".")
    if _is_standard(fieldname):
        return
    owner = _table_of(meta, table) if table else meta
    if owner is None or owner.field(fieldname) is None:
        raise_invalid_field(column)


def _table_of(meta: DocType, table: str) -> DocType | None:
    """`table_field.x` names the child DocType of that Table field; `tabChild DocType.x` names it directly."""
    field = meta.field(table)
    if field is not None and field.is_table:
        return field.child
    if table.startswith("tab"):
        try:
            return meta_of(table.removeprefix("tab"))
        except Exception:  # noqa: BLE001 - an unknown table is not a permitted field either
            return None
    return None


def _check_filters(meta: DocType, filters: object) -> None:
    if isinstance(filters, dict):
        for key in filters:
            _check_column(meta, str(key))
        return
    if not isinstance(filters, list):
        return  # parse_filters answers the wrong shape as Frappe does
    for condition in filters:
        if isinstance(condition, list | tuple) and len(condition) == 3:
            _check_column(meta, str(condition[0]))
        elif isinstance(condition, list | tuple) and len(condition) >= 4:
            _check_four(str(condition[0] or meta.name), str(condition[1]))
        elif isinstance(condition, dict):
            for key in condition:
                _check_column(meta, str(key))


def _check_four(doctype: str, fieldname: str) -> None:
    if _is_standard(fieldname):
        return
    try:
        owner = meta_of(doctype)
    except Exception:  # noqa: BLE001 - the query itself reports an unknown DocType
        return
    if owner.field(fieldname) is None:
        raise_invalid_field(fieldname)


def _is_standard(fieldname: str) -> bool:
    return fieldname in STANDARD


def raise_invalid_field(fieldname: str) -> None:
    throw(f"Field not permitted in query: {fieldname}", DataError)
