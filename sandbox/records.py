"""Building, coercing and serialising documents (Frappe's new_doc, get_valid_dict and as_dict)."""

from __future__ import annotations

import secrets

from .errors import PythonError, throw
from .meta import NUMERIC_TYPES, DocType, Field


def random_name() -> str:
    """Frappe's hash naming: 10 random hex characters (child rows, User Permission)."""
    return secrets.token_hex(5)


def cint(value: object) -> int:
    """frappe.utils.cint: anything unparsable is 0."""
    try:
        return int(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0


def flt(value: object) -> float:
    """frappe.utils.flt: strips thousands separators, anything unparsable is 0.0."""
    if isinstance(value, str):
        value = value.replace(",", "")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def sbool(value: object) -> object:
    """frappe.utils.data.sbool: "true"/"1" and "false"/"0" become booleans, anything else stays."""
    if isinstance(value, str):
        if value.lower() in ("true", "1"):
            return True
        if value.lower() in ("false", "0"):
            return False
    return value


def coerce(field: Field, value: object) -> object:
    """The value as the database would store it: Check 0/1, Int, Float, text as strings."""
    if field.fieldtype == "Check":
        return 1 if cint(value) else 0
    if field.fieldtype == "Int":
        return cint(value)
    if field.fieldtype in NUMERIC_TYPES:
        return flt(value)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list | dict):
        throw(f"Value for {field.label or field.fieldname} cannot be a list")
    if isinstance(value, bool):
        return str(int(value))
    return str(value)


def default_of(field: Field) -> object:
    """The default new_doc applies: the field's default, else a Select's first option."""
    if field.default is not None:
        return field.default
    if field.fieldtype == "Select" and field.options:
        return field.select_options[0]
    return None


def standard_fields(user: str, now: str) -> dict:
    return {
        "name": None,
        "owner": user,
        "creation": now,
        "modified": now,
        "modified_by": user,
        "docstatus": 0,
        "idx": 0,
    }


def new_record(meta: DocType, values: dict, *, user: str, now: str) -> dict:
    """A new document of `meta` built from `values`: defaults first, unknown keys dropped."""
    doc = standard_fields(user, now)
    for field in meta.fields:
        if field.is_table:
            doc[field.fieldname] = new_rows(field, values.get(field.fieldname), doc)
        else:
            raw = values[field.fieldname] if field.fieldname in values else default_of(field)
            doc[field.fieldname] = coerce(field, raw)
    doc["doctype"] = meta.name
    return doc


def new_rows(field: Field, rows: object, parent: dict) -> list[dict]:
    """Child rows for an insert: defaults applied, fresh names (sent names are discarded)."""
    return [
        build_row(field, row, parent, idx, defaults=True, name=None)
        for idx, row in enumerate(table_rows(field, rows, parent), start=1)
    ]


def table_rows(field: Field, rows: object, parent: dict) -> list:
    """The rows sent for a Table field; anything but a list of dicts fails like Frappe's extend()."""
    if rows is None:
        return []
    if not isinstance(rows, list):
        rows = [rows]
    for row in rows:
        if not isinstance(row, dict):
            raise PythonError(
                "ValueError",
                f'Document for field "{field.fieldname}" attached to child table of "{parent.get("name")}" '
                f"must be a dict or BaseDocument, not {str(type(row))[1:-1]} ({row})",
            )
    return rows


def build_row(
    field: Field, values: dict, parent: dict, idx: int, *, defaults: bool, name: str | None
) -> dict:
    """One child row of `field` under `parent` at position `idx`."""
    child = field.child
    assert child is not None, f"{field.fieldname} is not a table"
    row = standard_fields(
        values.get("owner") or parent["owner"], values.get("creation") or parent["creation"]
    )
    row.update(
        name=name or random_name(), modified=parent["modified"], modified_by=parent["modified_by"], idx=idx
    )
    for column in child.fields:
        given = column.fieldname in values
        raw = values[column.fieldname] if given else (default_of(column) if defaults else None)
        row[column.fieldname] = coerce(column, raw)
    row.update(parent=parent.get("name"), parentfield=field.fieldname, parenttype=parent.get("doctype"))
    row["doctype"] = child.name
    return row


def adopt_children(doc: dict, meta: DocType) -> None:
    """Point every child row at its parent (after naming) and share the parent's timestamps."""
    for field in meta.table_fields:
        for row in doc[field.fieldname]:
            row.update(parent=doc["name"], parenttype=meta.name, modified=doc["modified"])
            row["modified_by"] = doc["modified_by"]


def stored_copy(doc: dict) -> dict:
    """A private copy to hand to the store (the in-flight document keeps changing).

    Values are scalars except child tables, so copying rows one level deep is enough (and much
    cheaper than deepcopy for Mode of Payment "Cash", which gains a row per company).
    """
    return {
        key: [dict(row) for row in value] if isinstance(value, list) else value for key, value in doc.items()
    }


def as_response(doc: dict) -> dict:
    """A single-document response: null-valued keys omitted, tables always present (§1.5)."""
    out = {}
    for key, value in doc.items():
        if value is None:
            continue
        out[key] = [without_nulls(row) for row in value] if isinstance(value, list) else value
    return out


def without_nulls(row: dict) -> dict:
    return {key: value for key, value in row.items() if value is not None}
