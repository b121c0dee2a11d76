"""List queries (frappe.client.get_list / frappe.model.db_query), counts and get_value, in memory.

Child-table filters and columns behave like Frappe's LEFT JOIN: all conditions on one child
table must hold for the same row. Rows are returned once per parent unless a child column is
selected (then once per joined row). Aggregate columns (`count(name) as n`, sum/avg/min/max)
fold the matching rows into one row, or one row per `group_by` value, as SQL does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import product

from .context import Context
from .doctypes import meta_of
from .errors import PermissionError, throw
from .filters import Condition, parse_filters, parse_json, unknown_column
from .meta import NUMERIC_TYPES, DocType
from .permitted_fields import validate_args
from .records import cint
from .store import INDEXED_FIELDS, fold

DEFAULT_ORDER = "modified desc"
AGGREGATE = re.compile(r"^(count|sum|avg|min|max)\s*\(\s*(distinct\s+)?(.+?)\s*\)$", re.IGNORECASE)


@dataclass(frozen=True)
class ListArgs:
    """The arguments of frappe.client.get_list the sandbox honours (`debug` is ignored)."""

    doctype: str
    fields: object = None
    filters: object = None
    or_filters: object = None
    order_by: object = None
    limit_start: object = 0
    limit_page_length: object = 20
    as_dict: bool = True
    parent: object = None
    group_by: object = None
    validate: bool = False  # a client's query (frappe.client.get_list): fields checked first (permitted_fields.py)


@dataclass(frozen=True)
class Column:
    """A selected column: the table it is read from and the key it is returned under."""

    doctype: str
    fieldname: str
    alias: str
    function: str | None = None  # count, sum, avg, min or max
    distinct: bool = False


@dataclass(frozen=True)
class Query:
    meta: DocType
    columns: tuple[Column, ...]
    where: tuple[Condition, ...]
    any_of: tuple[Condition, ...]
    joins: tuple[tuple[str, str], ...]  # (child DocType, table fieldname)
    group_by: tuple[Column, ...] = ()

    @property
    def aggregated(self) -> bool:
        return bool(self.group_by) or any(c.function for c in self.columns)


def get_list(ctx: Context, args: ListArgs) -> list:
    meta = readable_meta(ctx, args.doctype, args.parent)
    if args.validate:
        validate_args(meta, parse_fields(args.fields), args.filters, args.or_filters)
    query = build_query(ctx, meta, args.fields, args.filters, args.or_filters, args.group_by)
    joined = any(c.doctype != meta.name for c in query.columns + query.group_by)
    matches = run(ctx, query, args.parent, per_row=joined)
    sort_rows(matches, meta, args.order_by)
    rows = aggregate(query, matches) if query.aggregated else [values_of(query, d, c) for d, c in matches]
    start, length = cint(args.limit_start), cint(args.limit_page_length)
    page = rows[start : start + length] if length > 0 else rows[start:]
    return [dict(row) if args.as_dict else [value for _, value in row] for row in page]


def get_count(ctx: Context, doctype: str, filters: object) -> int:
    meta = readable_meta(ctx, doctype, None)
    query = build_query(ctx, meta, None, filters, None)
    return len(run(ctx, query, None, per_row=False))


def readable_meta(ctx: Context, doctype: str, parent: object) -> DocType:
    """Unknown DocType → 404; child tables need a valid `parent`; Guest → 403."""
    meta = meta_of(doctype)
    if meta.istable and not _holds_child(parent, doctype):
        throw(f"Please specify a valid parent DocType for <strong>{doctype}</strong>", PermissionError)
    ctx.require_user(str(parent) if meta.istable else doctype, listing=True)
    return meta


def _holds_child(parent: object, doctype: str) -> bool:
    if not isinstance(parent, str) or not parent:
        return False
    try:
        parent_meta = meta_of(parent)
    except Exception:  # noqa: BLE001 - an unknown parent is simply not valid here
        return False
    return any(field.options == doctype for field in parent_meta.table_fields)


def build_query(
    ctx: Context, meta: DocType, fields: object, filters: object, or_filters: object, group_by: object = None
) -> Query:
    columns = tuple(parse_columns(meta, fields))
    where = tuple(parse_filters(filters, meta, ctx.store))
    any_of = tuple(parse_filters(or_filters, meta, ctx.store))
    groups = tuple(parse_group_by(meta, group_by))
    used = {c.doctype for c in columns + groups} | {c.doctype for c in where + any_of}
    joins = tuple((f.options, f.fieldname) for f in meta.table_fields if f.options in used)
    return Query(meta, columns, where, any_of, joins, groups)


def parse_group_by(meta: DocType, group_by: object) -> list[Column]:
    """`group_by`: one or more comma-separated columns ("company", "`tabX`.`company`")."""
    if not group_by:
        return []
    columns: list[Column] = []
    for part in str(group_by).split(","):
        if part.strip():
            columns += _columns_of(meta, part.strip(), clause="group statement")
    return columns


def parse_columns(meta: DocType, fields: object) -> list[Column]:
    raw = parse_fields(fields)
    columns: list[Column] = []
    for item in raw:
        columns += _columns_of(meta, str(item))
    return columns


def parse_fields(fields: object) -> list:
    """db_query.parse_args: JSON list, or a comma-separated string; empty → ["name"]."""
    if isinstance(fields, str):
        try:
            fields = parse_json(fields)
        except Exception:  # noqa: BLE001 - not JSON: a comma-separated list, as Frappe accepts
            fields = [part.strip() for part in fields.split(",")]
    if isinstance(fields, str):
        fields = [fields]
    selected = [f for f in (fields or []) if f]
    return selected or ["name"]


def _columns_of(meta: DocType, item: str, clause: str = "field list") -> list[Column]:
    expression, _, alias = item.partition(" as ") if " as " in item else item.partition(" AS ")
    expression = expression.strip().replace("`", "")
    if expression == "*":
        return [Column(meta.name, name, name) for name in meta.column_names]
    function = AGGREGATE.match(expression)
    if function is not None:
        name, distinct, argument = function.groups()
        label = alias.strip() or item.strip()  # MariaDB labels an unaliased expression by its text
        if argument == "*" and name.lower() == "count" and not distinct:
            return [Column(meta.name, "*", label, "count")]
        inner = _columns_of(meta, argument, clause)[0]
        return [Column(inner.doctype, inner.fieldname, label, name.lower(), bool(distinct))]
    table, _, fieldname = expression.rpartition(".")
    doctype = _table_doctype(meta, table) if table else meta.name
    if doctype is None or not meta_of(doctype).has_column(fieldname):
        raise unknown_column(expression, clause)
    return [Column(doctype, fieldname, alias.strip() or fieldname)]


def _table_doctype(meta: DocType, table: str) -> str | None:
    """`tabX` names a table; a bare word is a table fieldname ("accounts.company")."""
    if table.startswith("tab"):
        doctype = table.removeprefix("tab")
        return doctype if doctype == meta.name or doctype in [f.options for f in meta.table_fields] else None
    field = meta.field(table)
    return field.options if field is not None and field.is_table else None


def run(ctx: Context, query: Query, parent: object, *, per_row: bool) -> list[tuple[dict, dict]]:
    """Every (document, joined child rows) pair that satisfies the filters."""
    matches = []
    for doc in candidates(ctx, query, parent):
        for combo in combos(doc, query.joins):
            if _satisfies(query, doc, combo):
                matches.append((doc, combo))
                if not per_row:
                    break
    return matches


def candidates(ctx: Context, query: Query, parent: object) -> list[dict]:
    """The documents worth testing: child rows of `parent`, an index hit, or the whole table."""
    meta, store = query.meta, ctx.store
    if meta.istable:
        tables = [f.fieldname for f in meta_of(str(parent)).table_fields if f.options == meta.name]
        return [row for doc in store.all(str(parent)) for fieldname in tables for row in doc[fieldname]]
    for cond in query.where:
        if (
            cond.doctype == meta.name
            and cond.operator == "="
            and cond.value not in (None, "")
            and not isinstance(cond.value, list | dict)
        ):
            if cond.fieldname == "name":
                found = store.get(meta.name, cond.value)
                return [found] if found else []
            if cond.fieldname in INDEXED_FIELDS and meta.fieldtype(cond.fieldname) not in NUMERIC_TYPES:
                return store.by_field(meta.name, cond.fieldname, cond.value)
    return store.all(meta.name)


def combos(doc: dict, joins: tuple[tuple[str, str], ...]) -> Iterator[dict]:
    """LEFT JOIN of each referenced child table (a parent without rows joins one NULL row)."""
    if not joins:
        yield {}
        return
    tables = [doc[fieldname] or [None] for _, fieldname in joins]
    for rows in product(*tables):
        yield {doctype: row for (doctype, _), row in zip(joins, rows, strict=True)}


def _satisfies(query: Query, doc: dict, combo: dict) -> bool:
    if not all(cond.test(_value(query, doc, combo, cond.doctype, cond.fieldname)) for cond in query.where):
        return False
    return not query.any_of or any(
        cond.test(_value(query, doc, combo, cond.doctype, cond.fieldname)) for cond in query.any_of
    )


def _value(query: Query, doc: dict, combo: dict, doctype: str, fieldname: str) -> object:
    if doctype == query.meta.name:
        return doc.get(fieldname)
    row = combo.get(doctype)
    return row.get(fieldname) if row else None


def sort_rows(matches: list[tuple[dict, dict]], meta: DocType, order_by: object) -> None:
    """ORDER BY on the DocType's columns (stable sorts, last key first); NULLs first ascending."""
    for fieldname, descending in reversed(parse_order_by(meta, order_by)):
        numeric = meta.fieldtype(fieldname) in NUMERIC_TYPES
        matches.sort(key=lambda pair, f=fieldname: _sort_key(pair[0].get(f), numeric), reverse=descending)


def parse_order_by(meta: DocType, order_by: object) -> list[tuple[str, bool]]:
    text = str(order_by).strip() if order_by else DEFAULT_ORDER
    keys = []
    for part in text.split(","):
        tokens = part.replace("`", "").split()
        if not tokens:
            continue
        fieldname = tokens[0].rpartition(".")[2]
        if not meta.has_column(fieldname):
            raise unknown_column(tokens[0], "order clause")
        keys.append((fieldname, len(tokens) > 1 and tokens[1].lower() == "desc"))
    return keys


def _sort_key(value: object, numeric: bool) -> tuple:
    if value is None:
        return (0,)
    return (1, value) if numeric else (1, fold(value))


def values_of(query: Query, doc: dict, combo: dict) -> list[tuple[str, object]]:
    """A result row: exactly the requested columns, nulls kept (§1.4)."""
    return [(c.alias, _value(query, doc, combo, c.doctype, c.fieldname)) for c in query.columns]


def aggregate(query: Query, matches: list[tuple[dict, dict]]) -> list[list[tuple[str, object]]]:
    """GROUP BY: one row per distinct group value (in the order the sorted rows reach them), or a
    single row over every match when only aggregates are asked for (even over no rows at all)."""
    groups: dict[tuple, list[tuple[dict, dict]]] = {}
    for doc, combo in matches:
        key = tuple(_group_key(_value(query, doc, combo, c.doctype, c.fieldname)) for c in query.group_by)
        groups.setdefault(key, []).append((doc, combo))
    if not query.group_by and not groups:
        groups[()] = []
    return [
        [(c.alias, _column_over(query, c, members)) for c in query.columns] for members in groups.values()
    ]


def _group_key(value: object) -> object:
    return None if value is None else fold(value)


def _column_over(query: Query, column: Column, members: list[tuple[dict, dict]]) -> object:
    """One column of a grouped row: an aggregate over the members, or the first member's value."""
    if column.fieldname == "*":
        return len(members)
    values = [_value(query, doc, combo, column.doctype, column.fieldname) for doc, combo in members]
    if column.function is None:
        return values[0] if values else None
    present = [v for v in values if v is not None]
    if column.distinct:
        present = list({_group_key(v): v for v in present}.values())
    numeric = meta_of(column.doctype).fieldtype(column.fieldname) in NUMERIC_TYPES
    if column.function == "count":
        return len(present)
    if not present:
        return None
    if column.function in ("sum", "avg"):
        total = sum(float(v) if numeric else _as_number(v) for v in present)
        return total if column.function == "sum" else total / len(present)
    pick = min if column.function == "min" else max
    return pick(present, key=lambda v: _sort_key(v, numeric))


def _as_number(value: object) -> float:
    """MariaDB's implicit cast of text to a number: the leading numeric part, else 0."""
    found = re.match(r"\s*[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?", str(value))
    return float(found.group()) if found else 0.0


def get_value(ctx: Context, doctype: str, fieldname: object, filters: object, as_dict: bool) -> object:
    """frappe.client.get_value: the first match's fields, {} (or None) when nothing matches."""
    try:
        fields = parse_json(fieldname)
    except Exception:  # noqa: BLE001 - a plain field name, not JSON
        fields = [fieldname]
    fields = fields if isinstance(fields, list) else [fields]
    filters = _safe_filters(filters)
    rows = get_list(
        ctx,
        ListArgs(doctype, fields=fields, filters=filters or None, limit_page_length=1, as_dict=as_dict, validate=True),
    )
    if as_dict:
        return rows[0] if rows else {}
    if not rows:
        return None
    return rows[0] if len(fields) > 1 else rows[0][0]


def _safe_filters(filters: object) -> object:
    """get_safe_filters: JSON when it parses; a plain string is a document name."""
    if isinstance(filters, str):
        try:
            filters = parse_json(filters)
        except Exception:  # noqa: BLE001 - a plain name
            return {"name": filters}
        if isinstance(filters, int | float | str):
            return {"name": str(filters)}
    return filters
