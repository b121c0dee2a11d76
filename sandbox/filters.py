"""List filters: Frappe's syntaxes parsed into predicates (frappe/utils/data.py get_filter, db_query.py).

A filter is a dict `{"field": value | [op, value]}`, or a list of `[field, op, value]`,
`[doctype, field, op, value]` (the doctype may be a child table) or one-key dicts. NULL behaves
like '' (or 0 for numbers), because Frappe wraps most columns in ifnull().
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from . import trees
from .doctypes import meta_of
from .errors import PythonError, throw
from .meta import DATETIME_TYPES, NUMERIC_TYPES, DocType
from .records import flt
from .store import Store, fold
from .timespans import relative_range, timespan_range

VALID_OPERATORS = (
    "=", "!=", ">", "<", ">=", "<=", "like", "not like", "in", "not in", "is", "between",
    "descendants of", "ancestors of", "not descendants of", "not ancestors of",
    "descendants of (inclusive)", "timespan", "previous", "next",
)  # fmt: skip
TREE_OPERATORS = (
    "descendants of",
    "ancestors of",
    "not descendants of",
    "not ancestors of",
    "descendants of (inclusive)",
)


@dataclass(frozen=True)
class Condition:
    """One compiled filter: which table's column it reads and the test applied to that value."""

    doctype: str
    fieldname: str
    operator: str
    value: object
    test: Callable[[object], bool]


def parse_json(value: object) -> object:
    """frappe.parse_json for list parameters: JSON strings are decoded, other values pass through."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise PythonError("JSONDecodeError", str(exc), module="json.decoder") from exc
    return value


def parse_filters(raw: object, meta: DocType, store: Store) -> list[Condition]:
    """All filters of one parameter (`filters` or `or_filters`) compiled against `meta`."""
    raw = parse_json(raw) if raw not in (None, "") else []
    if not raw:
        return []
    if isinstance(raw, dict):
        raw = [_from_pair(meta.name, key, value) for key, value in raw.items()]
    if not isinstance(raw, list):
        throw("Filter must be a tuple or list (in a list)")
    return [compile_filter(_as_tuple(meta.name, item), meta, store) for item in raw]


def _from_pair(doctype: str, key: str, value: object) -> list:
    """make_filter_tuple: a list value is read as [operator, value]."""
    if isinstance(value, list | tuple):
        if len(value) < 2:
            raise PythonError("IndexError", "list index out of range")
        return [doctype, key, value[0], value[1]]
    return [doctype, key, "=", value]


def _as_tuple(doctype: str, item: object) -> list:
    if isinstance(item, dict) and item:
        key, value = next(iter(item.items()))
        item = _from_pair(doctype, key, value)
    if not isinstance(item, list | tuple):
        throw("Filter must be a tuple or list (in a list)")
    if len(item) == 3:
        return [doctype, *item]
    if len(item) < 4:
        throw(f"Filter must have 4 values (doctype, fieldname, operator, value): {list(item)}")
    return list(item[:4])


def compile_filter(item: list, meta: DocType, store: Store) -> Condition:
    doctype, fieldname, operator, value = item
    operator = str(operator or "=").lower()
    if operator not in VALID_OPERATORS:
        throw("Operator must be one of " + ", ".join(VALID_OPERATORS))
    table = resolve_table(meta, doctype or meta.name, str(fieldname))
    test = make_test(operator, value, table, str(fieldname), store)
    return Condition(table.name, str(fieldname), operator, value, test)


def resolve_table(meta: DocType, doctype: str, fieldname: str) -> DocType:
    """The table holding the column: the DocType, a named child table, or a child table that has it."""
    if doctype == meta.name:
        if meta.has_column(fieldname):
            return meta
        for field in meta.table_fields:
            if field.child is not None and field.child.has_column(fieldname):
                return field.child
    else:
        for field in meta.table_fields:
            if field.child is not None and field.child.name == doctype and field.child.has_column(fieldname):
                return field.child
    raise unknown_column(f"`tab{doctype}`.`{fieldname}`", "where clause")


def unknown_column(column: str, clause: str) -> PythonError:
    """What MariaDB answers for a column that does not exist (a 500 in Frappe)."""
    return PythonError(
        "OperationalError", f"(1054, \"Unknown column '{column}' in '{clause}'\")", module="pymysql.err"
    )


def make_test(
    operator: str, value: object, table: DocType, fieldname: str, store: Store
) -> Callable[[object], bool]:
    fieldtype = table.fieldtype(fieldname)
    norm = _number if fieldtype in NUMERIC_TYPES else _text
    if operator in ("=", "!="):
        return _negate_if(operator == "!=", _equals(norm, value))
    if operator in (">", "<", ">=", "<="):
        return _compare(operator, norm, value)
    if operator in ("like", "not like"):
        return _like(operator == "not like", value)
    if operator in ("in", "not in"):
        return _negate_if(operator == "not in", _member(norm, _split_values(value)))
    if operator == "is":
        return (lambda a: a not in (None, "")) if str(value).lower() == "set" else (lambda a: a in (None, ""))
    if operator in TREE_OPERATORS:
        return _tree_test(operator, value, table, fieldname, store)
    low, high = _range(operator, value, fieldtype)
    if norm is _number:
        return lambda actual: low <= _number(actual) <= high
    return lambda actual: low <= str(actual or "") <= high


def _text(value: object) -> str:
    return fold("" if value is None else value)


def _number(value: object) -> float:
    return flt(value)


def _negate_if(negate: bool, test: Callable[[object], bool]) -> Callable[[object], bool]:
    return (lambda actual: not test(actual)) if negate else test


def _equals(norm: Callable, value: object) -> Callable[[object], bool]:
    target = norm(value)
    return lambda actual: norm(actual) == target


def _compare(operator: str, norm: Callable, value: object) -> Callable[[object], bool]:
    target = norm(value)
    tests = {
        ">": lambda a: norm(a) > target,
        "<": lambda a: norm(a) < target,
        ">=": lambda a: norm(a) >= target,
        "<=": lambda a: norm(a) <= target,
    }
    return tests[operator]


def _like(negate: bool, value: object) -> Callable[[object], bool]:
    """SQL LIKE (% and _ wildcards, case-insensitive); NULL never matches a non-empty pattern."""
    pattern = "" if value is None else str(value)
    regex = re.compile(
        "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern), re.I | re.S
    )
    if negate:
        return lambda actual: not regex.fullmatch("" if actual is None else str(actual))
    return lambda actual: (actual is not None or not pattern) and bool(regex.fullmatch(str(actual or "")))


def _split_values(value: object) -> list:
    values = value if isinstance(value, list | tuple) else str(value or "").split(",")
    stripped = [v.strip() if isinstance(v, str) else v for v in values]
    return stripped or [""]


def _member(norm: Callable, values: list) -> Callable[[object], bool]:
    targets = {norm(v) for v in values}
    return lambda actual: norm(actual) in targets


def _tree_test(
    operator: str, value: object, table: DocType, fieldname: str, store: Store
) -> Callable[[object], bool]:
    """Tree operators become `in` / `not in` over the node set (an empty set means `in ('')`)."""
    field = table.field(fieldname)
    tree = meta_of(field.options) if field is not None and field.fieldtype == "Link" else table
    if not tree.tree_parent:
        raise unknown_column("lft", "field list")
    nodes: set[str] = set()
    if value:
        if "ancestors" in operator:
            nodes = trees.ancestors(store, tree, str(value)) if store.exists(tree.name, value) else set()
        else:
            found = store.exists(tree.name, value)
            nodes = trees.descendants(store, tree, str(value)) if found else set()
            if operator.endswith("(inclusive)"):
                nodes.add(fold(value))
    test = _member(_text, list(nodes) or [""])
    return _negate_if(operator.startswith("not "), test)


def _range(operator: str, value: object, fieldtype: str) -> tuple:
    """Bounds of `between`, `timespan`, `previous` and `next`; whole days for Datetime columns."""
    if operator == "between":
        bounds = value if isinstance(value, list | tuple) else str(value or "").split(",")
        low, high = (bounds[0], bounds[1]) if len(bounds) > 1 else (bounds[0] if bounds else "", "")
        if fieldtype in NUMERIC_TYPES:
            return flt(low), flt(high)
    elif operator == "timespan":
        low, high = timespan_range(str(value))
    else:
        low, high = relative_range(str(value), forward=operator == "next")
    return _day_bounds(low, high, fieldtype)


def _day_bounds(low: object, high: object, fieldtype: str) -> tuple[str, str]:
    low_text, high_text = str(low or ""), str(high or "")
    if fieldtype == "Datetime" or (fieldtype not in DATETIME_TYPES and isinstance(low, date)):
        if len(low_text) == 10:
            low_text += " 00:00:00.000000"
        if len(high_text) == 10:
            high_text += " 23:59:59.999999"
    return low_text, high_text
